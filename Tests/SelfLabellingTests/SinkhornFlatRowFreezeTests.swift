import Distributed
import Foundation
import Testing
import SelfLabelling

/// `SinkhornOptions.freezesFlatRows`: with Anderson on mixtures of flat and peaked rows, rounds of passes over
/// the peaked rows alone with the flat rows' scaling held, between official checks (`SinkhornFlatRowFreeze`).
/// Checked against the reference loop (`SinkhornKnopp.reference`) and against an independent float64
/// evaluation of the official stop rule at the returned scaling.
@Suite("Sinkhorn-Knopp: flat rows held between checks (mixtures, Anderson)")
struct SinkhornFlatRowFreezeTests {
    struct Case: CustomStringConvertible, Sendable {
        let spec: SinkhornFamilySpec
        let lambda: Double
        var description: String { "σ=\(spec.flatSigma) f=\(spec.fraction) skew=\(spec.skew) p=\(spec.probabilities) λ=\(lambda)" }
    }

    static let cases: [Case] = [
        Case(spec: .init(family: .mixed, fraction: 0.6, skew: 3, seed: 31), lambda: 25),
        Case(spec: .init(family: .mixed, fraction: 0.6, skew: 3, seed: 32), lambda: 10),
        Case(spec: .init(family: .mixed, fraction: 0.1, skew: 3, seed: 33), lambda: 25),
        Case(spec: .init(family: .mixed, fraction: 0.9, skew: 2, seed: 34), lambda: 25),
        Case(spec: .init(family: .mixed, fraction: 0.6, seed: 35), lambda: 25),
        Case(spec: .init(family: .mixed, flatSigma: 0.1, fraction: 0.5, skew: 3, seed: 36), lambda: 25),
        Case(spec: .init(family: .mixed, flatSigma: 0.005, fraction: 0.6, skew: 3, seed: 37), lambda: 10),
        Case(spec: .init(family: .mixed, fraction: 0.6, skew: 3, probabilities: true, seed: 38), lambda: 25),
    ]

    static func options(_ c: Case, freeze: Bool = true, threads: Int = 1,
                        denseRows: SinkhornDenseRows = .stored) -> SinkhornOptionsBuilder {
        var o = SinkhornOptionsBuilder(lambda: c.lambda, threads: threads,
                                       kind: c.spec.probabilities ? .probabilities : .logits,
                                       maxIterations: 100_000, acceleration: .anderson, denseRows: denseRows)
        o.options.freezesFlatRows = freeze
        return o
    }

    @Test("the reference's labels, the official rule met at the returned scaling, the flat rows read a few times",
          arguments: cases)
    func matchesReference(_ c: Case) throws {
        let n = 4000, k = 150
        let z = c.spec.generate(samples: n, clusters: k)
        let kind: SinkhornScoreKind = c.spec.probabilities ? .probabilities : .logits
        let ref = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: c.lambda, kind: kind)
        #expect(ref.converged)
        let held = try solve(z, n: n, k: k, Self.options(c))
        let every = try solve(z, n: n, k: k, Self.options(c, freeze: false))
        let d = held.diagnostics
        let everyRow = d.iterations - d.sparsePasses
        let nextError = Self.officialError(z, n: n, k: k, lambda: c.lambda, kind: kind,
                                           clusterScaling: held.result.clusterScaling)
        print("\(c): held \(d.iterations) passes (\(everyRow) over every row, \(d.rebuilds) builds), ordinary \(every.iterations), reference \(ref.iterations); errors \(d.errorHistory); next official error \(nextError); agreement \(agreement(held.labels, ref.labels))")
        #expect(d.method == .truncated)
        #expect(d.converged && d.finalError <= 0.1)
        #expect(agreement(held.labels, ref.labels) >= 0.999, "\(c)")
        // The solve stopped at the official fixed point: one more official iteration, in float64 from the
        // returned scaling, also meets the tolerance.
        #expect(nextError <= 0.1, "\(c)")
        // The scheme ran and paid: most passes left the flat rows out, and few read them.
        #expect(d.sparsePasses > 0, "\(c)")
        #expect(everyRow <= 24, "\(c): \(everyRow) passes over every row")
        // Skewed winners need hundreds of ordinary iterations; without skew the balanced start
        // (`SinkhornOptions.startsBalanced`) leaves ordinary iterations few (10 here), and the rounds read
        // every row fewer times still.
        #expect(c.spec.skew > 0 ? everyRow * 4 < every.iterations : everyRow < every.iterations,
                "\(c): \(everyRow) passes over every row, ordinary \(every.iterations)")
    }

    @Test("1 and 3 threads, flat rows stored or streamed: the same labels, passes and errors")
    func deterministic() throws {
        let c = Self.cases[0]
        let n = 3000, k = 120
        let z = c.spec.generate(samples: n, clusters: k)
        let one = try solve(z, n: n, k: k, Self.options(c))
        for (threads, rows) in [(3, SinkhornDenseRows.stored), (1, .streamed), (3, .streamed)] {
            let other = try solve(z, n: n, k: k, Self.options(c, threads: threads, denseRows: rows))
            #expect(other.labels == one.labels, "\(threads) \(rows)")
            #expect(other.iterations == one.iterations, "\(threads) \(rows)")
            #expect(other.diagnostics.sparsePasses == one.diagnostics.sparsePasses, "\(threads) \(rows)")
            #expect(other.diagnostics.errorHistory == one.diagnostics.errorHistory, "\(threads) \(rows)")
            #expect(other.result.clusterScaling == one.result.clusterScaling, "\(threads) \(rows)")
        }
        #expect(one.diagnostics.sparsePasses > 0)
    }

    @Test("2 and 3 ranks: the single process's labels, scalings, passes and errors")
    func acrossRanks() throws {
        let c = Self.cases[2]
        let n = 3000, k = 120
        let z = c.spec.generate(samples: n, clusters: k)
        let options = Self.options(c, denseRows: .streamed).options
        func run(_ ranks: Int) throws -> [String] {
            try ThreadGroupCommunicator.run(ranks: ranks) { world -> String in
                let r = try z.withUnsafeBufferPointer {
                    try SinkhornKnoppSolver(options: options, communicator: world)
                        .solve(scores: $0, samples: n, clusters: k)
                }
                let d = r.diagnostics
                return "\(r.labels) \(r.clusterScaling) \(d.iterations) \(d.sparsePasses) \(d.errorHistory) \(d.rebuilds)"
            }
        }
        let single = try run(1)[0]
        #expect(try solve(z, n: n, k: k, Self.options(c, denseRows: .streamed)).diagnostics.sparsePasses > 0)
        for ranks in [2, 3] {
            for (rank, result) in try run(ranks).enumerated() { #expect(result == single, "rank \(rank) of \(ranks)") }
        }
    }

    @Test("off without Anderson, and on problems without both kinds of rows: ordinary iterations")
    func onlyWhereItApplies() throws {
        let n = 3000, k = 120
        let mixed = SinkhornFamilySpec(family: .mixed, fraction: 0.6, skew: 3, seed: 41).generate(samples: n, clusters: k)
        let plain = try solve(mixed, n: n, k: k, .init(lambda: 25, maxIterations: 100_000))
        let ref = SinkhornKnopp.reference(mixed, samples: n, clusters: k, lambda: 25, kind: .logits)
        #expect(plain.diagnostics.sparsePasses == 0)
        #expect(plain.iterations == ref.iterations)  // the official loop's count, untouched
        let peaked = SinkhornFamilySpec(family: .peaked, skew: 3, seed: 42).generate(samples: n, clusters: k)
        let p = try solve(peaked, n: n, k: k, .init(lambda: 25, maxIterations: 100_000, acceleration: .anderson))
        #expect(p.diagnostics.sparsePasses == 0)
        #expect(p.diagnostics.converged)
    }

    /// The official error of one plain iteration from `r` (float64, the reference's arithmetic on `P^λ` with
    /// each row scaled by its maximum): `c = (1/N)/(A r)`, `r' = (1/K)/(Aᵀ c)`, `c' = (1/N)/(A r')`,
    /// `Σ_n |c_n / c'_n − 1|`.
    static func officialError(_ z: [Float], n: Int, k: Int, lambda: Double, kind: SinkhornScoreKind,
                              clusterScaling r: [Double]) -> Double {
        var a = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            let y = (0..<k).map { kind == .probabilities ? log(Double(z[i * k + $0])) : Double(z[i * k + $0]) }
            let m = y.max()!
            for j in 0..<k { a[i * k + j] = exp(lambda * (y[j] - m)) }
        }
        func rowScaling(_ r: [Double]) -> [Double] {
            (0..<n).map { i in
                var s = 0.0
                for j in 0..<k { s += a[i * k + j] * r[j] }
                return 1 / (Double(n) * s)
            }
        }
        let c = rowScaling(r)
        var col = [Double](repeating: 0, count: k)
        for i in 0..<n { for j in 0..<k { col[j] += a[i * k + j] * c[i] } }
        let c2 = rowScaling(col.map { 1 / (Double(k) * $0) })
        return zip(c, c2).reduce(0) { $0 + abs($1.0 / $1.1 - 1) }
    }
}
