import Tensors

/// The memory a Sinkhorn-Knopp solve needs, computed before anything large is allocated.
public struct SinkhornMemoryPlan: Sendable, Equatable {
    /// Samples N.
    public var samples: Int
    /// Clusters K.
    public var clusters: Int
    /// K rounded up to a multiple of 16 (the stored row length).
    public var paddedClusters: Int
    /// Bytes of the stored dense matrix: N x paddedClusters x element size (0 where it is streamed,
    /// `SinkhornOptions.streamsDenseMatrix(bytes:)`).
    public var matrixBytes: Int
    /// Where the truncated method applies (`SinkhornOptions.truncation`): the most bytes its kept entries may
    /// take before the solve switches to the dense method (whose matrix is then checked and allocated).
    public var truncatedBytes: Int?
    /// Bytes of everything else: row scalings and offsets, per-block cluster sums, per-thread buffers, labels.
    public var workBytes: Int
    /// Total bytes needed: the kept entries' worst case where the truncated method applies, else the dense
    /// matrix, plus the work buffers.
    public var totalBytes: Int { (truncatedBytes ?? matrixBytes) + workBytes }

    /// The plan for an N x K problem under `options`.
    public init(samples n: Int, clusters k: Int, options: SinkhornOptions) {
        samples = n
        clusters = k
        paddedClusters = (k + 15) / 16 * 16
        let stored = n * paddedClusters * options.elementBytes
        matrixBytes = options.streamsDenseMatrix(bytes: stored) ? 0 : stored
        truncatedBytes = SinkhornTruncatedMatrix.applies(options, clusters: k)
            ? SinkhornTruncatedMatrix.worstCaseBytes(samples: n, clusters: k, density: SinkhornTruncatedMatrix.plannedDensity)
            : nil
        let blocks = SinkhornLayout(samples: n).blockCount
        workBytes = 7 * n * 8 + blocks * paddedClusters * 8 + 2 * max(options.threads, 1) * paddedClusters * 8
            + n * 8 + 12 * paddedClusters * 8
    }

    /// `MemAvailable` from `/proc/meminfo` in bytes (nil where it cannot be read).
    public static func systemAvailableBytes() -> Int? { ResourceUsage.availableMemoryBytes }

    /// Throws `SinkhornError.insufficientMemory` when the plan does not fit in `available` bytes, naming the
    /// smallest-element storage that would fit (if any) under `.f32` precision with the dense method.
    public func check(available: Int, options: SinkhornOptions) throws {
        if totalBytes <= available { return }
        var fitting: SinkhornStorage? = nil
        for storage in [SinkhornStorage.f32, .bf16, .f16]
        where truncatedBytes != nil || storage.byteSize < options.elementBytes {
            var o = options
            o.precision = .f32
            o.storage = storage
            o.truncation = .off
            o.denseRows = .stored
            if SinkhornMemoryPlan(samples: samples, clusters: clusters, options: o).totalBytes <= available {
                fitting = storage
                break
            }
        }
        throw SinkhornError.insufficientMemory(needed: totalBytes, available: available, fittingStorage: fitting)
    }
}

/// Fixed row blocks of a problem: they depend only on N, so sums combined block by block in index order give
/// the same result for any thread count — and, with the blocks split between ranks (`ownedBlocks`) and every
/// block's sums gathered to every rank, for any rank count.
struct SinkhornLayout {
    /// Rows per block (a multiple of 4, at least 256).
    let blockRows: Int
    /// Number of blocks.
    let blockCount: Int
    let samples: Int
    /// The blocks this process computes: all of them in a single process; rank r of R takes the contiguous
    /// blocks `[G·r/R, G·(r+1)/R)` (see `SinkhornKnoppSolver.rows(samples:rank:ranks:)`).
    let ownedBlocks: Range<Int>

    init(samples n: Int, rank: Int = 0, ranks: Int = 1) {
        samples = n
        let target = max(256, (n + 63) / 64)
        blockRows = (target + 3) / 4 * 4
        blockCount = max(1, (n + blockRows - 1) / blockRows)
        ownedBlocks = (blockCount * rank / ranks)..<(blockCount * (rank + 1) / ranks)
    }

    /// The blocks rank `r` of `ranks` computes.
    func blocks(ofRank r: Int, ranks: Int) -> Range<Int> { (blockCount * r / ranks)..<(blockCount * (r + 1) / ranks) }

    /// The rows of `blocks` (empty for no block).
    func rows(ofBlocks blocks: Range<Int>) -> Range<Int> {
        blocks.isEmpty ? 0..<0 : rows(ofBlock: blocks.lowerBound).lowerBound..<rows(ofBlock: blocks.upperBound - 1).upperBound
    }

    /// The rows this process computes.
    var ownedRows: Range<Int> { rows(ofBlocks: ownedBlocks) }

    func rows(ofBlock b: Int) -> Range<Int> { (b * blockRows)..<min(samples, (b + 1) * blockRows) }
}
