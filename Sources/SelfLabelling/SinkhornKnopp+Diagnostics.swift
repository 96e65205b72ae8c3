/// What a Sinkhorn-Knopp solve did, for logs, reports and tests.
public struct SinkhornDiagnostics: Sendable, Equatable {
    /// Iterations run, counted like the reference loop's `_counter` (one `r` and one `c` update each).
    public var iterations: Int
    /// True when the official rule (`err < tol`, checked every 10 iterations) stopped the loop; false when
    /// the iteration cap was reached first.
    public var converged: Bool
    /// True when the automatic cap (`SinkhornOptions.maxIterations` 0) stopped the loop because the checked
    /// error had stopped falling; false otherwise (also when a fixed cap was reached).
    public var stalled = false
    /// The last checked error `Σ_n |c_n / c_new_n − 1|`.
    public var finalError: Double
    /// Every checked error, in order (iterations 0, 10, 20, …).
    public var errorHistory: [Double]
    /// `max_k |K · r_k · (Aᵀ c)_k − 1|`: the largest relative deviation of the transport plan's cluster
    /// marginals from 1/K after the last iteration (the sample marginals are exact by construction).
    public var maxMarginalDeviation: Double
    /// Smallest number of samples given one label.
    public var minClusterSize: Int
    /// Largest number of samples given one label.
    public var maxClusterSize: Int
    /// Clusters that received no sample.
    public var emptyClusters: Int
    /// Bytes of the stored shifted matrix (N x K padded to a multiple of 16 columns).
    public var storedMatrixBytes: Int
    /// Seconds spent validating the scores (the statistics pass) and, in `.f64` precision, building the stored
    /// matrix. The float32 dense matrix is stored within one of the passes and the truncated method's builds are
    /// part of the iterations: both count as iterating.
    public var prepareSeconds: Double
    /// Seconds spent iterating.
    public var iterateSeconds: Double
    /// Seconds spent on the final dense labelling pass.
    public var labelSeconds: Double
    /// True when the float32 iteration broke down numerically (a scaling left float32's range, so the error
    /// became NaN) and this head was solved again in float64 (the reference's arithmetic); the timings and
    /// bytes are then those of the float64 solve.
    public var fellBackToFloat64 = false
    /// True when the dense float32 iteration broke down numerically (a non-finite error) and this head was
    /// solved again by the truncated method keeping every entry that can matter (its rebuilds absorb the
    /// scalings into the stored values, so float32 stays in range); timings and bytes are those of that solve.
    public var repairedBreakdown = false
    /// The method the iterations used (`SinkhornOptions.truncation`).
    public var method: SinkhornMethod = .dense
    /// Entries the iterations read: all N x K (dense), or those kept by the last build (truncated).
    public var keptEntries: Int = 0
    /// Builds of the truncated matrix (the first one included; 0 for the dense method).
    public var rebuilds: Int = 0
    /// Of those, the builds that rebuilt the dense (flat) rows too; the others kept them
    /// (`SinkhornTruncatedMatrix.denseDrift`).
    public var denseRebuilds: Int = 0
    /// Passes over the full matrix computed from the scores (truncated method: the cold start's column sums
    /// and the checks that decided on the full matrix).
    public var fullPasses: Int = 0
    /// Of the iterations, the passes over the peaked (sparse) rows alone, the flat rows' scaling held
    /// (`SinkhornOptions.freezesFlatRows`); the others read every row.
    public var sparsePasses: Int = 0
    /// Whether the rows read in full (the dense matrix, or the truncated method's flat rows) were computed from
    /// the scores in every pass instead of stored (`SinkhornDenseRows`).
    public var streamedDenseRows = false

    /// Empty clusters filled by `SinkhornEmptyClusterPolicy.split` (the sizes above are after the repair).
    public var repairedEmptyClusters = 0
    /// Labels that cannot serve as pseudo-labels: some cluster is empty, or one holds more than
    /// `degenerateShare` times its share N/K (for example all-equal score rows, which put every sample in
    /// cluster 0 while the stop rule is met).
    public var degenerateLabels = false
    /// The largest λ at which float64 can hold the reference loop's `P^λ` for these scores: every row's
    /// largest entry of `P^λ` stays above e^-700 (∞ when every row is one-hot or uniform up to rounding).
    public var representableLambda: Double = .infinity

    /// True when the fast methods broke down and the labels come from `SinkhornKnopp.logDomain` (the
    /// official loop on logarithms in float64: finite at any λ); the trainer's last resort.
    public var solvedInLogDomain = false

    /// Cluster-size multiple of N/K above which the labels count as degenerate.
    public static let degenerateShare = 10.0

    /// Whether labels with these cluster sizes are degenerate (`degenerateLabels`): an empty cluster, or one
    /// above `degenerateShare` times its share N/K.
    public static func isDegenerate(emptyClusters: Int, maxClusterSize: Int, samples n: Int, clusters k: Int) -> Bool {
        emptyClusters > 0 || Double(maxClusterSize) > degenerateShare * Double(n) / Double(k)
    }

    /// True when the solve broke down numerically (a checked error is NaN or infinite) even after the repairs
    /// of `SinkhornKnoppSolver`: the labels are then not usable.
    public var numericalBreakdown: Bool { !errorHistory.allSatisfy(\.isFinite) }

    /// Seconds per iteration (iterate time ÷ iterations).
    public var secondsPerIteration: Double { iterations > 0 ? iterateSeconds / Double(iterations) : 0 }
    /// Total seconds of the solve.
    public var totalSeconds: Double { prepareSeconds + iterateSeconds + labelSeconds }
}

/// The outcome of one Sinkhorn-Knopp label optimisation.
public struct SinkhornResult: Sendable {
    /// One label in `0..<K` per sample: `argmax_k (log r_k + λ log P_nk)` (the first maximum on ties, like
    /// NumPy's `nanargmax`).
    public var labels: [Int32]
    /// The cluster scaling `r` (K) of the last iteration, normalised so that its largest entry is 1 (`r` is
    /// defined up to a constant factor). Pass it as the warm start of the next solve on similar scores.
    /// Entries too small for a double (a starved cluster, r below e^-708 of the largest) are held at the
    /// smallest normal double, so the scaling is always a valid warm start.
    public var clusterScaling: [Double]
    /// Iterations, convergence, marginals, cluster sizes, memory and timing.
    public var diagnostics: SinkhornDiagnostics
}

extension SinkhornResult {
    /// Throws `SinkhornError.numericalBreakdown` when the labels are not usable (`numericalBreakdown`), so a
    /// caller (the `label` command, the trainer) stops instead of using them. `options` are the solve's.
    public func requireUsable(head: Int, options: SinkhornOptions) throws {
        let d = diagnostics
        guard d.numericalBreakdown else { return }
        // A float32 solve that fell back to float64 (its dense matrix broke down, the truncated method off or
        // out of reach) broke down in float64 arithmetic.
        throw SinkhornError.numericalBreakdown(head: head, lambda: options.lambda,
                                               precision: d.fellBackToFloat64 ? .f64 : options.precision,
                                               iterations: d.iterations, representableLambda: d.representableLambda)
    }
}
