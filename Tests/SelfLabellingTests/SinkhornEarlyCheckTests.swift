import Foundation
import Testing
import SelfLabelling

/// `SinkhornOptions.checksEarly`: with Anderson, the official rule is also evaluated on every pass that follows
/// a plain step (an official iteration), and a plain step is taken once a pass's error meets the tolerance, so
/// the solve stops at the first official iteration that meets the rule.
@Suite("Sinkhorn-Knopp: Anderson's early checks of the official rule")
struct SinkhornEarlyCheckTests {
    typealias Case = SinkhornFamilyCase

    private func options(_ c: Case, early: Bool) -> SinkhornOptionsBuilder {
        var b = c.andersonOptions()
        b.options.checksEarly = early
        // The reference's start, whose iterations these tests compare (the balanced start:
        // `SinkhornBalancedStartTests`).
        b.options.startsBalanced = false
        return b
    }

    /// On flat scores the reference's first two iterations already meet the rule (its error falls by
    /// 10⁴-10⁵ per iteration), and both are plain steps of the accelerated solve (the cold start, then the
    /// step from an empty history): so the solve must stop after exactly those two, with the reference's
    /// errors of iterations 0 and 1 — where the official loop runs on to iteration 10.
    @Test("flat scores: stops at the reference's first iteration that meets the rule, with its errors",
          arguments: [
              Case(spec: .init(family: .flat, flatSigma: 0.005, seed: 31), lambda: 25, truncation: .automatic),
              Case(spec: .init(family: .flat, flatSigma: 0.02, seed: 32), lambda: 25, truncation: .off),
              Case(spec: .init(family: .flat, flatSigma: 0.02, probabilities: true, seed: 33), lambda: 10,
                   truncation: .automatic),
          ])
    func flatStopsAtFirstOfficialPass(_ c: Case) throws {
        let n = 2000, k = 80
        let z = c.spec.generate(samples: n, clusters: k)
        let kind = c.kind
        let everyIteration = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: c.lambda, kind: kind,
                                                     checkInterval: 1)
        let official = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: c.lambda, kind: kind)
        #expect(everyIteration.iterations == 2, "\(c): the case is meant to meet the rule at iteration 1")
        #expect(official.iterations == 11)
        let early = try solve(z, n: n, k: k, options(c, early: true))
        let d = early.diagnostics
        #expect(d.converged)
        #expect(early.iterations == everyIteration.iterations, "\(c)")
        #expect(d.errorHistory.count == everyIteration.errors.count, "\(c): \(d.errorHistory)")
        // The first error is large (the uniform start); the second is within float32's rounding of the
        // reference's (the sum of 2,000 per-row changes of ~1e-8).
        if let first = d.errorHistory.first, let refFirst = everyIteration.errors.first {
            #expect(abs(first - refFirst) <= 1e-4 * refFirst, "\(c): \(first) vs \(refFirst)")
        }
        #expect(d.errorHistory.last! <= 0.1 && everyIteration.errors.last! <= 0.1)
        #expect(agreement(early.labels, official.labels) >= 0.999, "\(c)")
        // Without early checks, Anderson checks every 10th iteration: the official count here.
        let late = try solve(z, n: n, k: k, options(c, early: false))
        #expect(late.iterations == official.iterations, "\(c)")
        // The official loop itself (no acceleration) ignores the option: its count stays the reference's.
        var off = options(c, early: true)
        off.options.acceleration = .off
        #expect(try solve(z, n: n, k: k, off).iterations == official.iterations, "\(c)")
    }

    /// Flat σ 0.1 scores need a few iterations; their plain errors fall by 10³-10⁴ per iteration, so the steps
    /// stay plain (`SinkhornIteration.plainContraction`) and every pass is a check: the solve is the
    /// reference's plain loop checked every iteration — the same iteration count and errors — where Anderson
    /// steps between checks would add a pass.
    @Test("fast plain contraction: the reference's loop checked every iteration", arguments: [10.0])
    func fastContractionStaysPlain(_ lambda: Double) throws {
        let n = 2000, k = 80
        let c = Case(spec: .init(family: .flat, flatSigma: 0.1, seed: 40), lambda: lambda, truncation: .off)
        let z = c.spec.generate(samples: n, clusters: k)
        let everyIteration = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: lambda, checkInterval: 1)
        let official = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: lambda)
        let early = try solve(z, n: n, k: k, options(c, early: true))
        let d = early.diagnostics
        #expect(everyIteration.iterations > 2 && everyIteration.iterations < official.iterations,
                "the case is meant to need a few iterations: \(everyIteration.iterations)")
        #expect(early.iterations == everyIteration.iterations, "λ \(lambda): \(d.errorHistory) vs \(everyIteration.errors)")
        #expect(d.errorHistory.count == everyIteration.errors.count)
        for (ours, ref) in zip(d.errorHistory, everyIteration.errors) where ref > 1 {
            #expect(abs(ours - ref) <= 1e-4 * ref, "λ \(lambda): \(ours) vs \(ref)")
        }
        #expect(agreement(early.labels, official.labels) >= 0.999)
    }

    /// Slower problems (mixtures, skewed, peaked; dense and truncated): the early checks never stop before the
    /// rule is met on an official iteration, so the labels stay the reference's; they end sooner or at the
    /// same iteration as the every-10th schedule.
    @Test("mixtures, skewed and peaked scores: converged, the reference's labels, no more iterations",
          arguments: [
              Case(spec: .init(family: .flat, flatSigma: 0.1, seed: 40), lambda: 10, truncation: .off),
              Case(spec: .init(family: .mixed, fraction: 0.9, seed: 41), lambda: 25, truncation: .off),
              Case(spec: .init(family: .mixed, fraction: 0.9, seed: 42), lambda: 10, truncation: .automatic),
              Case(spec: .init(family: .mixed, fraction: 0.6, probabilities: true, seed: 43), lambda: 25,
                   truncation: .automatic),
              Case(spec: .init(family: .mixed, fraction: 0.5, skew: 3, seed: 44), lambda: 10, truncation: .off),
              Case(spec: .init(family: .peaked, seed: 45), lambda: 25, truncation: .automatic),
          ])
    func slowerProblems(_ c: Case) throws {
        let n = 2000, k = 80
        let z = c.spec.generate(samples: n, clusters: k)
        let kind = c.kind
        let official = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: c.lambda, kind: kind)
        let early = try solve(z, n: n, k: k, options(c, early: true))
        let late = try solve(z, n: n, k: k, options(c, early: false))
        print("\(c): iterations early \(early.iterations), every 10th \(late.iterations), official \(official.iterations); agreement \(agreement(early.labels, official.labels))")
        #expect(early.diagnostics.converged && late.diagnostics.converged)
        #expect(early.diagnostics.errorHistory.last! <= 0.1)
        #expect(early.iterations <= late.iterations, "\(c)")
        #expect(agreement(early.labels, official.labels) >= 0.999, "\(c)")
    }

    /// On the dense method the early checks must save iterations on a mixture, whose every-10th schedule
    /// overshoots (the path under test ran).
    @Test("a dense mixture stops before the next multiple of 10")
    func denseMixtureStopsSooner() throws {
        let n = 2000, k = 80
        let c = Case(spec: .init(family: .mixed, fraction: 0.9, seed: 46), lambda: 25, truncation: .off)
        let z = c.spec.generate(samples: n, clusters: k)
        let early = try solve(z, n: n, k: k, options(c, early: true))
        let late = try solve(z, n: n, k: k, options(c, early: false))
        #expect(early.iterations % 10 != 1 || early.iterations < late.iterations,
                "early \(early.iterations), every 10th \(late.iterations)")
        #expect(early.iterations < late.iterations)
    }
}
