import Foundation
import Testing
import SelfLabelling

/// Rows read in full computed from the scores in every pass (`SinkhornDenseRows.streamed`) give the stored
/// rows' results bit for bit: the same float32 values, read in the same groups.
@Suite("Sinkhorn-Knopp with streamed dense rows")
struct SinkhornStreamedTests {
    typealias Case = SinkhornFamilyCase

    static let cases: [Case] = [
        Case(spec: .init(family: .flat, flatSigma: 0.02, seed: 11), lambda: 25, truncation: .automatic),
        Case(spec: .init(family: .flat, flatSigma: 0.1, probabilities: true, seed: 12), lambda: 10, truncation: .automatic),
        Case(spec: .init(family: .mixed, fraction: 0.5, seed: 13), lambda: 25, truncation: .automatic),
        Case(spec: .init(family: .mixed, fraction: 0.4, skew: 3, probabilities: true, seed: 14), lambda: 10,
             truncation: .automatic),
        Case(spec: .init(family: .peaked, seed: 15), lambda: 25, truncation: .off),
        // λ 50: rebuilds that keep the flat rows at their own column offsets.
        Case(spec: .init(family: .mixed, fraction: 0.5, skew: 2, seed: 16), lambda: 50, truncation: .automatic),
    ]

    @Test("streamed equals stored bit for bit, whatever the thread count", arguments: cases)
    func streamedEqualsStored(_ c: Case) throws {
        let n = 2000, k = 70  // 70 columns: a padded tail of 10 in every row
        let z = c.spec.generate(samples: n, clusters: k)
        let kind: SinkhornScoreKind = c.spec.probabilities ? .probabilities : .logits
        func run(_ rows: SinkhornDenseRows, threads: Int) throws -> SinkhornResult {
            let o = SinkhornOptions(scoreKind: kind, lambda: c.lambda, maxIterations: 100_000, threads: threads,
                                    truncation: c.truncation, denseRows: rows)
            return try z.withUnsafeBufferPointer {
                try SinkhornKnoppSolver(options: o).solve(scores: $0, samples: n, clusters: k)
            }
        }
        let stored = try run(.stored, threads: 1)
        let ref = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: c.lambda, kind: kind)
        #expect(agreement(stored.labels, ref.labels) >= 0.999, "\(c)")
        #expect(!stored.diagnostics.streamedDenseRows)
        for threads in [1, 3] {
            let streamed = try run(.streamed, threads: threads)
            #expect(streamed.diagnostics.streamedDenseRows, "\(c)")
            #expect(streamed.diagnostics.method == stored.diagnostics.method, "\(c)")
            #expect(streamed.labels == stored.labels, "\(c) threads \(threads)")
            #expect(streamed.diagnostics.errorHistory == stored.diagnostics.errorHistory, "\(c) threads \(threads)")
            #expect(streamed.clusterScaling == stored.clusterScaling, "\(c) threads \(threads)")
            #expect(streamed.diagnostics.storedMatrixBytes < stored.diagnostics.storedMatrixBytes, "\(c)")
        }
    }

    /// `--dense-rows auto` on the dense float32 method of flat scores, or of scores with no peaked row, streams
    /// the first passes and stores the matrix in the pass after them (`SinkhornIteration.deferStore`): the
    /// stored rows' results bit for bit, whenever the store comes — never (flat scores meeting the rule on
    /// iteration 1), in a later iteration (the official every-10th schedule, σ 0.1 at λ 25), after a warm start;
    /// mixtures store in the first pass.
    @Test("a deferred store equals storing first bit for bit, whenever it stores",
          arguments: [(SinkhornFamilySpec(family: .flat, flatSigma: 0.005, seed: 51), 25.0,
                       SinkhornAcceleration.anderson, false as Bool?, false),
                      (SinkhornFamilySpec(family: .flat, flatSigma: 0.02, seed: 52), 25.0, .off, true, false),
                      (SinkhornFamilySpec(family: .flat, flatSigma: 0.02, probabilities: true, seed: 53), 10.0, .off,
                       true, false),
                      (SinkhornFamilySpec(family: .flat, flatSigma: 0.02, seed: 56), 25.0, .anderson, nil, true),
                      (SinkhornFamilySpec(family: .flat, flatSigma: 0.1, seed: 57), 25.0, .anderson, true, false),
                      // No peaked row but not flat (rows span more than 6 nats): streamed for 5 passes, so this
                      // 4-pass solve never stores (flat scores' rule would store in its fourth).
                      (SinkhornFamilySpec(family: .flat, flatSigma: 0.1, seed: 58), 10.0, .anderson, false, false),
                      (SinkhornFamilySpec(family: .mixed, fraction: 0.7, seed: 54), 25.0, .anderson, true, false),
                      (SinkhornFamilySpec(family: .mixed, fraction: 0.7, seed: 55), 10.0, .anderson, true, true)])
    func deferredStoreEqualsStored(_ spec: SinkhornFamilySpec, _ lambda: Double, _ acceleration: SinkhornAcceleration,
                                   _ stores: Bool?, _ warm: Bool) throws {
        let n = 2000, k = 70
        let z = spec.generate(samples: n, clusters: k)
        let kind: SinkhornScoreKind = spec.probabilities ? .probabilities : .logits
        let label = "\(spec.family) σ=\(spec.flatSigma) p=\(spec.probabilities) λ=\(lambda) \(acceleration) warm=\(warm)"
        var warmStart: [Double]? = nil
        if warm {
            warmStart = (0..<k).map { 1 + 0.5 * sin(Double($0)) }
        }
        func run(_ rows: SinkhornDenseRows, threads: Int) throws -> SinkhornResult {
            let o = SinkhornOptions(scoreKind: kind, lambda: lambda, maxIterations: 100_000, threads: threads,
                                    acceleration: acceleration, truncation: .off, denseRows: rows)
            return try z.withUnsafeBufferPointer {
                try SinkhornKnoppSolver(options: o).solve(scores: $0, samples: n, clusters: k, warmStart: warmStart)
            }
        }
        let stored = try run(.stored, threads: 1)
        #expect(stored.diagnostics.converged, "\(label)")
        for threads in [1, 3] {
            let auto = try run(.automatic, threads: threads)
            #expect(auto.labels == stored.labels, "\(label) threads \(threads)")
            #expect(auto.diagnostics.errorHistory == stored.diagnostics.errorHistory, "\(label) threads \(threads)")
            #expect(auto.clusterScaling == stored.clusterScaling, "\(label) threads \(threads)")
            #expect(auto.diagnostics.iterations == stored.diagnostics.iterations, "\(label)")
            // Stored or not, as the solve's course makes it pay.
            if let stores {
                #expect(auto.diagnostics.streamedDenseRows == !stores, "\(label): \(auto.diagnostics.iterations) iterations")
                #expect((auto.diagnostics.storedMatrixBytes > 0) == stores, "\(label)")
            }
        }
    }
}
