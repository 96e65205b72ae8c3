import Tensors
import Testing

@Suite struct RandomTests {
    @Test func sameSeedSameStreamDifferentSeedsDiffer() {
        var a = Xoshiro256(seed: 42), b = Xoshiro256(seed: 42), c = Xoshiro256(seed: 43)
        let sa = (0..<100).map { _ in a.next() }, sb = (0..<100).map { _ in b.next() }, sc = (0..<100).map { _ in c.next() }
        #expect(sa == sb)
        #expect(zip(sa, sc).filter { $0 == $1 }.isEmpty)
        #expect(Xoshiro256(seed: 1, 2, 3) == Xoshiro256(seed: 1, 2, 3))
        #expect(Xoshiro256(seed: 1, 2, 3) != Xoshiro256(seed: 1, 3, 2))
    }

    /// SplitMix64 reference values (Vigna's splitmix64.c with seed 1234567).
    @Test func splitMixKnownValues() {
        var s = SplitMix64(seed: 1234567)
        #expect(s.next() == 6457827717110365317)
        #expect(s.next() == 3203168211198807973)
    }

    @Test func normalMomentsOnAMillionDraws() {
        var rng = Xoshiro256(seed: 7)
        let n = 1_000_000
        let t = Tensor.randomNormal([n], mean: 1, std: 2, using: &rng)
        let xs = t.scalars.map(Double.init)
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        // Standard errors: 2/sqrt(n) = 0.002 for the mean, about 4·sqrt(2/n) = 0.0057 for the variance.
        #expect(Swift.abs(mean - 1) < 0.01)
        #expect(Swift.abs(variance - 4) < 0.03)
        var r2 = Xoshiro256(seed: 8)
        let singles = (0..<200_000).map { _ in r2.nextNormal() }
        let m2 = singles.reduce(0, +) / 200_000
        #expect(Swift.abs(m2) < 0.01)
    }

    @Test func uniformBernoulliPermutation() {
        var rng = Xoshiro256(seed: 9)
        let u = (0..<100_000).map { _ in rng.nextUniformFloat() }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(Swift.abs(u.reduce(0, +) / 100_000 - 0.5) < 0.01)
        let hits = (0..<100_000).filter { _ in rng.nextBernoulli(0.3) }.count
        #expect(Swift.abs(Double(hits) / 100_000 - 0.3) < 0.01)
        let p = rng.permutation(1000)
        #expect(p.sorted() == Array(0..<1000) && p != Array(0..<1000))
        var r1 = Xoshiro256(seed: 5), r2 = Xoshiro256(seed: 5)
        #expect(r1.permutation(50) == r2.permutation(50))
    }
}
