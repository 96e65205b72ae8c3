import Foundation
import Testing
import SelfLabelling

/// `SinkhornOptions.startsBalanced`: with Anderson, a cold start runs pass 0 from `r' = 1` (every cluster scaled
/// by its column's largest entry) instead of the reference's uniform `c_0`, which in `P^λ` weighs a peaked row
/// up to `e^{λ log K}` times a flat one. Pass 0 is not a check; every later check is the official one.
@Suite("Sinkhorn-Knopp: the balanced start")
struct SinkhornBalancedStartTests {
    typealias Case = SinkhornFamilyCase

    private func options(_ c: Case, balanced: Bool) -> SinkhornOptionsBuilder {
        var b = c.andersonOptions()
        b.options.startsBalanced = balanced
        return b
    }

    /// Flat scores contract fast under plain steps, so every pass after pass 0 is a plain check
    /// (`SinkhornIteration.plainContraction`): the solve must be the reference loop started from the balanced
    /// `c` and checked every iteration, one pass longer (pass 0 computes that `c`), with its errors.
    @Test("flat scores: the reference loop from the balanced start, checked every iteration",
          arguments: [
              Case(spec: .init(family: .flat, flatSigma: 0.1, seed: 60), lambda: 10, truncation: .off),
              Case(spec: .init(family: .flat, flatSigma: 0.005, seed: 61), lambda: 25, truncation: .automatic),
              Case(spec: .init(family: .flat, flatSigma: 0.02, probabilities: true, seed: 62), lambda: 10,
                   truncation: .automatic),
          ])
    func flatIsTheBalancedReference(_ c: Case) throws {
        let n = 2000, k = 80
        let z = c.spec.generate(samples: n, clusters: k)
        let kind = c.kind
        let balancedRef = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: c.lambda, kind: kind,
                                                  checkInterval: 1, startsBalanced: true)
        let official = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: c.lambda, kind: kind)
        let ours = try solve(z, n: n, k: k, options(c, balanced: true))
        let d = ours.diagnostics
        #expect(d.converged)
        #expect(ours.iterations == balancedRef.iterations + 1, "\(c): \(d.errorHistory) vs \(balancedRef.errors)")
        #expect(d.errorHistory.count == balancedRef.errors.count, "\(c): \(d.errorHistory) vs \(balancedRef.errors)")
        for (mine, ref) in zip(d.errorHistory, balancedRef.errors) where ref > 1 {
            #expect(abs(mine - ref) <= 1e-4 * ref, "\(c): \(mine) vs \(ref)")
        }
        #expect(d.errorHistory.last! <= 0.1)
        #expect(agreement(ours.labels, official.labels) >= 0.999, "\(c)")
    }

    /// On a mixture of flat and peaked rows the reference's start sets the first `r` from the peaked rows
    /// alone; the balanced start must need far fewer iterations there, and on every family give the official
    /// loop's labels (≥ 99.9 %) with its rule met.
    @Test("mixtures, skewed and peaked scores: the official labels; far fewer iterations on flat-heavy mixtures",
          arguments: [
              (Case(spec: .init(family: .mixed, fraction: 0.9, seed: 63), lambda: 25, truncation: .off), true),
              (Case(spec: .init(family: .mixed, fraction: 0.9, probabilities: true, seed: 64), lambda: 10,
                    truncation: .off), true),
              (Case(spec: .init(family: .mixed, fraction: 0.9, seed: 65), lambda: 25, truncation: .automatic), true),
              (Case(spec: .init(family: .mixed, fraction: 0.6, probabilities: true, seed: 66), lambda: 25,
                    truncation: .automatic), false),
              (Case(spec: .init(family: .mixed, fraction: 0.5, skew: 3, seed: 67), lambda: 10, truncation: .off), false),
              (Case(spec: .init(family: .peaked, skew: 3, seed: 68), lambda: 25, truncation: .automatic), false),
          ])
    func mixtures(_ c: Case, _ faster: Bool) throws {
        let n = 2000, k = 80
        let z = c.spec.generate(samples: n, clusters: k)
        let kind = c.kind
        let official = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: c.lambda, kind: kind)
        let balanced = try solve(z, n: n, k: k, options(c, balanced: true))
        let reference = try solve(z, n: n, k: k, options(c, balanced: false))
        print("\(c): iterations balanced \(balanced.iterations), reference's start \(reference.iterations), official \(official.iterations); agreement \(agreement(balanced.labels, official.labels))")
        #expect(balanced.diagnostics.converged)
        #expect(balanced.diagnostics.errorHistory.last! <= 0.1)
        #expect(agreement(balanced.labels, official.labels) >= 0.999, "\(c)")
        if faster {
            #expect(2 * balanced.iterations <= reference.iterations,
                    "\(c): balanced \(balanced.iterations), reference's start \(reference.iterations)")
        }
    }

    /// Pass 0 runs from an `r` that no `c` produced: it must not be taken for a check.
    @Test("pass 0 is not a check")
    func passZeroIsNotChecked() throws {
        let n = 500, k = 40
        let c = Case(spec: .init(family: .flat, flatSigma: 0.005, seed: 69), lambda: 25, truncation: .off)
        let z = c.spec.generate(samples: n, clusters: k)
        var b = options(c, balanced: true)
        b.options.maxIterations = 1
        let one = try solve(z, n: n, k: k, b)
        #expect(one.diagnostics.errorHistory.isEmpty, "\(one.diagnostics.errorHistory)")
        #expect(!one.diagnostics.converged)
        b.options.maxIterations = 2
        let two = try solve(z, n: n, k: k, b)
        #expect(two.diagnostics.errorHistory.count == 1)
    }

    /// The dense method stores its matrix in the balanced start's pass 0 (`SinkhornIteration.deferStore`): the
    /// bits of streaming every pass, with 1 and 3 threads; a 16-bit storage converges to the official labels.
    @Test("the store in pass 0 equals streaming bit for bit",
          arguments: [SinkhornFamilySpec(family: .mixed, fraction: 0.9, seed: 70),
                      SinkhornFamilySpec(family: .mixed, fraction: 0.7, probabilities: true, seed: 71),
                      SinkhornFamilySpec(family: .flat, flatSigma: 0.1, seed: 72)])
    func storeInPassZero(_ spec: SinkhornFamilySpec) throws {
        let n = 2000, k = 70  // a padded tail of 10 columns
        let z = spec.generate(samples: n, clusters: k)
        let kind: SinkhornScoreKind = spec.probabilities ? .probabilities : .logits
        func run(_ rows: SinkhornDenseRows, storage: SinkhornStorage = .f32, threads: Int) throws -> SinkhornResult {
            var o = SinkhornOptions(scoreKind: kind, lambda: 25, maxIterations: 100_000, storage: storage,
                                    threads: threads, acceleration: .anderson, truncation: .off, denseRows: rows)
            o.startsBalanced = true
            return try z.withUnsafeBufferPointer {
                try SinkhornKnoppSolver(options: o).solve(scores: $0, samples: n, clusters: k)
            }
        }
        let stored = try run(.stored, threads: 1)
        #expect(stored.diagnostics.converged && !stored.diagnostics.streamedDenseRows)
        #expect(stored.diagnostics.storedMatrixBytes > 0)
        for threads in [1, 3] {
            let streamed = try run(.streamed, threads: threads)
            #expect(streamed.diagnostics.streamedDenseRows)
            #expect(streamed.labels == stored.labels, "\(spec) threads \(threads)")
            #expect(streamed.diagnostics.errorHistory == stored.diagnostics.errorHistory, "\(spec) threads \(threads)")
            #expect(streamed.clusterScaling == stored.clusterScaling, "\(spec) threads \(threads)")
        }
        let official = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: 25, kind: kind)
        let bf16 = try run(.stored, storage: .bf16, threads: 2)
        #expect(bf16.diagnostics.converged)
        #expect(agreement(bf16.labels, official.labels) >= 0.99, "\(spec)")
    }
}
