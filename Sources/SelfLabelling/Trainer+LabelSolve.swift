import Foundation

extension Trainer {
    /// Solves one head of a label optimisation (`scores`: N × K logits; `fileBacked`: they live in a file
    /// mapping, whose pages are given back after each block), so that no λ breaks it (issue 12 §2.5): an
    /// iteration that breaks down numerically (λ beyond what float64 holds of `P^λ`) is solved again in float32
    /// precision with the truncated method (in `--dtype f64`; `--dtype f32` has tried it already), and where
    /// that breaks down too, by `SinkhornKnopp.logDomain` (the official loop on logarithms: finite at any λ,
    /// slower); a note says which. Check the results with `requireUsableLabels` before using any.
    func solveLabelHead(_ scores: UnsafePointer<Float>, head h: Int, samples n: Int, clusters k: Int,
                        warmStart: [Double]?, optimisation: Int, fileBacked: Bool) throws -> SinkhornResult {
        var base = solver.options
        base.releaseFileBackedScores = fileBacked
        let primary = fileBacked ? try SinkhornKnoppSolver(options: base, communicator: communicator) : solver
        var result = try primary.solveHead(scores, head: h, n: n, k: k, warmStart: warmStart)
        guard result.diagnostics.numericalBreakdown else { return result }
        let options = fallbackOptions
        let lambdaBound = result.diagnostics.representableLambda
        let representable = lambdaBound.isFinite ? "\(Int(lambdaBound.rounded(.down)))" : "\(lambdaBound)"
        var how = "in the log domain (float32, truncated method)"
        if solver.options.precision == .f64 {
            var truncated = options
            truncated.releaseFileBackedScores = fileBacked
            result = try SinkhornKnoppSolver(options: truncated, communicator: communicator).solveHead(scores, head: h, n: n, k: k, warmStart: warmStart)
        }
        // The log-domain loop reads every row: not across ranks (the breakdown is then reported with a λ that works).
        if result.diagnostics.numericalBreakdown && communicator.size == 1 {
            let started = Date()
            let (r, deviation) = SinkhornKnopp.logDomain(scores, samples: n, clusters: k, lambda: options.lambda,
                                                         tolerance: options.tolerance,
                                                         maxIterations: options.maxIterations > 0
                                                             ? options.maxIterations : SinkhornOptions.automaticCeiling)
            result = SinkhornResult(logDomain: r, marginalDeviation: deviation, samples: n, clusters: k,
                                    seconds: Date().timeIntervalSince(started))
            how = "by the official loop on logarithms (float64 log-sum-exp)"
        }
        notify { $0.note("note: label optimisation \(optimisation + 1), head \(h): Sinkhorn-Knopp broke down "
            + "numerically at λ = \(options.lambda) (float64 holds P^λ of these scores up to λ ≈ \(representable)); "
            + "solved again \(how)") }
        return result
    }

    /// Throws `SinkhornError.numericalBreakdown` (with a λ that works) or the other unusable-label errors for
    /// the first head whose labels cannot be used, after every fallback (no other precision is left to suggest).
    /// `heads` are the results' head indices, which the errors name.
    func requireUsableLabels(_ results: [SinkhornResult], heads: [Int]) throws {
        for (h, r) in zip(heads, results) {
            try r.requireUsable(head: h, options: r.diagnostics.solvedInLogDomain ? fallbackOptions : solver.options)
        }
    }

    /// The options of the fallbacks: float32 precision and storage, automatic truncation.
    private var fallbackOptions: SinkhornOptions {
        var options = solver.options
        options.precision = .f32
        options.storage = .f32
        options.truncation = .automatic
        return options
    }
}
