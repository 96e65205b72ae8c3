import ArgumentParser
import SelfLabelling
import Tensors

/// `--lamb`, `--tol`, `--max-iters`, `--dtype`, `--storage`, `--threads`, `--acceleration`, `--truncation`: the
/// solver options shared by `selflabel label` and `selflabel bench sinkhorn`.
struct SinkhornCLIOptions: ParsableArguments {
    @Option(help: "λ: the plan is P^λ.") var lamb: Double = 25
    @Option(help: "Tolerance of the official stopping rule.") var tol: Double = 0.1
    /// Automatic by default, as in training: a fixed cap counts every pass, the cheap passes over the peaked
    /// rows alone included (an ImageNet-size skewed mixture takes ~900), and the official loop (`--acceleration
    /// off`) takes over 12,000 iterations on skewed scores at λ 25 — a fixed 1,000 failed solves that converge.
    @Option(name: .customLong("max-iters"), help: "Iteration cap (reported if hit); 0 (default): automatic, as in training (iterate while the error keeps falling, up to 100,000).") var maxIters: Int = 0
    @Option(help: "Arithmetic: f32 (log-domain, fast) or f64 (the reference's, for fidelity).")
    var dtype: SinkhornPrecision = .f32
    @Option(help: "Dense method's stored matrix type (--dtype f32): f32, bf16 or f16 (f16 only for flat scores); unused by the truncated method.")
    var storage: SinkhornStorage?
    @Option(help: "Threads.") var threads: Int = ComputeThreads.defaultCount
    @Option(help: "Acceleration between checks: anderson (Anderson-accelerated potentials; the default, as in training), off (the reference's plain loop: its iteration count) or over-relaxation (adaptive ω); each check of the official rule is a plain step on the exact matrix.")
    var acceleration: SinkhornAcceleration = .anderson
    @Option(help: "auto: iterate on the entries that can matter (--dtype f32) and decide the stopping rule on the full matrix; off: always the whole stored matrix.")
    var truncation: SinkhornTruncation = .automatic

    @Option(name: .customLong("dense-rows"),
            help: "Rows read in full (the dense matrix, the truncated method's flat rows): auto, stored once, or streamed (computed from the scores in every pass; same results, less memory).")
    var denseRows: SinkhornDenseRows = .automatic

    @Flag(name: .customLong("freeze-flat-rows"), inversion: .prefixedNo,
          help: "With anderson on a mixture of flat and peaked rows: between checks, iterate the peaked rows alone with the flat rows' scaling held (the flat rows are then read a few times per solve, not every iteration); every check is still the official one on the exact matrix.")
    var freezeFlatRows = true

    @Flag(name: .customLong("early-checks"), inversion: .prefixedNo,
          help: "With anderson: also check the official rule on every iteration that follows a plain step, and take a plain step once an iteration's error meets --tol, so the solve stops at the first official iteration that meets the rule (not at the next multiple of 10); --no-early-checks: every 10th iteration only.")
    var earlyChecks = true

    @Flag(name: .customLong("balanced-start"), inversion: .prefixedNo,
          help: "With anderson, on a cold start: start from every cluster's scaling set by its column's largest entry instead of the reference's uniform sample scaling, which on a mixture of flat and peaked rows weighs the peaked rows alone (the fixed point and every check are the same); --no-balanced-start: the reference's start.")
    var balancedStart = true

    @Option(name: .customLong("empty-clusters"),
            help: "Clusters with no sample: report (default), split (each takes half of the largest cluster, the samples preferring it most) or refuse.")
    var emptyClusters: SinkhornEmptyClusterPolicy = .report

    func validate() throws {
        if let s = storage, let conflict = s.conflict(with: dtype, storageOption: "--storage", precisionOption: "--dtype") {
            throw ValidationError("--storage \(s.rawValue) \(conflict)")
        }
        // The solver's own checks (`SinkhornOptions.validate`), before any file is read, naming the option.
        do { try options().validate() } catch {
            switch error {
            case let .invalidLambda(v): throw ValidationError("--lamb must be a finite number > 0, got \(v)")
            case let .invalidTolerance(v): throw ValidationError("--tol must be a finite number > 0, got \(v)")
            case let .invalidMaxIterations(v):
                throw ValidationError("--max-iters must be at least 0 (0: automatic), got \(v)")
            case let .invalidThreadCount(v): throw ValidationError("--threads must be at least 1, got \(v)")
            default: throw ValidationError(error.description)
            }
        }
    }

    /// The solver options for scores of `kind`.
    func options(scoreKind kind: SinkhornScoreKind = .logits) -> SinkhornOptions {
        var o = SinkhornOptions(scoreKind: kind, lambda: lamb, tolerance: tol, maxIterations: maxIters,
                                precision: dtype, storage: storage ?? .f32, threads: threads,
                                acceleration: acceleration, truncation: truncation, emptyClusters: emptyClusters,
                                denseRows: denseRows)
        o.freezesFlatRows = freezeFlatRows
        o.checksEarly = earlyChecks
        o.startsBalanced = balancedStart
        return o
    }

    /// The stored element type as reported in JSON: "f64" in f64 precision, else the storage.
    var storageName: String { dtype == .f64 ? "f64" : (storage ?? .f32).rawValue }
}

extension SinkhornPrecision: ExpressibleByArgument {}
extension SinkhornStorage: ExpressibleByArgument {}
extension SinkhornTruncation: ExpressibleByArgument {}
extension SinkhornScoreFamily: ExpressibleByArgument {}
extension SinkhornEmptyClusterPolicy: ExpressibleByArgument {}
extension SinkhornAcceleration: ExpressibleByArgument {}
extension SinkhornDenseRows: ExpressibleByArgument {}
