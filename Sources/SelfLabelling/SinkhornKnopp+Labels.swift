import CSinkhornKernels
import Foundation
import Tensors

/// The final dense pass: `label_n = argmax_k (log r_k + λ y_nk)` from the original scores (`y = z` for logits,
/// `log P` for probabilities), decided in float64; the first maximum wins, like `np.nanargmax`.
///
/// The C kernel `csk_labels_block` (dispatched per CPU like the passes) screens each row in float32 and
/// re-evaluates in float64 only the columns that can hold the float64 maximum: `v_k = log r_k + λ y_k` (for
/// probabilities with `y_k` = a float32 logarithm of `P_k`, about 1 ulp) within
/// `δ = 2⁻²⁰ (max|log r| + |λ| max_k |y_k|)` (2⁻¹⁹ for probabilities) of the row's largest, δ being more than
/// twice the screen's error bound, so the labels are exactly those of a float64 scan. For probabilities a
/// logarithm-free screen by `P_k e^{log r_k / λ}` comes first, with the same labels.
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
        // Probabilities: w_k = e^{(log r_k − max log r)/λ}, so that P_k w_k orders the columns as log r_k + λ log P_k.
        let maxLogR = logR.reduce(-Double.infinity) { max($0, $1) }
        let weights = kind == .probabilities && screen ? logR.map { Float(exp(($0 - maxLogR) / lambda)) } : []
        let logRows = UnsafeMutablePointer<Float>.allocate(capacity: kind == .probabilities ? threads * k : 1)
        defer { logRows.deallocate() }
        labels.withUnsafeMutableBufferPointer { out in
            logR.withUnsafeBufferPointer { lr in
                lr32.withUnsafeBufferPointer { lr32 in
                    weights.withUnsafeBufferPointer { weights in
                        // (An empty array's buffer may still have a base address: test the count.)
                        let args = CSKLabels(scores: scores, k: k, lambda: Float(lambda), lambda64: lambda,
                                             probabilities: kind == .probabilities ? 1 : 0, logR: lr.baseAddress,
                                             logR32: lr32.baseAddress, maxAbsLogR: maxAbsLogR,
                                             weights: weights.isEmpty ? nil : weights.baseAddress)
                        let ctx = UnsafeSendable((out.baseAddress!, logRows))
                        sinkhornForEachBlock(layout, threads: threads) { b, w in
                            let (out, logRows) = ctx.value
                            let rows = layout.rows(ofBlock: b)
                            let temp = kind == .probabilities ? logRows + w * k : logRows  // logarithms of P
                            withUnsafePointer(to: args) { a in
                                csk_labels_block(a, rows.lowerBound, rows.upperBound, out, temp)
                            }
                            if releasePages {
                                sinkhornReleasePages(scores + rows.lowerBound * k, count: rows.count * k)
                            }
                        }
                    }
                }
            }
        }
        return labels
    }
}
