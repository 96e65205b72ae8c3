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
/// of a float64 scan.
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
        let logRows = UnsafeMutablePointer<Float>.allocate(capacity: kind == .probabilities ? threads * k : 1)
        defer { logRows.deallocate() }
        labels.withUnsafeMutableBufferPointer { out in
            logR.withUnsafeBufferPointer { lr in
                lr32.withUnsafeBufferPointer { lr32 in
                    let ctx = UnsafeSendable((out.baseAddress!, lr.baseAddress!, lr32.baseAddress!, logRows))
                    sinkhornForEachBlock(layout, threads: threads) { b, w in
                        let (out, lr, lr32, logRows) = ctx.value
                        let lam = lambda
                        for row in layout.rows(ofBlock: b) {
                            let z = scores + row * k
                            if kind == .logits {
                                out[row] = Int32(argmax(z, lr32, maxAbsLogR: maxAbsLogR, deltaScale: 0x1p-20) {
                                    lr[$0] + lam * Double(z[$0])
                                })
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
        return labels
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
