#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator used to expand one seed into well-mixed state.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable, Codable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman, Vigna 2018): SelfLabel's seeded generator. Fast, 256 bits of state, passes BigCrush.
///
/// Randomness in SelfLabel is always explicit: functions take `inout some RandomNumberGenerator`; there is no
/// global generator. The state is `Codable` so checkpoints can store it and a resumed run continues the stream.
public struct Xoshiro256: RandomNumberGenerator, Sendable, Hashable, Codable {
    public var s: (UInt64, UInt64, UInt64, UInt64) {
        get { (s0, s1, s2, s3) }
        set { (s0, s1, s2, s3) = newValue }
    }
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// State expanded from `seed` with SplitMix64 (never all zero).
    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    /// A generator for one item of a stream, derived from several integers (for example seed, epoch, index),
    /// so that parallel workers draw the same numbers whatever the scheduling.
    public init(seed: UInt64, _ keys: UInt64...) {
        var mixer = SplitMix64(seed: seed)
        var h = mixer.next()
        for k in keys {
            mixer = SplitMix64(seed: h ^ (k &* 0xD6E8_FEB8_6659_FD93))
            h = mixer.next()
        }
        self.init(seed: h)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    public static func == (a: Xoshiro256, b: Xoshiro256) -> Bool {
        a.s0 == b.s0 && a.s1 == b.s1 && a.s2 == b.s2 && a.s3 == b.s3
    }
    public func hash(into h: inout Hasher) { h.combine(s0); h.combine(s1); h.combine(s2); h.combine(s3) }
}

extension RandomNumberGenerator {
    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func nextUniformFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextUniformDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal by the Box-Muller transform (one of the pair is used; simple and exact).
    public mutating func nextNormal() -> Double {
        var u1 = nextUniformDouble()
        while u1 <= 0 { u1 = nextUniformDouble() }
        let u2 = nextUniformDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// True with probability `p`.
    public mutating func nextBernoulli(_ p: Double) -> Bool { nextUniformDouble() < p }

    /// A uniformly random permutation of `0..<n` (Fisher-Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var a = Array(0..<n)
        if n < 2 { return a }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(next(upperBound: UInt64(i + 1)))
            a.swapAt(i, j)
        }
        return a
    }
}

extension Tensor {
    /// Independent normal samples N(mean, std²), filled pairwise by Box-Muller.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                                    using rng: inout some RandomNumberGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let n = t.count
        let p = t.storage.base
        var i = 0
        while i < n {
            var u1 = rng.nextUniformDouble()
            while u1 <= 0 { u1 = rng.nextUniformDouble() }
            let u2 = rng.nextUniformDouble()
            let r = (-2 * Glibc.log(u1)).squareRoot()
            p[i] = mean + std * Float(r * Glibc.cos(2 * Double.pi * u2))
            if i + 1 < n { p[i + 1] = mean + std * Float(r * Glibc.sin(2 * Double.pi * u2)) }
            i += 2
        }
        t.makeUnique()
        return t
    }

    /// Independent uniform samples in [low, high).
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                                     using rng: inout some RandomNumberGenerator) -> Tensor {
        Tensor(shape: shape) { _ in low + (high - low) * rng.nextUniformFloat() }
    }
}
