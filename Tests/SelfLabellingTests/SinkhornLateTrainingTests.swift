import Foundation
import Interop
import SelfLabelling
import Testing

/// Issue 14 §1: a late-training label problem (committed fixture, `Fixtures/slow/make_slow_fixture.py`) on
/// which the official loop needs 1,801 iterations. The training defaults (Anderson acceleration, automatic
/// cap) must reach the official stopping rule on it, and the result must be the reference's: checked by the
/// official error recomputed here in float64 from the returned cluster scaling (no solver code involved),
/// and by the labels of the NumPy float64 official loop.
@Suite("Sinkhorn-Knopp on a slow late-training problem (issue 14)")
struct SinkhornLateTrainingTests {
    static let lambda = 25.0, tolerance = 0.1

    struct Fixture {
        let logits: [Float], n: Int, k: Int
        let labels: [Int32]
        let referenceIterations: Int
    }

    static func fixture() throws -> Fixture {
        func url(_ name: String, _ ext: String) throws -> URL {
            try #require(Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures/slow"))
        }
        let z = try NpyArray(contentsOf: try url("late_training_n300_k30_logits", "npy").path)
        let labels = try NpyArray(contentsOf: try url("late_training_n300_k30_labels", "npy").path).int64s()
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: try url("late_training_n300_k30_reference", "json")))
        let iterations = try #require((json as? [String: Any])?["iterations"] as? Int)
        return Fixture(logits: z.tensor().scalars, n: z.shape[0], k: z.shape[1],
                       labels: labels.map { Int32($0) }, referenceIterations: iterations)
    }

    /// The official error one plain iteration after the returned cluster scaling `r`, in float64 from the
    /// logits: `c = (1/N)/(A r)`, `r' = (1/K)/(Aᵀ c)`, `c' = (1/N)/(A r')`, `Σ_n |c_n/c'_n − 1|`.
    static func officialError(after r: [Double], _ f: Fixture) -> Double {
        let (n, k) = (f.n, f.k)
        var a = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            let row = (0..<k).map { Double(f.logits[i * k + $0]) }
            let m = row.max()!
            for j in 0..<k { a[i * k + j] = exp(lambda * (row[j] - m)) }  // P^λ up to a row factor (c absorbs it)
        }
        func sampleScaling(_ r: [Double]) -> [Double] {
            (0..<n).map { i in 1 / (Double(n) * (0..<k).reduce(0.0) { $0 + a[i * k + $1] * r[$1] }) }
        }
        let c = sampleScaling(r)
        var colSum = [Double](repeating: 0, count: k)
        for i in 0..<n { for j in 0..<k { colSum[j] += a[i * k + j] * c[i] } }
        let c2 = sampleScaling(colSum.map { 1 / (Double(k) * $0) })
        return zip(c, c2).reduce(0.0) { $0 + abs($1.0 / $1.1 - 1) }
    }

    @Test("the Swift reference loop needs as many iterations as NumPy's and more than the former cap of 1,000")
    func referenceIsSlow() throws {
        let f = try Self.fixture()
        let ref = SinkhornKnopp.reference(f.logits, samples: f.n, clusters: f.k, lambda: Self.lambda)
        #expect(ref.converged)
        #expect(ref.iterations == f.referenceIterations)
        #expect(ref.iterations > 1000)
        #expect(ref.labels == f.labels)
        // The former training default (plain, cap 1,000) stops short of the rule and says so.
        let old = try f.logits.withUnsafeBufferPointer {
            try SinkhornKnoppSolver(options: SinkhornOptions(lambda: Self.lambda, maxIterations: 1000, precision: .f64))
                .solve(scores: $0, samples: f.n, clusters: f.k)
        }
        #expect(!old.diagnostics.converged)
        #expect(old.diagnostics.finalError > Self.tolerance)
    }

    @Test("the training defaults reach the official rule in far fewer iterations, with the reference's labels",
          arguments: [SinkhornPrecision.f64, .f32])
    func trainingDefaultsConverge(_ precision: SinkhornPrecision) throws {
        let f = try Self.fixture()
        let options = SinkhornOptions(lambda: Self.lambda, tolerance: Self.tolerance, maxIterations: 0,
                                      precision: precision, acceleration: .anderson)
        let result = try f.logits.withUnsafeBufferPointer {
            try SinkhornKnoppSolver(options: options).solve(scores: $0, samples: f.n, clusters: f.k)
        }
        let d = result.diagnostics
        let err = Self.officialError(after: result.clusterScaling, f)
        print("late-training \(precision): \(d.iterations) iterations (reference \(f.referenceIterations)), official error after: \(err)")
        #expect(d.converged)
        #expect(!d.stalled)
        #expect(d.finalError <= Self.tolerance)
        #expect(err <= Self.tolerance)
        #expect(d.iterations * 5 < f.referenceIterations)
        #expect(agreement(result.labels, f.labels) >= 0.99)
    }

    @Test("the automatic cap lets the plain loop run to the rule, with the reference's iteration count")
    func automaticCapPlain() throws {
        let f = try Self.fixture()
        let options = SinkhornOptions(lambda: Self.lambda, maxIterations: 0, precision: .f64)
        let result = try f.logits.withUnsafeBufferPointer {
            try SinkhornKnoppSolver(options: options).solve(scores: $0, samples: f.n, clusters: f.k)
        }
        #expect(result.diagnostics.converged)
        #expect(result.diagnostics.iterations == f.referenceIterations)
        #expect(result.labels == f.labels)
    }

    @Test("the automatic cap stops a solve whose error no longer falls (an infeasible equipartition)")
    func automaticCapStalls() throws {
        // Probabilities with zeros: 3 of every 4 samples can only go to cluster 0, so cluster 1 can never get
        // its half; the error settles near 10 and never meets the rule.
        let p: [Float] = (0..<5).flatMap { _ in [1, 0, 1, 0, 1, 0, 0.5, 0.5] as [Float] }
        let options = SinkhornOptions(scoreKind: .probabilities, lambda: 1, maxIterations: 0)
        let result = try p.withUnsafeBufferPointer {
            try SinkhornKnoppSolver(options: options).solve(scores: $0, samples: 20, clusters: 2)
        }
        let d = result.diagnostics
        #expect(!d.converged)
        #expect(d.stalled)
        #expect(d.finalError > 1)
        #expect(d.iterations >= SinkhornOptions.automaticStallIterations)
        #expect(d.iterations < 2 * SinkhornOptions.automaticStallIterations)
    }
}
