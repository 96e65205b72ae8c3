import Foundation
import Tensors

/// The final dense pass: `label_n = argmax_k (log r_k + λ y_nk)` from the original scores (`y = z` for logits,
/// `log P` for probabilities), decided in float64; the first maximum wins, like `np.nanargmax`.
///
/// For logits a float32 SIMD screen finds the row maximum `m` of `v_k = log r_k + λ z_k`, and only columns
/// with `v_k ≥ m − δ` are re-evaluated in float64, where `δ = 2⁻²⁰ (max|log r| + |λ| max_k |z_k|)` is 16 times
/// the float32 rounding bound: every column that can hold the float64 maximum is re-evaluated, so the labels
/// are exactly those of a float64 scan.
struct SinkhornLabels {
    let scores: UnsafePointer<Float>
    let n: Int, k: Int
    let lambda: Double
    let kind: SinkhornScoreKind
    let layout: SinkhornLayout
    let releasePages: Bool

    func assign(logR: [Double], threads: Int) -> [Int32] {
        var labels = [Int32](repeating: 0, count: n)
        let lr32 = logR.map { Float($0) }
        let maxAbsLogR = logR.reduce(0) { max($0, abs($1)) }
        labels.withUnsafeMutableBufferPointer { out in
            logR.withUnsafeBufferPointer { lr in
                lr32.withUnsafeBufferPointer { lr32 in
                    let ctx = UnsafeSendable((out.baseAddress!, lr.baseAddress!, lr32.baseAddress!))
                    sinkhornForEachBlock(layout, threads: threads) { b, _ in
                        let (out, lr, lr32) = ctx.value
                        for row in layout.rows(ofBlock: b) {
                            let z = scores + row * k
                            out[row] = Int32(kind == .logits
                                ? argmaxLogits(z, lr, lr32, maxAbsLogR: maxAbsLogR)
                                : argmaxProbabilities(z, lr))
                        }
                        if releasePages {
                            let rows = layout.rows(ofBlock: b)
                            sinkhornReleasePages(scores + rows.lowerBound * k, count: rows.count * k)
                        }
                    }
                }
            }
        }
        return labels
    }

    @inline(__always)
    private func argmaxLogits(_ z: UnsafePointer<Float>, _ lr: UnsafePointer<Double>, _ lr32: UnsafePointer<Float>,
                              maxAbsLogR: Double) -> Int {
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
        let delta = 0x1p-20 * (maxAbsLogR + abs(lambda) * maxAbsZ) + Double.leastNormalMagnitude
        let threshold = Float(Double(m) - delta)
        var best = -Double.infinity, arg = 0
        @inline(__always) func consider(_ j: Int) {
            let v = lr[j] + lambda * Double(z[j])
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

    @inline(__always)
    private func argmaxProbabilities(_ p: UnsafePointer<Float>, _ lr: UnsafePointer<Double>) -> Int {
        var best = -Double.infinity, arg = 0
        for j in 0..<k {
            let v = lr[j] + lambda * log(Double(p[j]))
            if v > best { best = v; arg = j }
        }
        return arg
    }
}
