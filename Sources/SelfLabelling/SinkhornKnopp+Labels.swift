import CSinkhornKernels
import Foundation
import Tensors

/// The final dense pass: `label_n = argmax_k (log r_k + λ y_nk)` from the original scores (`y = z` for logits,
/// `log P` for probabilities), decided in float64; the first maximum wins, like `np.nanargmax`.
///
/// A float32 SIMD screen finds the row maximum `m` of `v_k = log r_k + λ y_k` (for probabilities with
/// `y_k` = a float32 logarithm of `P_k`, about 1 ulp), and only columns with `v_k ≥ m − δ` are re-evaluated
/// in float64 (`λ log P` with a float64 logarithm for probabilities), where
/// `δ = 2⁻²⁰ (max|log r| + |λ| max_k |y_k|)` (2⁻¹⁹ for probabilities) is more than twice the screen's error
/// bound: every column that can hold the float64 maximum is re-evaluated, so the labels are exactly those
/// of a float64 scan. For probabilities a logarithm-free screen by `P_k e^{log r_k / λ}` comes first
/// (`argmaxByWeights`), with the same labels.
struct SinkhornLabels {
    let scores: UnsafePointer<Float>
    let n: Int, k: Int
    let lambda: Double
    let kind: SinkhornScoreKind
    let layout: SinkhornLayout
    let releasePages: Bool
    /// Probabilities: screen the columns by `P_k w_k` (`argmaxByWeights`) before taking logarithms.
    let screen: Bool

    func assign(logR: [Double], threads: Int) -> [Int32] {
        var labels = [Int32](repeating: 0, count: n)
        let lr32 = logR.map { Float($0) }
        let maxAbsLogR = logR.reduce(0) { max($0, abs($1)) }
        let logRows = UnsafeMutablePointer<Float>.allocate(capacity: kind == .probabilities ? threads * k : 1)
        defer { logRows.deallocate() }
        // Probabilities: w_k = e^{(log r_k − max log r)/λ}, so that P_k w_k orders the columns as log r_k + λ log P_k.
        let maxLogR = logR.reduce(-Double.infinity) { max($0, $1) }
        let weights = kind == .probabilities && screen ? logR.map { Float(exp(($0 - maxLogR) / lambda)) } : []
        labels.withUnsafeMutableBufferPointer { out in
            logR.withUnsafeBufferPointer { lr in
                lr32.withUnsafeBufferPointer { lr32 in
                  weights.withUnsafeBufferPointer { weights in
                    // (An empty array's buffer may still have a base address: test the count.)
                    let ctx = UnsafeSendable((out.baseAddress!, lr.baseAddress!, lr32.baseAddress!, logRows,
                                              weights.isEmpty ? nil : weights.baseAddress))
                    sinkhornForEachBlock(layout, threads: threads) { b, w in
                        let (out, lr, lr32, logRows, weights) = ctx.value
                        let lam = lambda
                        for row in layout.rows(ofBlock: b) {
                            let z = scores + row * k
                            if kind == .logits {
                                out[row] = Int32(argmax(z, lr32, maxAbsLogR: maxAbsLogR, deltaScale: 0x1p-20) {
                                    lr[$0] + lam * Double(z[$0])
                                })
                            } else if let weights, let arg = argmaxByWeights(z, weights, exact: {
                                lr[$0] + lam * log(Double(z[$0]))
                            }) {
                                out[row] = Int32(arg)
                            } else {
                                let y = logRows + w * k
                                csk_log_floats(z, y, k)
                                out[row] = Int32(argmax(y, lr32, maxAbsLogR: maxAbsLogR, deltaScale: 0x1p-19) {
                                    lr[$0] + lam * log(Double(z[$0]))
                                })
                            }
                        }
                        if releasePages {
                            let rows = layout.rows(ofBlock: b)
                            sinkhornReleasePages(scores + rows.lowerBound * k, count: rows.count * k)
                        }
                    }
                  }
                }
            }
        }
        return labels
    }

    /// Probabilities without a logarithm per entry: the first column maximising `exact(j)` (float64,
    /// `log r_j + λ log P_j`), screened by `q_j = P_j w_j` in float32. Exactly, `λ log q_j` is that value less
    /// `max log r`, so the float64 maximum's q is within float64's error of the largest q; the computed q carry
    /// at most about 2.4e-7 relative error (w and the product each rounded once), so every column whose q is
    /// within 2⁻²⁰ of the largest is evaluated in float64: the labels of a float64 scan. nil (use the
    /// logarithms) when the largest q is below 2⁻¹⁰⁰, where q's rounding is no longer relative.
    @inline(__always)
    private func argmaxByWeights(_ z: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                 exact: (Int) -> Double) -> Int? {
        var qv = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 8 <= k {
            let q = UnsafeRawPointer(z + j).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(w + j).loadUnaligned(as: SIMD8<Float>.self)
            qv.replace(with: q, where: q .> qv)
            j += 8
        }
        var qmax = qv.max()
        while j < k {
            qmax = max(qmax, z[j] * w[j])
            j += 1
        }
        guard qmax >= 0x1p-100 else { return nil }
        let cut = qmax * (1 - 0x1p-20)
        let cutV = SIMD8<Float>(repeating: cut)
        var best = -Double.infinity, arg = 0
        @inline(__always) func consider(_ j: Int) {
            let v = exact(j)
            if v > best { best = v; arg = j }
        }
        j = 0
        while j + 8 <= k {
            let q = UnsafeRawPointer(z + j).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(w + j).loadUnaligned(as: SIMD8<Float>.self)
            if any(q .>= cutV) {
                for i in j..<(j + 8) where z[i] * w[i] >= cut { consider(i) }
            }
            j += 8
        }
        while j < k {
            if z[j] * w[j] >= cut { consider(j) }
            j += 1
        }
        return arg
    }

    /// The first column maximising `exact(j)` (float64), screened by `lr32 + λ z` in float32.
    @inline(__always)
    private func argmax(_ z: UnsafePointer<Float>, _ lr32: UnsafePointer<Float>, maxAbsLogR: Double,
                        deltaScale: Double, exact: (Int) -> Double) -> Int {
        let lam = Float(lambda)
        let lamV = SIMD8<Float>(repeating: lam)
        var mv = SIMD8<Float>(repeating: -.infinity)
        var av = SIMD8<UInt32>()
        var j = 0
        while j + 8 <= k {
            let zv = UnsafeRawPointer(z + j).loadUnaligned(as: SIMD8<Float>.self)
            let v = UnsafeRawPointer(lr32 + j).loadUnaligned(as: SIMD8<Float>.self) + lamV * zv
            mv.replace(with: v, where: v .> mv)
            let bits = unsafeBitCast(zv, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF
            av.replace(with: bits, where: bits .> av)  // |z| compares like its bit pattern
            j += 8
        }
        var m = mv.max()
        var maxAbsZ = Double(unsafeBitCast(av, to: SIMD8<Float>.self).max())
        while j < k {
            m = max(m, lr32[j] + lam * z[j])
            maxAbsZ = max(maxAbsZ, Double(abs(z[j])))
            j += 1
        }
        if !maxAbsZ.isFinite {  // log 0 = −∞ in a probability row: the bound is over the finite values
            maxAbsZ = 0
            for i in 0..<k where z[i].isFinite { maxAbsZ = max(maxAbsZ, Double(abs(z[i]))) }
        }
        let delta = deltaScale * (maxAbsLogR + abs(lambda) * maxAbsZ) + Double.leastNormalMagnitude
        let threshold = Float(Double(m) - delta)
        var best = -Double.infinity, arg = 0
        @inline(__always) func consider(_ j: Int) {
            let v = exact(j)
            if v > best { best = v; arg = j }
        }
        let thresholdV = SIMD8<Float>(repeating: threshold)
        j = 0
        while j + 8 <= k {  // only the 8-column groups holding a candidate are looked at lane by lane
            let v = UnsafeRawPointer(lr32 + j).loadUnaligned(as: SIMD8<Float>.self)
                + lamV * UnsafeRawPointer(z + j).loadUnaligned(as: SIMD8<Float>.self)
            if any(v .>= thresholdV) {
                for i in j..<(j + 8) where lr32[i] + lam * z[i] >= threshold { consider(i) }
            }
            j += 8
        }
        while j < k {
            if lr32[j] + lam * z[j] >= threshold { consider(j) }
            j += 1
        }
        return arg
    }
}
