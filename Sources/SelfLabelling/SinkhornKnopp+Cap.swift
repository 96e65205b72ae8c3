/// The iteration cap of one solve (`SinkhornOptions.maxIterations`): a fixed count, or (0) automatic — the
/// loop goes on while the best checked error keeps falling by at least `1 − automaticStallFactor` within every
/// `automaticStallIterations` iterations, up to `automaticCeiling`. So a slowly but steadily converging problem
/// (plain Sinkhorn on sharp late-training scores needs thousands of iterations) gets the budget it needs, and
/// only a solve that no longer makes progress (e.g. float32 rounding above the tolerance) is stopped early.
/// Progress is measured against the error at the last progress, not the running best, so it does not depend on
/// how often the rule is checked: with a check every iteration (`SinkhornOptions.checksEarly` on a problem whose
/// steps are all plain) a running best moves with every check, and an error falling steadily by 0.05 % per
/// iteration — 1 % per 20 iterations — never fell 1 % below it.
struct SinkhornCap {
    let fixed: Int?
    /// The checked error when progress was last recorded.
    private var mark = Double.infinity
    private var lastProgress = 0
    /// The automatic cap ended the loop on a stalled error.
    private(set) var stalled = false

    init(maxIterations: Int) { fixed = maxIterations > 0 ? maxIterations : nil }

    /// Records a checked error at iteration `iterations`.
    mutating func record(error: Double, iterations: Int) {
        if error < mark * SinkhornOptions.automaticStallFactor || (mark.isInfinite && error.isFinite) {
            lastProgress = iterations
            mark = error
        }
    }

    /// Whether the loop must stop before iteration `iterations`.
    mutating func reached(iterations: Int) -> Bool {
        if let fixed { return iterations >= fixed }
        if iterations >= SinkhornOptions.automaticCeiling { return true }
        if iterations - lastProgress >= SinkhornOptions.automaticStallIterations {
            stalled = true
            return true
        }
        return false
    }
}
