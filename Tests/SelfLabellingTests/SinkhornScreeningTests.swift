import Foundation
import Testing
import SelfLabelling
import Tensors

/// Probabilities: the truncated method's builds and scores passes skip the groups of 16 entries that are exactly
/// 0 in float32, and the labels the columns that cannot hold a row's maximum, without their logarithms
/// (`SinkhornOptions.screensProbabilities`). That is a shortcut, not an approximation: every result must be
/// bit for bit the one computed with every logarithm. The cut sits 89 below a row's largest exponent, just past
/// the 87.3 where `csk_exp16` gives 0 and the build's drop (below 50): a screen that cut into entries that are
/// not exactly 0 changes the sums' last bits and fails these comparisons.
@Suite("Sinkhorn-Knopp probabilities: screening gives the same bits as every logarithm")
struct SinkhornScreeningTests {
    struct Case: CustomStringConvertible, Sendable {
        let name: String
        let n: Int, k: Int
        let lambda: Double
        let scores: @Sendable (Int, Int) -> [Float]
        var description: String { "\(name) \(n)x\(k) λ=\(lambda)" }
    }

    /// Rows of a family as probabilities.
    static func family(_ spec: SinkhornFamilySpec) -> @Sendable (Int, Int) -> [Float] {
        var s = spec
        s.probabilities = true
        let probabilities = s
        return { n, k in probabilities.generate(samples: n, clusters: k) }
    }

    /// Peaked probabilities with exact zeros, subnormal and tiny entries, and an odd K (a partial last group).
    static func hostile(seed: UInt64) -> @Sendable (Int, Int) -> [Float] {
        { n, k in
            var p = family(.init(family: .mixed, fraction: 0.3, skew: 2, seed: seed))(n, k)
            var rng = Xoshiro256(seed: seed &+ 99)
            for i in 0..<n {
                for j in 0..<k where rng.nextUniformDouble() < 0.05 {
                    switch (i + j) % 3 {
                    case 0: p[i * k + j] = 0
                    case 1: p[i * k + j] = Float.leastNonzeroMagnitude * 7
                    default: p[i * k + j] = 1e-30
                    }
                }
            }
            return p
        }
    }

    static let cases: [Case] = [
        Case(name: "peaked", n: 3000, k: 160, lambda: 25, scores: family(.init(family: .peaked, seed: 31))),
        Case(name: "peaked", n: 3000, k: 160, lambda: 1, scores: family(.init(family: .peaked, seed: 32))),
        Case(name: "mixed 0.6", n: 3000, k: 160, lambda: 10, scores: family(.init(family: .mixed, fraction: 0.6, seed: 33))),
        Case(name: "mixed 0.5 skew 3", n: 3000, k: 120, lambda: 25,
             scores: family(.init(family: .mixed, fraction: 0.5, skew: 3, seed: 34))),
        Case(name: "peaked skew 3", n: 2000, k: 120, lambda: 100, scores: family(.init(family: .peaked, skew: 3, seed: 35))),
        Case(name: "hostile", n: 2500, k: 137, lambda: 25, scores: hostile(seed: 36)),
        Case(name: "hostile", n: 2500, k: 137, lambda: 4, scores: hostile(seed: 37)),
    ]

    @Test("screened and unscreened solves agree bit for bit", arguments: cases)
    func sameBits(_ c: Case) throws {
        let p = c.scores(c.n, c.k)
        for (threads, acceleration) in [(1, SinkhornAcceleration.anderson), (3, .off)] {
            var options = SinkhornOptionsBuilder(lambda: c.lambda, threads: threads, kind: .probabilities,
                                                 maxIterations: 100_000, acceleration: acceleration)
            let screened = try solve(p, n: c.n, k: c.k, options)
            options.options.screensProbabilities = false
            let plain = try solve(p, n: c.n, k: c.k, options)
            let (s, u) = (screened.diagnostics, plain.diagnostics)
            print("\(c) threads \(threads) \(acceleration): \(s.method), \(s.iterations) iterations, \(s.rebuilds) builds, error \(s.finalError)")
            if c.lambda >= 10 { #expect(s.method == .truncated, "\(c)") }
            #expect(screened.labels == plain.labels, "\(c)")
            #expect(s.iterations == u.iterations, "\(c)")
            #expect(s.errorHistory == u.errorHistory, "\(c)")
            #expect(s.keptEntries == u.keptEntries && s.rebuilds == u.rebuilds && s.fullPasses == u.fullPasses, "\(c)")
            #expect(screened.result.clusterScaling == plain.result.clusterScaling, "\(c)")
            #expect(s.maxMarginalDeviation == u.maxMarginalDeviation, "\(c)")
        }
    }

    @Test("the labels' screen finds the float64 maximum, ties to the first column")
    func labelsScreen() throws {
        // Dense rows (the dense method reads every entry; its labels use the same screen) with exact ties.
        let n = 2000, k = 75
        var p = Self.family(.init(family: .flat, flatSigma: 0.05, seed: 41))(n, k)
        for i in stride(from: 0, to: n, by: 5) {
            let row = i * k
            let top = p[row..<(row + k)].max()!
            p[row + (i % k)] = top
            p[row + ((i + 7) % k)] = top  // a tie: the first of the two columns must win, as in np.nanargmax
        }
        for lambda in [0.5, 10.0, 25.0] {
            var options = SinkhornOptionsBuilder(lambda: lambda, kind: .probabilities, truncation: .off)
            let screened = try solve(p, n: n, k: k, options)
            options.options.screensProbabilities = false
            let plain = try solve(p, n: n, k: k, options)
            #expect(screened.labels == plain.labels, "λ \(lambda)")
            let ref = SinkhornKnopp.reference(p, samples: n, clusters: k, lambda: lambda, kind: .probabilities)
            #expect(agreement(screened.labels, ref.labels) >= 0.999, "λ \(lambda)")
        }
    }
}
