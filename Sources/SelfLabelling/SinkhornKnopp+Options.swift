/// How the scores given to `SinkhornKnopp` are to be read.
public enum SinkhornScoreKind: String, Sendable, CaseIterable {
    /// Unnormalised logits `z` (N x K); `P = softmax(z)` row-wise, as in SeLa's `cpu_sk`.
    case logits
    /// Probabilities `P` (N x K), each entry in [0, 1] (rows are used as given, like the reference's `PS`).
    case probabilities
}

/// The arithmetic of the Sinkhorn-Knopp iterations.
public enum SinkhornPrecision: String, Sendable, CaseIterable {
    /// Log-domain with a per-row shift, matrix stored as `SinkhornStorage`, float32 products, float64 for the
    /// row sums, the cluster sums across row blocks, the scalings and the error (fast default).
    case f32
    /// Float64 everywhere, matrix stored as float64: the reference implementation's arithmetic (fidelity mode).
    case f64
}

/// Element type of the stored, shifted matrix `A_nk = exp(λ (z_nk − max_k z_nk))` in `f32` precision.
///
/// The matrix is the largest object of a run (N x K elements), and each iteration reads it once; halving its
/// size halves the time of an iteration. bf16 keeps float32's exponent range with an 8-bit significand;
/// f16 has an 11-bit significand but flushes entries below 2^-24 to zero.
public enum SinkhornStorage: String, Sendable, CaseIterable {
    case f32, bf16, f16

    /// Bytes per stored element.
    public var byteSize: Int { self == .f32 ? 4 : 2 }
}

/// Whether the rows every pass reads in full — the dense method's matrix, the truncated method's flat rows —
/// are stored once or computed from the scores in every pass. Either way a pass reads the same float32 values
/// in the same order, so the iterates, errors and labels are the same bit for bit; what differs is memory
/// (stored: 4 bytes per entry, or the `SinkhornStorage`) and time (streamed: one read of the scores and an
/// exponential per entry and pass, no store).
public enum SinkhornDenseRows: String, Sendable, CaseIterable {
    /// Stored where they fit in a quarter of the available memory (`SinkhornOptions.streamsDenseMatrix(bytes:)`), else
    /// streamed: a streamed pass costs an exponential per entry (measured 4-5× a stored pass's time at
    /// 200k x 3000 on a loaded 2-core machine), so streaming is for memory, as at ImageNet size.
    case automatic = "auto"
    /// Stored once (the dense method: as `SinkhornStorage`; the truncated method's flat rows: float32).
    case stored
    /// Computed from the scores in every pass (float32; the dense method's `storage` is then unused).
    case streamed
}

/// How `SinkhornKnoppSolver` accelerates the iterations between two checks of the official rule. The iteration
/// into every check, and the check itself, are plain Sinkhorn steps on the exact matrix (the full matrix for the
/// truncated method), so the stopping rule means what it means in the reference.
public enum SinkhornAcceleration: String, Sendable, CaseIterable, Codable {
    /// The reference's plain alternating scaling.
    case off
    /// Anderson acceleration (type II, depth 5; Walker & Ni 2011) of the cluster potential `u = log r` under
    /// the plain update `u ↦ G(u)` (one fused pass). About 10-25× fewer iterations than plain on the late,
    /// sharp problems of training (docs/SINKHORN.md), where plain needs thousands.
    case anderson
    /// Over-relaxation: both scalings move by `ω` in the log domain, `c ← c^{1−ω} c_SK^ω`,
    /// `r ← r^{1−ω} r_SK^ω` (Thibault et al. 2017; Lehmann et al. 2020), with `ω = 2 / (1 + √(1 − ρ))`
    /// estimated from the plain iterations' error ratio ρ per iteration, halved towards 1 whenever a checked
    /// error grows. 3-4× fewer iterations than plain on those problems.
    case overRelaxation = "over-relaxation"
}

/// Options of a Sinkhorn-Knopp label optimisation (defaults are SeLa's).
public struct SinkhornOptions: Sendable, Equatable {
    /// How to read the scores (default logits).
    public var scoreKind: SinkhornScoreKind = .logits
    /// λ, the inverse regularisation: the transported matrix is `P^λ` (SeLa default 25). Must be > 0.
    public var lambda: Double = 25
    /// Stopping tolerance of the official rule: every 10 iterations, stop when `Σ_n |c_n / c_new_n − 1| < tol`.
    public var tolerance: Double = 0.1
    /// Iteration cap; reaching it is reported in `SinkhornDiagnostics.converged`, never silently. 0 means
    /// automatic (`SinkhornOptions.automaticCap`): iterate while the checked error keeps falling, up to
    /// `automaticCeiling` iterations, so the budget grows with what the problem needs.
    public var maxIterations: Int = 1000
    /// Arithmetic (default `.f32`).
    public var precision: SinkhornPrecision = .f32
    /// Stored matrix element type for `.f32` precision (default `.f32`). Must be `.f32` with `.f64` precision.
    public var storage: SinkhornStorage = .f32
    /// Worker threads for the streaming passes (labels do not depend on it).
    public var threads: Int = 1
    /// Bytes the solver may assume available; `nil` reads `MemAvailable` from `/proc/meminfo`.
    public var availableMemoryBytes: Int? = nil
    /// How the iterations between checks are accelerated (default `.off`: the reference's plain loop). Every
    /// check of the official rule is evaluated on a plain step, exactly as in the reference; the fixed point is
    /// the same, the path to it shorter.
    public var acceleration: SinkhornAcceleration = .off
    /// For scores that live in an unmodified private or shared file mapping (a memory-mapped `.npy`): after
    /// each pass reads a row block, its whole pages are returned with `madvise(MADV_DONTNEED)`, so the file
    /// does not add to the process's resident memory; later passes fault them back in from the page cache.
    /// Never set it for ordinary (anonymous) memory, whose contents `MADV_DONTNEED` discards.
    public var releaseFileBackedScores: Bool = false
    /// Whether the iterations may skip the entries that cannot matter (`SinkhornTruncatedMatrix`): on by
    /// default where it applies (`.f32` precision). The stopping rule is then evaluated on the full
    /// matrix and the labels from the full scores, so the result is that of the dense method.
    public var truncation: SinkhornTruncation = .automatic
    /// What to do with clusters that receive no sample (default: report them in the diagnostics).
    public var emptyClusters: SinkhornEmptyClusterPolicy = .report
    /// Whether rows read in full are stored or computed from the scores in every pass (default automatic).
    public var denseRows: SinkhornDenseRows = .automatic
    /// Probabilities: whether the truncated method's passes skip the groups of 16 entries that are exactly 0 in
    /// float32, and the labels the columns that cannot hold a row's maximum, without taking their logarithms
    /// (recognised from `P_k` times a per-column weight). The result is the same bits either way; `false`
    /// computes every logarithm (a check of that equality).
    public var screensProbabilities = true
    /// With Anderson acceleration on the truncated method's mixtures of flat and peaked rows: between checks,
    /// rounds of passes over the peaked (sparse) rows alone with the flat rows' scaling held
    /// (`SinkhornFlatRowFreeze`), so the flat rows — nearly all of a pass's work — are read a few times per
    /// solve instead of every iteration. Every check is still the official one; `false`: ordinary iterations.
    public var freezesFlatRows = true
    /// With Anderson acceleration: besides every 10th iteration, the official rule is also evaluated on every
    /// pass whose `r` came from a plain step (an official Sinkhorn iteration, so its error is the official one;
    /// on the truncated method decided on the full matrix as always), and a plain step is taken whenever the
    /// last pass's error meets the tolerance, or while consecutive checks show the plain steps contracting 20×
    /// or more per iteration. The solve stops at the first official iteration that meets the rule instead of
    /// running on to the next multiple of 10 (flat scores: 2 passes instead of 11). The official loop (`.off`)
    /// checks every 10th iteration only, so its iteration count stays the reference's; `false`: every 10th
    /// iteration with Anderson too.
    public var checksEarly = true
    /// With Anderson acceleration, on a cold start: the iterations start from `r' = 1` (every cluster scaled by
    /// its column's largest entry, `log r_k = −b_k`) instead of the reference's `r_1 = (1/K) / (Aᵀ c_0)` with its
    /// uniform `c_0`, which in `P^λ` weighs a peaked row up to `e^{λ log K}` times a flat one, so that on a
    /// mixture of flat and peaked rows the first `r` is the peaked rows' alone and the loop spends tens of
    /// iterations undoing it (200k × 3000, 90 % flat rows, λ 25: 26 iterations → 7). The first pass from
    /// `r' = 1` is not a check (no `c` produced that `r`); every check after it is the official one, and the
    /// fixed point is the same. `false`, or another acceleration: the reference's start (with `.off` the
    /// official iteration count).
    public var startsBalanced = true

    /// Default options (λ = 25, tol = 0.1, 1000 iterations, f32 with f32 storage, 1 thread).
    public init() {}

    /// Options with the given fields; the rest keep their defaults.
    public init(scoreKind: SinkhornScoreKind = .logits, lambda: Double = 25, tolerance: Double = 0.1,
                maxIterations: Int = 1000, precision: SinkhornPrecision = .f32, storage: SinkhornStorage = .f32,
                threads: Int = 1, availableMemoryBytes: Int? = nil, acceleration: SinkhornAcceleration = .off,
                truncation: SinkhornTruncation = .automatic, emptyClusters: SinkhornEmptyClusterPolicy = .report,
                denseRows: SinkhornDenseRows = .automatic) {
        self.scoreKind = scoreKind
        self.lambda = lambda
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.precision = precision
        self.storage = storage
        self.threads = threads
        self.availableMemoryBytes = availableMemoryBytes
        self.acceleration = acceleration
        self.truncation = truncation
        self.emptyClusters = emptyClusters
        self.denseRows = denseRows
    }

    /// Throws the first meaningless option: λ or the tolerance not finite and > 0, a negative iteration cap,
    /// fewer than 1 thread, or f64 precision with a 16-bit storage. `SinkhornKnoppSolver` checks this; a
    /// command line checks it before reading any input.
    public func validate() throws(SinkhornError) {
        guard lambda.isFinite, lambda > 0 else { throw .invalidLambda(lambda) }
        guard tolerance.isFinite, tolerance > 0 else { throw .invalidTolerance(tolerance) }
        guard maxIterations >= 0 else { throw .invalidMaxIterations(maxIterations) }
        guard threads >= 1 else { throw .invalidThreadCount(threads) }
        if let conflict = storage.conflict(with: precision) {
            throw .incompatibleOptions("storage \(storage.rawValue) \(conflict)")
        }
    }

    /// The most iterations of an automatic cap (`maxIterations` 0): 20× the most the official loop was seen to
    /// need in training (about 5,000, issue 14); 8× the 12,311 it took on a 200k × 3000 skewed mixture at λ 25
    /// (issue 17).
    public static let automaticCeiling = 100_000

    /// An automatic cap stops a solve whose best checked error has not fallen by at least this factor in the
    /// last `automaticStallIterations` iterations (a problem that still converges keeps its budget).
    public static let automaticStallFactor = 0.99
    /// See `automaticStallFactor`.
    public static let automaticStallIterations = 2_000

    /// Whether the dense method computes its `bytes`-byte matrix from the scores in every pass
    /// (`SinkhornDenseRows`): float32 arithmetic with `.streamed`, or `.automatic` with float32 storage when the
    /// matrix would take more than a quarter of the available memory (`availableMemoryBytes`, else
    /// `MemAvailable`).
    public func streamsDenseMatrix(bytes: Int) -> Bool {
        guard precision == .f32 else { return false }
        switch denseRows {
        case .stored: return false
        case .streamed: return true
        case .automatic: return storage == .f32 && !fitsStoredRows(bytes: bytes)
        }
    }

    /// Whether `bytes` of stored rows fit in a quarter of the available memory.
    func fitsStoredRows(bytes: Int) -> Bool {
        let available = availableMemoryBytes ?? SinkhornMemoryPlan.systemAvailableBytes() ?? Int.max
        return Double(bytes) <= Double(available) / 4
    }

    /// Bytes per stored matrix element under these options.
    public var elementBytes: Int { precision == .f64 ? 8 : storage.byteSize }
}
