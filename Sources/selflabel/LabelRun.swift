import Distributed
import Foundation
import Interop
import SelfLabelling
import Tensors

/// What `selflabel label` and `selflabel bench sinkhorn --logits` share: reading the scores file, running the
/// solver head by head with a progress line, and the diagnostics as JSON.
enum LabelRun {
    /// A scores file: float32 `.npy` of shape (N, K) or (H, N, K), memory-mapped (not copied).
    struct Scores {
        let array: NpyArray
        let tensor: Tensor
        let heads: Int, samples: Int, clusters: Int
        var hasHeadAxis: Bool { array.shape.count == 3 }
        /// True when `tensor` reads the file mapping itself (not a converted copy in ordinary memory).
        var isMapped: Bool {
            array.withUnsafeRawData { raw in
                tensor.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) == UnsafeRawPointer(raw.baseAddress) }
            }
        }
    }

    /// Opens `path`; throws `NpyError` for a wrong dtype (only float32) or rank (2 or 3).
    static func load(_ path: String) throws -> Scores {
        let array = try NpyArray(contentsOf: path)
        try array.require(dtype: .float32)
        try array.require(rank: 2, 3)
        let s = array.shape
        let (h, n, k) = s.count == 3 ? (s[0], s[1], s[2]) : (1, s[0], s[1])
        return Scores(array: array, tensor: array.tensor(), heads: h, samples: n, clusters: k)
    }

    /// Solves every head, showing progress on standard error: a rewritten line on a terminal, otherwise a plain
    /// line every 100 iterations.
    /// Pages of a mapped file are handed back after each pass reads them (they stay in the page cache), so
    /// the file does not count towards resident memory.
    /// Under MPI (`communicator` of several ranks) each rank maps only its own rows of each head
    /// (`NpyRowMapping`; the other rows' addresses are unreadable) and the solver reads only those.
    static func solve(_ scores: Scores, options: SinkhornOptions, showProgress: Bool,
                      communicator: any Communicator = SingleProcessCommunicator.shared) throws -> [SinkhornResult] {
        var options = options
        options.releaseFileBackedScores = scores.isMapped
        let solver = try SinkhornKnoppSolver(options: options, communicator: communicator)
        if showProgress {
            let terminal = isatty(2) != 0
            let heads = scores.heads
            solver.progress = { p in
                if terminal {
                    LabelRun.standardError("\rhead \(p.head + 1)/\(heads)  iteration \(p.iteration)  error \(p.error)      ")
                } else if (p.iteration - 1) % 100 == 0 {
                    LabelRun.standardError("head \(p.head + 1)/\(heads) iteration \(p.iteration) error \(p.error)\n")
                }
            }
        }
        let results: [SinkhornResult]
        if communicator.size > 1 {
            let mine = SinkhornKnoppSolver.rows(samples: scores.samples, rank: communicator.rank, ranks: communicator.size)
            let rows = try NpyRowMapping(scores.array, rows: mine)
            results = try solver.solveHeads(scores: rows.floats, heads: scores.heads, samples: scores.samples,
                                            clusters: scores.clusters)
        } else {
            results = try scores.tensor.withUnsafeBufferPointer {
                try solver.solveHeads(scores: $0, heads: scores.heads, samples: scores.samples, clusters: scores.clusters)
            }
        }
        if showProgress && isatty(2) != 0 { LabelRun.standardError("\n") }
        return results
    }

    /// Writes `text` to standard error unbuffered.
    static func standardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// The diagnostics of one head as a JSON object.
    static func json(_ d: SinkhornDiagnostics) -> JSONLine {
        JSONLine(["iterations": d.iterations, "converged": d.converged, "final_error": d.finalError,
                  "max_marginal_deviation": d.maxMarginalDeviation, "cluster_size_min": d.minClusterSize,
                  "cluster_size_max": d.maxClusterSize, "empty_clusters": d.emptyClusters,
                  "stored_matrix_bytes": d.storedMatrixBytes, "prepare_seconds": d.prepareSeconds,
                  "iterate_seconds": d.iterateSeconds, "label_seconds": d.labelSeconds,
                  "seconds_per_iteration": d.secondsPerIteration, "method": d.method.rawValue,
                  "kept_entries": d.keptEntries, "rebuilds": d.rebuilds, "full_passes": d.fullPasses,
                  "sparse_passes": d.sparsePasses,
                  "dense_rebuilds": d.denseRebuilds,
                  "streamed_dense_rows": d.streamedDenseRows,
                  "repaired_breakdown": d.repairedBreakdown, "fell_back_to_float64": d.fellBackToFloat64,
                  "degenerate_labels": d.degenerateLabels, "repaired_empty_clusters": d.repairedEmptyClusters,
                  "stalled": d.stalled])
    }
}
