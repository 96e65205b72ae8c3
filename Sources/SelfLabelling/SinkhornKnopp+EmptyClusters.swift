import Distributed
import Foundation

/// What a solve does with clusters that received no sample (SeLa asks for an equipartition; an empty cluster
/// is never left silently).
public enum SinkhornEmptyClusterPolicy: String, Sendable, CaseIterable, Codable {
    /// Keep the labels; empty clusters are counted in `SinkhornDiagnostics.emptyClusters` and flag
    /// `degenerateLabels`.
    case report
    /// Each empty cluster takes half of the then largest cluster: the members that prefer it most, by
    /// `(log r_e + λ y_ne) − (log r_l + λ y_nl)` (ties by sample index), as in k-means' split of the largest
    /// cluster. Counted in `SinkhornDiagnostics.repairedEmptyClusters`.
    case split
    /// Throw `SinkhornError.emptyClusters`.
    case refuse
}

/// The `.split` repair of empty clusters on one head's labels.
///
/// Across ranks every rank holds all the labels but only its rows' scores: each computes the preferences of the
/// largest cluster's members in its rows, and they are gathered (`MPI_Allgatherv`; members in row order, so
/// each rank's part is contiguous and its size known to all from the labels). No arithmetic crosses ranks, so
/// the repair is the single process's, bit for bit.
struct SinkhornEmptyClusterRepair {
    let scores: UnsafePointer<Float>
    let n: Int, k: Int
    let lambda: Double
    let kind: SinkhornScoreKind
    /// log r_k of the reference problem (K).
    let logR: [Double]
    /// The ranks and which rows each reads (a single process by default).
    var communicator: any Communicator = SingleProcessCommunicator.shared
    var layout: SinkhornLayout? = nil

    /// `y_nj`: the logit, or the logarithm of the probability.
    private func y(_ row: Int, _ j: Int) -> Double {
        let v = Double(scores[row * k + j])
        return kind == .logits ? v : log(v)
    }

    /// Splits the largest cluster into every empty one, in ascending order of the empty clusters; returns how
    /// many were filled. Needs K ≤ N (then the largest cluster always has at least 2 members).
    func split(_ labels: inout [Int32]) throws -> Int {
        var sizes = [Int](repeating: 0, count: k)
        for l in labels { sizes[Int(l)] += 1 }
        var repaired = 0
        for e in 0..<k where sizes[e] == 0 {
            var largest = 0
            for j in 1..<k where sizes[j] > sizes[largest] { largest = j }
            guard sizes[largest] >= 2 else { break }
            let members = (0..<n).filter { labels[$0] == Int32(largest) }
            func prefers(_ row: Int) -> Double {
                (logR[e] + lambda * y(row, e)) - (logR[largest] + lambda * y(row, largest))
            }
            var preference: [Double]
            if let layout, communicator.size > 1 {
                let r = communicator.size
                let owned = (0..<r).map { layout.rows(ofBlocks: layout.blocks(ofRank: $0, ranks: r)) }
                let counts = owned.map { rows in members.count(where: { rows.contains($0) }) }
                let mine = owned[communicator.rank]
                preference = members.map { mine.contains($0) ? prefers($0) : 0 }
                try preference.withUnsafeMutableBufferPointer {
                    try communicator.allgather($0.baseAddress!, counts: counts)
                }
            } else {
                preference = members.map(prefers)
            }
            let order = members.indices.sorted {
                preference[$0] != preference[$1] ? preference[$0] > preference[$1] : members[$0] < members[$1]
            }
            let moving = members.count / 2
            for i in order.prefix(moving) { labels[members[i]] = Int32(e) }
            sizes[largest] -= moving
            sizes[e] = moving
            repaired += 1
        }
        return repaired
    }
}

extension SinkhornKnoppSolver {
    /// The `split` policy's repair on its own: every empty cluster of `labels` (N labels, the same on every rank)
    /// takes half of the then largest cluster, its members ordered by `(log r_e + λ y_ne) − (log r_l + λ y_nl)`
    /// with `logR` the reference problem's log r (K). Across the solver's ranks each reads only its rows of
    /// `scores` (N × K, row-major). Returns the number of clusters filled.
    public func splitEmptyClusters(_ labels: inout [Int32], scores: UnsafePointer<Float>, samples n: Int, clusters k: Int,
                                   logR: [Double]) throws -> Int {
        try SinkhornEmptyClusterRepair(scores: scores, n: n, k: k, lambda: options.lambda, kind: options.scoreKind,
                                       logR: logR, communicator: communicator, layout: layout(samples: n)).split(&labels)
    }
}
