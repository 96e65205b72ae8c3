import Foundation

extension Trainer {
    /// Solves the heads of a label optimisation (`scores`: one N × K block of logits per entry of `heads`, the
    /// heads' indices, which notes and errors name), so that no λ breaks it
    /// (issue 12 §2.5): a head whose iteration breaks down numerically (λ beyond what float64 holds of `P^λ`)
    /// is solved again in float32 precision with the truncated method (in `--dtype f64`; `--dtype f32` has
    /// tried it already), and where that breaks down too, by `SinkhornKnopp.logDomain` (the official loop on
    /// logarithms: finite at any λ, slower); a note says which. Labels still unusable throw
    /// `SinkhornError.numericalBreakdown` (with a λ that works) before any head's labels are used.
    func solveLabelHeads(_ scores: UnsafeBufferPointer<Float>, heads indices: [Int], samples n: Int, clusters k: Int,
                         warmStarts: [[Double]]?, optimisation: Int) throws -> [SinkhornResult] {
        let heads = indices.count
        var results = try solver.solveHeads(scores: scores, heads: heads, samples: n, clusters: k, warmStarts: warmStarts)
        var options = solver.options
        options.precision = .f32
        options.storage = .f32
        options.truncation = .automatic
        let truncated = solver.options.precision == .f64 ? try SinkhornKnoppSolver(options: options) : nil
        for h in 0..<heads where results[h].diagnostics.numericalBreakdown {
            let head = scores.baseAddress! + h * n * k
            let lambdaBound = results[h].diagnostics.representableLambda
            let representable = lambdaBound.isFinite ? "\(Int(lambdaBound.rounded(.down)))" : "\(lambdaBound)"
            var how = "in the log domain (float32, truncated method)"
            if let truncated {
                results[h] = try truncated.solveHead(head, head: indices[h], n: n, k: k, warmStart: warmStarts?[h])
            }
            if results[h].diagnostics.numericalBreakdown {
                let started = Date()
                let (r, deviation) = SinkhornKnopp.logDomain(head, samples: n, clusters: k, lambda: options.lambda,
                                                             tolerance: options.tolerance,
                                                             maxIterations: options.maxIterations > 0
                                                                 ? options.maxIterations : SinkhornOptions.automaticCeiling)
                results[h] = SinkhornResult(logDomain: r, marginalDeviation: deviation, samples: n, clusters: k,
                                            seconds: Date().timeIntervalSince(started))
                how = "by the official loop on logarithms (float64 log-sum-exp)"
            }
            notify { $0.note("note: label optimisation \(optimisation + 1), head \(indices[h]): Sinkhorn-Knopp broke down "
                + "numerically at λ = \(options.lambda) (float64 holds P^λ of these scores up to λ ≈ \(representable)); "
                + "solved again \(how)") }
        }
        for (h, r) in results.enumerated() {  // after the fallbacks, no other precision is left to suggest
            try r.requireUsable(head: indices[h], options: r.diagnostics.solvedInLogDomain ? options : solver.options)
        }
        return results
    }
}
