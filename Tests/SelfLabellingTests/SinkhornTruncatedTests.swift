import Foundation
import Testing
import SelfLabelling

/// The truncated method against the dense method and the float64 reference loop. Each test first checks
/// that the truncated method really ran (few kept entries, rebuilds, full passes), so none can pass by the
/// automatic choice quietly falling back to the dense method.
@Suite("Truncated Sinkhorn-Knopp")
struct SinkhornTruncatedTests {
    /// Peaked logits (standard normal × 3, λ = 25): only a few entries per row can carry mass.
    static func peaked(n: Int, k: Int, seed: UInt64) -> [Float] { testLogits(n: n, k: k, scale: 3, seed: seed) }

    func expectTruncated(_ r: SinkhornResultBox, n: Int, k: Int, converged: Bool = true) {
        let d = r.diagnostics
        #expect(d.method == .truncated)
        #expect(d.keptEntries > 0 && d.keptEntries * 8 <= n * k)
        #expect(d.rebuilds >= 1)
        #expect(d.fullPasses >= 1)
        #expect(d.converged == converged)
    }

    @Test("reference loop's labels and iterations, errors within 1%; dense method's final error",
          arguments: [(3000, 500, 25.0, UInt64(101)), (2000, 300, 10.0, 102), (2500, 64, 50.0, 103)])
    func matchesReference(_ c: (Int, Int, Double, UInt64)) throws {
        let (n, k, lambda, seed) = c
        let z = Self.peaked(n: n, k: k, seed: seed)
        let ref = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: lambda)
        let ours = try solve(z, n: n, k: k, .init(lambda: lambda))
        let dense = try solve(z, n: n, k: k, .init(lambda: lambda, truncation: .off))
        let d = ours.diagnostics
        print("truncated N=\(n) K=\(k) λ=\(lambda): kept \(d.keptEntries) of \(n * k), \(d.rebuilds) builds, \(d.fullPasses) full passes, \(ours.iterations) iterations vs \(ref.iterations)")
        expectTruncated(ours, n: n, k: k)
        #expect(ours.labels == ref.labels)
        #expect(ours.iterations == ref.iterations)
        #expect(d.errorHistory.count == ref.errors.count)
        for (a, b) in zip(d.errorHistory, ref.errors) { #expect(abs(a - b) <= 0.01 * b) }
        #expect(abs(d.finalError - dense.diagnostics.finalError) <= 1e-3 * dense.diagnostics.finalError)
        #expect(d.maxMarginalDeviation < 0.01)
        #expect(ours.result.clusterScaling.count == k)
    }

    @Test("probabilities (some exactly 0): the reference loop's labels and iterations")
    func probabilities() throws {
        let n = 3000, k = 400
        let z = Self.peaked(n: n, k: k, seed: 161)
        var p = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let row = z[(i * k)..<((i + 1) * k)]
            let m = row.max()!
            let e = row.map { exp(Double($0 - m)) }
            let sum = e.reduce(0, +)
            for j in 0..<k { p[i * k + j] = (j + i) % 7 == 0 ? 0 : Float(e[j] / sum) }
        }
        let ref = SinkhornKnopp.reference(p, samples: n, clusters: k, lambda: 25, kind: .probabilities)
        let ours = try solve(p, n: n, k: k, .init(kind: .probabilities))
        expectTruncated(ours, n: n, k: k)
        #expect(ours.labels == ref.labels)
        #expect(ours.iterations == ref.iterations)
        let dense = try solve(p, n: n, k: k, .init(kind: .probabilities, truncation: .off))
        #expect(dense.labels == ref.labels)
    }

    @Test("1, 2 and 3 threads give identical labels, iterations and errors")
    func threadIndependence() throws {
        let n = 5003, k = 400
        let z = Self.peaked(n: n, k: k, seed: 111)
        let one = try solve(z, n: n, k: k, .init(threads: 1))
        let two = try solve(z, n: n, k: k, .init(threads: 2))
        let three = try solve(z, n: n, k: k, .init(threads: 3))
        expectTruncated(one, n: n, k: k)
        #expect(one.labels == two.labels && one.labels == three.labels)
        #expect(one.diagnostics.errorHistory == two.diagnostics.errorHistory)
        #expect(one.diagnostics.errorHistory == three.diagnostics.errorHistory)
        #expect(one.diagnostics.keptEntries == three.diagnostics.keptEntries)
    }

    @Test("warm start: the cold start's labels in fewer iterations")
    func warmStart() throws {
        let n = 3000, k = 300
        let z = Self.peaked(n: n, k: k, seed: 121)
        var nudged = z
        var rng = Xoshiro256Test(seed: 5)
        for i in nudged.indices { nudged[i] += Float(rng.nextNormal()) * 0.01 }
        let previous = try solve(nudged, n: n, k: k)
        let cold = try solve(z, n: n, k: k)
        let warm = try solve(z, n: n, k: k, warmStart: previous.result.clusterScaling)
        expectTruncated(warm, n: n, k: k)
        print("truncated warm start: \(warm.iterations) iterations vs \(cold.iterations) cold")
        #expect(warm.iterations < cold.iterations)
        #expect(agreement(warm.labels, cold.labels) >= 0.999)
    }

    @Test("a large λ moves the scalings far: many rebuilds, still the float64 labels")
    func largeLambda() throws {
        let n = 1000, k = 50, lambda = 100.0
        let z = Self.peaked(n: n, k: k, seed: 131)
        let f64 = try solve(z, n: n, k: k, .init(lambda: lambda, precision: .f64, maxIterations: 20_000))
        let ours = try solve(z, n: n, k: k, .init(lambda: lambda, maxIterations: 20_000))
        print("λ = 100: \(ours.diagnostics.rebuilds) builds, \(ours.iterations) iterations vs \(f64.iterations), breakdown repaired \(ours.diagnostics.repairedBreakdown)")
        #expect(ours.diagnostics.method == .truncated && ours.diagnostics.converged)
        #expect(ours.diagnostics.rebuilds >= 2)
        #expect(ours.labels == f64.labels)
        #expect(ours.iterations == f64.iterations)
    }

    @Test("flat scores keep too many entries: the automatic choice is the dense method, with its result")
    func flatScoresAreDense() throws {
        let n = 3000, k = 200
        let z = testLogits(n: n, k: k, scale: 0.01, seed: 141)
        let auto = try solve(z, n: n, k: k)
        let dense = try solve(z, n: n, k: k, .init(truncation: .off))
        #expect(auto.diagnostics.method == .dense && auto.diagnostics.rebuilds == 0)
        #expect(auto.labels == dense.labels)
        #expect(auto.diagnostics.errorHistory == dense.diagnostics.errorHistory)
    }

    @Test("memory: the kept entries are a small fraction of the dense matrix's bytes")
    func storedBytes() throws {
        let n = 4000, k = 1000
        let z = Self.peaked(n: n, k: k, seed: 151)
        let ours = try solve(z, n: n, k: k, .init(maxIterations: 100))  // capped: only the storage is compared
        let dense = try solve(z, n: n, k: k, .init(maxIterations: 100, truncation: .off, denseRows: .stored))
        expectTruncated(ours, n: n, k: k, converged: false)
        #expect(ours.diagnostics.storedMatrixBytes * 10 < dense.diagnostics.storedMatrixBytes)
        #expect(ours.labels == dense.labels)
    }
}
