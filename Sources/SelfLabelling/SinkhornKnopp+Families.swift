import Foundation
import Tensors

/// Synthetic score families that stand for the regimes SeLa's label optimisation meets during training
/// (issue 17), for the solver's tests and `selflabel bench sinkhorn --family`.
public enum SinkhornScoreFamily: String, Sendable, CaseIterable {
    /// Every row flat: logits ~ N(0, σ²) with a small σ, as from a randomly initialised network.
    case flat
    /// A fraction of flat rows, the rest peaked (optionally with skewed winners), as in early training.
    case mixed
    /// Every row peaked: logits ~ N(0, 3²), a trained network's (the truncated method's acceptance case).
    case peaked
}

/// One generated problem of a `SinkhornScoreFamily`: deterministic for (spec, N, K), whatever the thread count
/// (row n draws from `Xoshiro256(seed, n)`).
public struct SinkhornFamilySpec: Sendable, Equatable {
    public var family: SinkhornScoreFamily
    /// σ of the flat rows' logits (issue 17: 0.005 to 0.1).
    public var flatSigma: Double = 0.02
    /// σ of the peaked rows' logits.
    public var peakedSigma: Double = 3
    /// `.mixed`: the share of flat rows (each row is flat with this probability).
    public var fraction: Double = 0.6
    /// Skew of the peaked rows' winners (0: none). With s > 0 a peaked row's winner is cluster
    /// `⌊K · u^(1+s)⌋` (u uniform), raised σ above the row's largest logit, so a few low-index clusters
    /// attract most peaked rows (s = 3: 56 % of them go to the first 10 % of the clusters).
    public var skew: Double = 0
    /// Emit probabilities (the rows' softmax, float32) instead of logits.
    public var probabilities = false
    public var seed: UInt64 = 0

    /// A spec with the given fields; the rest keep their defaults.
    public init(family: SinkhornScoreFamily, flatSigma: Double = 0.02, fraction: Double = 0.6, skew: Double = 0,
                probabilities: Bool = false, seed: UInt64 = 0) {
        self.family = family
        self.flatSigma = flatSigma
        self.fraction = fraction
        self.skew = skew
        self.probabilities = probabilities
        self.seed = seed
    }

    /// The N x K scores, row-major, generated in parallel over rows.
    public func generate(samples n: Int, clusters k: Int) -> [Float] {
        var z = [Float](repeating: 0, count: n * k)
        z.withUnsafeMutableBufferPointer { buffer in
            let box = UnsafeSendable(buffer.baseAddress!)
            parallelChunks(n, minChunk: 256) { rows in
                for row in rows { fill(row: row, k: k, into: box.value + row * k) }
            }
        }
        return z
    }

    private func fill(row: Int, k: Int, into z: UnsafeMutablePointer<Float>) {
        var rng = Xoshiro256(seed: seed, UInt64(row))
        let flat = family == .flat || (family == .mixed && rng.nextUniformDouble() < fraction)
        let sigma = flat ? flatSigma : peakedSigma
        var top = -Double.infinity
        for j in 0..<k {
            let v = rng.nextNormal() * sigma
            z[j] = Float(v)
            top = max(top, v)
        }
        if !flat && skew > 0 {
            let winner = min(k - 1, Int(Double(k) * pow(rng.nextUniformDouble(), 1 + skew)))
            z[winner] = Float(top + sigma)
        }
        if probabilities {
            var m = -Float.infinity
            for j in 0..<k { m = max(m, z[j]) }
            var sum = 0.0
            for j in 0..<k { sum += exp(Double(z[j] - m)) }
            for j in 0..<k { z[j] = Float(exp(Double(z[j] - m)) / sum) }
        }
    }
}
