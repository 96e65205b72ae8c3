import Foundation
import SelfLabelling
import Testing

/// `SinkhornKnopp.logDomain`: the official loop on logarithms, the trainer's last resort (issue 12 §2.5).
@Suite struct SinkhornLogDomainTests {
    @Test("where float64 holds P^λ it is the reference loop: same labels, iterations and errors")
    func matchesTheReference() throws {
        let n = 600, k = 12
        let z = testLogits(n: n, k: k, seed: 21)
        let reference = SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: 25)
        let (log, deviation) = z.withUnsafeBufferPointer {
            SinkhornKnopp.logDomain($0.baseAddress!, samples: n, clusters: k, lambda: 25)
        }
        #expect(reference.converged && log.converged)
        #expect(log.labels == reference.labels)
        #expect(log.iterations == reference.iterations)
        #expect(log.errors.count == reference.errors.count)
        for (a, b) in zip(log.errors, reference.errors) { #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "\(a) vs \(b)") }
        let maxR = reference.clusterScaling.max()!
        for (a, b) in zip(log.clusterScaling, reference.clusterScaling) { #expect(abs(a - b / maxR) <= 1e-9) }
        #expect(deviation.isFinite && deviation < 0.1)
    }

    @Test("λ = 3000, where the reference breaks down: finite, converged, balanced")
    func hugeLambda() throws {
        let n = 2000, k = 40
        let z = testLogits(n: n, k: k, scale: 3, seed: 17)
        #expect(Set(SinkhornKnopp.reference(z, samples: n, clusters: k, lambda: 3000, maxIterations: 50).labels).count < k / 2)
        let (r, deviation) = z.withUnsafeBufferPointer {
            SinkhornKnopp.logDomain($0.baseAddress!, samples: n, clusters: k, lambda: 3000, maxIterations: 1000)
        }
        #expect(r.errors.allSatisfy(\.isFinite) && deviation.isFinite)
        var sizes = [Int](repeating: 0, count: k)
        for l in r.labels { sizes[Int(l)] += 1 }
        #expect(sizes.min()! >= n / k / 2 && sizes.max()! <= 2 * n / k, "\(sizes)")
    }
}
