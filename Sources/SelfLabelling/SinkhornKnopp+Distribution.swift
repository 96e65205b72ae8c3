import Distributed

/// Sinkhorn-Knopp across the ranks of an MPI job (`SinkhornKnoppSolver(options:communicator:)`).
///
/// The single-process solver already splits the rows into fixed blocks (`SinkhornLayout`, at most 64, set by N
/// alone) and adds the blocks' float64 cluster sums and errors in block order, which is what makes its labels
/// independent of the thread count. Across ranks the same blocks are split: rank r of R computes the contiguous
/// blocks `[G·r/R, G·(r+1)/R)` and reads only their rows. After each pass every rank's block sums are gathered
/// to every rank (`MPI_Allgatherv`, G × kp float64 per iteration, whatever R) and added in the same block
/// order, so every iterate — and hence the labels and every diagnostic — is bit-identical to the
/// single-process solve of the same scores. An allreduce of the rank sums would move only kp values but add
/// them in an order that depends on R. The other global quantities are exact whatever the order: column
/// shifts and c0's range are maxima/minima, kept-entry counts integers.
///
/// Per-row state (`c'`, row shifts and offsets) keeps its global indexing (N float64 per buffer on every rank);
/// only the rank's rows are computed. The stored dense matrix and the truncated entries hold the rank's rows only.
extension SinkhornKnoppSolver {
    /// The rows rank `rank` of `ranks` reads and labels in an N-sample problem (contiguous; empty when there
    /// are more ranks than row blocks).
    public static func rows(samples n: Int, rank: Int, ranks: Int) -> Range<Int> {
        SinkhornLayout(samples: n, rank: rank, ranks: ranks).ownedRows
    }

    /// Whether the solve is split over more than one rank.
    var isDistributed: Bool { communicator.size > 1 }

    /// The layout of an N-sample problem with this rank's blocks.
    func layout(samples n: Int) -> SinkhornLayout {
        SinkhornLayout(samples: n, rank: communicator.rank, ranks: communicator.size)
    }

    /// Gathers every block's `stride` values (block b at `buffer + b · stride`) from the rank that computed it
    /// to every rank. Nothing to do in a single process.
    func shareBlocks<T: CommunicatedScalar>(_ buffer: UnsafeMutablePointer<T>, stride: Int,
                                            layout: SinkhornLayout) throws {
        guard isDistributed else { return }
        let r = communicator.size
        let counts = (0..<r).map { layout.blocks(ofRank: $0, ranks: r).count * stride }
        try communicator.allgather(buffer, counts: counts)
    }

    /// Per-block integers (`Int` slots) gathered to every rank.
    func shareBlocks(_ values: inout [Int], layout: SinkhornLayout) throws {
        guard isDistributed else { return }
        var wide = values.map(Int64.init)
        try wide.withUnsafeMutableBufferPointer { try shareBlocks($0.baseAddress!, stride: 1, layout: layout) }
        values = wide.map(Int.init)
    }

    /// Whether `condition` holds on every rank (a decision every rank must take alike).
    func everywhere(_ condition: Bool) throws -> Bool {
        guard isDistributed else { return condition }
        return try communicator.allreduce(Int32(condition ? 1 : 0), .min) == 1
    }

    /// The rank that computes block `b`.
    func owner(ofBlock b: Int, layout: SinkhornLayout) -> Int {
        let r = communicator.size
        return (0..<r).first { layout.blocks(ofRank: $0, ranks: r).contains(b) } ?? 0
    }
}
