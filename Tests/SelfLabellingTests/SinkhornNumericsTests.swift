import Foundation
import Tensors
import Testing
import SelfLabelling

@Suite("Sinkhorn-Knopp numerics: underflow, invariances, balance, warm start, determinism")
struct SinkhornNumericsTests {
    @Test("near-uniform scores at λ = 25, K = 3000: naive float32 P^λ underflows, the shifted solver agrees with f64")
    func nearUniformUnderflow() throws {
        let n = 4000, k = 3000
        let z = testLogits(n: n, k: k, scale: 0.05, seed: 11)  // like a randomly initialised network
        // The naive float32 route: P ≈ 1/K, P^25 ≈ 1e-87 is far below float32's smallest value.
        let p = Float(1) / Float(k)
        #expect(pow(p, 25) == 0)
        let ref = try solve(z, n: n, k: k, .init(precision: .f64))
        let official = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: 25)
        #expect(ref.labels == official.labels)
        #expect(ref.iterations == official.iterations)
        for storage in SinkhornStorage.allCases {  // flat scores: the dense method, whatever truncation says
            let ours = try solve(z, n: n, k: k, .init(storage: storage, truncation: .off))
            let agree = agreement(ours.labels, ref.labels)
            print("near-uniform storage \(storage): agreement \(agree), iterations \(ours.iterations) vs \(ref.iterations)")
            #expect(agree >= 0.999, "storage \(storage)")
            #expect(ours.diagnostics.converged)
        }
    }

    @Test("adding a per-row constant to the logits leaves the labels unchanged")
    func rowShiftInvariance() throws {
        let n = 2000, k = 50
        // Logits on a 2^-10 grid and integer shifts, so the shifted inputs are exact in float32.
        let z = testLogits(n: n, k: k, seed: 21).map { ($0 * 1024).rounded() / 1024 }
        var shifted = z
        for i in 0..<n { for j in 0..<k { shifted[i * k + j] += Float((i * 37) % 101 - 50) } }
        let a = try solve(z, n: n, k: k), b = try solve(shifted, n: n, k: k)
        #expect(a.labels == b.labels)
        #expect(a.iterations == b.iterations)
    }

    @Test("probabilities input (softmax of the logits) gives the logits' labels")
    func probabilitiesMatchLogits() throws {
        let n = 1500, k = 30
        let z = testLogits(n: n, k: k, scale: 1, seed: 22)
        var p = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let row = (0..<k).map { Double(z[i * k + $0]) }
            let m = row.max()!, s = row.map { exp($0 - m) }.reduce(0, +)
            for j in 0..<k { p[i * k + j] = Float(exp(row[j] - m) / s) }
        }
        let fromLogits = try solve(z, n: n, k: k, .init(lambda: 10))
        let fromProbabilities = try solve(p, n: n, k: k, .init(lambda: 10, kind: .probabilities))
        let ref = SinkhornKnopp.reference(p, samples: n, clusters: k, lambda: 10, kind: .probabilities)
        #expect(agreement(fromProbabilities.labels, ref.labels) == 1)
        #expect(agreement(fromLogits.labels, fromProbabilities.labels) >= 0.999)
    }

    @Test("permuting the rows permutes the labels")
    func rowPermutation() throws {
        let n = 3000, k = 60
        let z = testLogits(n: n, k: k, seed: 31)
        var rng = Xoshiro256Test(seed: 5)
        let perm = rng.permutation(n)
        var zp = [Float](repeating: 0, count: n * k)
        for (dst, src) in perm.enumerated() { for j in 0..<k { zp[dst * k + j] = z[src * k + j] } }
        let a = try solve(z, n: n, k: k), b = try solve(zp, n: n, k: k)
        let permuted = perm.map { a.labels[$0] }
        #expect(agreement(permuted, b.labels) == 1)
    }

    @Test("labels are balanced: every cluster within 5% of N/K on random logits")
    func balance() throws {
        // At convergence the transport plan's cluster marginals are within tol-order of N/K, and at λ = 25 rows
        // are nearly one-hot, so the argmax sizes follow the marginals; 5% bounds what we measured (under 2%).
        let n = 20_000, k = 40
        let ours = try solve(testLogits(n: n, k: k, seed: 41), n: n, k: k)
        let d = ours.diagnostics
        let target = Double(n) / Double(k)
        print("balance: sizes \(d.minClusterSize)...\(d.maxClusterSize) of \(target), marginal deviation \(d.maxMarginalDeviation)")
        #expect(Double(d.minClusterSize) >= 0.95 * target)
        #expect(Double(d.maxClusterSize) <= 1.05 * target)
        #expect(d.emptyClusters == 0)
        #expect(d.maxMarginalDeviation < 0.05)
    }

    @Test("warm start: the same labels as a cold start in fewer iterations")
    func warmStart() throws {
        let n = 3000, k = 100
        let z = testLogits(n: n, k: k, seed: 51)
        var nudged = z
        var rng = Xoshiro256Test(seed: 9)
        for i in nudged.indices { nudged[i] += Float(rng.nextNormal()) * 0.01 }
        let previous = try solve(nudged, n: n, k: k)  // the previous label optimisation, on nearby scores
        let cold = try solve(z, n: n, k: k)
        let warm = try solve(z, n: n, k: k, warmStart: previous.result.clusterScaling)
        print("warm start: \(warm.iterations) iterations vs \(cold.iterations) cold, agreement \(agreement(warm.labels, cold.labels))")
        #expect(warm.iterations < cold.iterations)
        #expect(agreement(warm.labels, cold.labels) >= 0.999)
        #expect(warm.diagnostics.converged)
    }

    @Test("1 and 2 threads give identical labels, iterations and errors", arguments: SinkhornStorage.allCases)
    func threadIndependence(_ storage: SinkhornStorage) throws {
        let n = 5003, k = 77
        let z = testLogits(n: n, k: k, scale: 1, seed: 61)
        let one = try solve(z, n: n, k: k, .init(storage: storage, threads: 1, truncation: .off))
        let two = try solve(z, n: n, k: k, .init(storage: storage, threads: 2, truncation: .off))
        let three = try solve(z, n: n, k: k, .init(storage: storage, threads: 3, truncation: .off))
        #expect(one.labels == two.labels && one.labels == three.labels)
        #expect(one.iterations == two.iterations)
        #expect(one.diagnostics.errorHistory == two.diagnostics.errorHistory)
        #expect(one.diagnostics.errorHistory == three.diagnostics.errorHistory)
    }

    @Test("heads are solved independently in one buffer")
    func multiHead() throws {
        let h = 3, n = 1200, k = 24
        let z = testLogits(n: h * n, k: k, seed: 71)
        let solver = try SinkhornKnoppSolver(options: SinkhornOptions())
        let all = try z.withUnsafeBufferPointer { try solver.solveHeads(scores: $0, heads: h, samples: n, clusters: k) }
        #expect(all.count == h)
        for head in 0..<h {
            let alone = try solve(Array(z[(head * n * k)..<((head + 1) * n * k)]), n: n, k: k)
            #expect(all[head].labels == alone.labels)
            #expect(all[head].diagnostics.iterations == alone.iterations)
        }
    }

    @Test("the iteration cap is reported, not silent")
    func iterationCap() throws {
        let n = 2000, k = 100
        let capped = try solve(testLogits(n: n, k: k, seed: 81), n: n, k: k, .init(maxIterations: 15))
        #expect(capped.iterations == 15)
        #expect(!capped.diagnostics.converged)
        #expect(capped.diagnostics.finalError > 0.1)
    }
}

/// A local seeded generator for permutations and noise (Tensors' Xoshiro256, re-exported for clarity).
typealias Xoshiro256Test = Xoshiro256

@Suite("Over-relaxed Sinkhorn-Knopp")
struct SinkhornOverRelaxationTests {
    @Test("reaches the official tolerance in fewer iterations with the plain solver's labels",
          arguments: [(3000, 100, 25.0, UInt64(91)), (4000, 300, 25.0, 92), (2000, 50, 10.0, 93)])
    func fewerIterationsSameLabels(_ c: (Int, Int, Double, UInt64)) throws {
        let (n, k, lambda, seed) = c
        let z = testLogits(n: n, k: k, seed: seed)
        let ref = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: lambda)
        var o = SinkhornOptionsBuilder(lambda: lambda)
        o.options.acceleration = .overRelaxation
        let fast = try solve(z, n: n, k: k, o)
        let agree = agreement(fast.labels, ref.labels)
        print("over-relaxed N=\(n) K=\(k) λ=\(lambda): \(fast.iterations) iterations vs \(ref.iterations), agreement \(agree), errors \(fast.diagnostics.errorHistory.map { Float($0) })")
        #expect(fast.diagnostics.converged)
        #expect(fast.diagnostics.finalError <= 0.1)
        #expect(fast.iterations < ref.iterations)
        #expect(agree >= 0.999)
    }
}
