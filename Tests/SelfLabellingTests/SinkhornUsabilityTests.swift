import Foundation
import Testing
import SelfLabelling

/// Labels that converge but cannot serve, and λ beyond float64's `P^λ` (issue 12 §2.5, §2.8).
@Suite("Sinkhorn-Knopp: degenerate labels and huge λ")
struct SinkhornUsabilityTests {
    @Test("all-equal rows meet the stop rule but give degenerate labels, and say so")
    func allEqualRowsAreDegenerate() throws {
        let n = 400, k = 8
        let flat = try solve([Float](repeating: 1.5, count: n * k), n: n, k: k)
        #expect(flat.diagnostics.converged)
        #expect(flat.diagnostics.degenerateLabels && flat.diagnostics.emptyClusters == k - 1)
        let normal = try solve(testLogits(n: n, k: k, seed: 5), n: n, k: k)
        #expect(!normal.diagnostics.degenerateLabels)
        #expect(!normal.diagnostics.numericalBreakdown)
        #expect(throws: Never.self) { try normal.result.requireUsable(head: 0, options: SinkhornOptions()) }
    }

    @Test("λ = 3000: the reference loop cannot hold P^λ; every method still balances the clusters")
    func hugeLambda() throws {
        let n = 2000, k = 40, lambda = 3000.0
        let z = testLogits(n: n, k: k, scale: 3, seed: 17)
        let official = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: lambda, maxIterations: 50)
        #expect(Set(official.labels).count < k / 2)  // float64 P^λ underflows: the official loop breaks down
        for (precision, truncation) in [(SinkhornPrecision.f32, SinkhornTruncation.automatic), (.f32, .off), (.f64, .off)] {
            let r = try solve(z, n: n, k: k, .init(lambda: lambda, precision: precision, truncation: truncation))
            let d = r.diagnostics
            #expect(!d.numericalBreakdown && !d.degenerateLabels, "\(precision) \(truncation)")
            #expect(d.minClusterSize >= n / k / 2 && d.maxClusterSize <= 2 * n / k, "\(precision) \(truncation)")
            #expect(d.representableLambda < lambda && d.representableLambda > 1)
        }
    }

    @Test("empty clusters: split fills every one from the largest, refuse throws, report keeps the labels")
    func emptyClusterPolicies() throws {
        let n = 400, k = 8
        let flat = [Float](repeating: 1.5, count: n * k)
        var split = SinkhornOptionsBuilder()
        split.options.emptyClusters = .split
        let repaired = try solve(flat, n: n, k: k, split)
        let d = repaired.diagnostics
        #expect(d.repairedEmptyClusters == k - 1 && d.emptyClusters == 0 && !d.degenerateLabels)
        var sizes = [Int](repeating: 0, count: k)
        for l in repaired.labels { sizes[Int(l)] += 1 }
        #expect(sizes.reduce(0, +) == n && sizes.min()! >= 1, "\(sizes)")
        var refuse = SinkhornOptionsBuilder()
        refuse.options.emptyClusters = .refuse
        #expect(throws: SinkhornError.emptyClusters(head: 0, count: k - 1)) { try solve(flat, n: n, k: k, refuse) }
        // On ordinary scores nothing is empty: every policy gives the same labels.
        let z = testLogits(n: 2000, k: 20, seed: 12)
        #expect(try solve(z, n: 2000, k: 20, split).labels == solve(z, n: 2000, k: 20).labels)
    }
}
