import Distributed
import Foundation
import Tensors

/// SeLa's pseudo-label optimisation: a Sinkhorn-Knopp solver for the equal-partition transport problem.
///
/// Given scores for N samples x K clusters (logits `z`, `P = softmax(z)`, or probabilities `P`), it finds
/// `Q = diag(c) · P^λ · diag(r)` with every sample's mass 1/N and every cluster's mass 1/K by the reference's
/// alternating scaling (`cpu_sk`/`optimize_L_sk` of Asano et al., ICLR 2020):
///
///     r = (1/K) / (Aᵀ c),  c_new = (1/N) / (A r),  A = P^λ, c starting uniform
///     every 10 iterations: err = Σ_n |c_n / c_new_n − 1|; stop when err ≤ tol (the reference loops while
///     err > tol)
///     label_n = argmax_k (log r_k + λ log P_nk)
///
/// Differences from the reference, none changing the fixed point: the matrix is shifted per row and per column
/// in the log domain (so float32 and even bf16/f16 storage work where `P^λ` underflows), each iteration is one
/// fused streaming pass over the stored matrix split over threads by fixed row blocks (labels do not depend on
/// the thread count; for a given C kernel — portable, AVX2 or AVX-512, see `CSinkhornKernels` — they are
/// deterministic), iterations are capped, and bad input throws `SinkhornError`.
///
/// One solver keeps its buffers between calls: solve heads or successive label optimisations with the same
/// solver and pass the previous `clusterScaling` as `warmStart`.
public final class SinkhornKnoppSolver: @unchecked Sendable {
    /// The options every solve uses.
    public let options: SinkhornOptions
    let workspace = SinkhornWorkspace()
    /// Called on the calling thread after every error check (every 10 iterations), for progress displays.
    public var progress: (@Sendable (SinkhornProgress) -> Void)? = nil

    /// The ranks the rows are split over (`SinkhornKnopp+Distribution`); a single process by default.
    public let communicator: any Communicator

    /// A solver; throws `SinkhornError` for meaningless options (`SinkhornOptions.validate()`). With a
    /// `communicator` of several ranks, every rank calls the same solves with the same arguments (the whole
    /// scores buffer, of which each rank reads only its `rows(samples:rank:ranks:)`) and gets the same result as
    /// a single process.
    public init(options: SinkhornOptions = SinkhornOptions(),
                communicator: any Communicator = SingleProcessCommunicator.shared) throws {
        try options.validate()
        self.options = options
        self.communicator = communicator
    }

    /// Solves one N x K problem. `scores` is row-major (sample-major) N x K float32 — for example a
    /// memory-mapped `.npy`, read in place. `warmStart` is a previous result's `clusterScaling` (K entries).
    public func solve(scores: UnsafeBufferPointer<Float>, samples n: Int, clusters k: Int,
                      warmStart: [Double]? = nil) throws -> SinkhornResult {
        try checkShape(count: scores.count, heads: 1, n: n, k: k)
        return try solveHead(scores.baseAddress!, head: 0, n: n, k: k, warmStart: warmStart)
    }

    /// Solves the problem held by a rank-2 tensor of shape [N, K] (no copy when it is contiguous).
    public func solve(scores: Tensor, warmStart: [Double]? = nil) throws -> SinkhornResult {
        precondition(scores.rank == 2, "SinkhornKnoppSolver.solve: scores must be [N, K], got \(scores.shape)")
        return try scores.withUnsafeBufferPointer {
            try solve(scores: $0, samples: scores.shape[0], clusters: scores.shape[1], warmStart: warmStart)
        }
    }

    /// Solves H independent problems (scores H x N x K, row-major) one after another in one buffer; head h
    /// starts from `warmStarts?[h]`. Returns one result per head (labels: H x N).
    public func solveHeads(scores: UnsafeBufferPointer<Float>, heads h: Int, samples n: Int, clusters k: Int,
                           warmStarts: [[Double]]? = nil) throws -> [SinkhornResult] {
        try checkShape(count: scores.count, heads: h, n: n, k: k)
        if let w = warmStarts, w.count != h {
            throw SinkhornError.incompatibleOptions("\(w.count) warm starts for \(h) heads")
        }
        return try (0..<h).map { head in
            try solveHead(scores.baseAddress! + head * n * k, head: head, n: n, k: k, warmStart: warmStarts?[head])
        }
    }

    /// The memory plan for an N x K problem under this solver's options.
    public func memoryPlan(samples n: Int, clusters k: Int) -> SinkhornMemoryPlan {
        SinkhornMemoryPlan(samples: n, clusters: k, options: options)
    }

    private func checkShape(count: Int, heads h: Int, n: Int, k: Int) throws {
        guard n > 0 else { throw SinkhornError.noSamples }
        guard k > 0 else { throw SinkhornError.noClusters }
        guard k <= n else { throw SinkhornError.moreClustersThanSamples(clusters: k, samples: n) }
        guard h >= 1, count == h * n * k else {
            throw SinkhornError.shapeMismatch(count: count, heads: h, samples: n, clusters: k)
        }
        let plan = memoryPlan(samples: layout(samples: n).ownedRows.count, clusters: k)  // this rank's rows
        // The dense matrix of the truncated method's fallback is checked when it is needed.
        if plan.truncatedBytes != nil || !workspace.hasMatrix(bytes: plan.matrixBytes) {
            let available = options.availableMemoryBytes ?? SinkhornMemoryPlan.systemAvailableBytes() ?? Int.max
            try plan.check(available: available, options: options)
        }
    }
}

/// A progress report of a running solve: which head, how many iterations, the last checked error.
public struct SinkhornProgress: Sendable {
    public var head: Int
    public var iteration: Int
    public var error: Double
}
