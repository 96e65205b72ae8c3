import CSinkhornKernels
import Distributed
import Foundation
import Tensors

/// The first pass over the scores of one head: validation, row shifts, column shifts and the reference's
/// starting row scaling, all in one read.
///
/// With `y_nk = z_nk` (logits) or `log P_nk` (probabilities), the row shift is `m_n = max_k y_nk`, the column
/// shift is `b_k = λ · max_n (y_nk − m_n)` (≤ 0) and the stored matrix is `A_nk = exp(λ (y_nk − m_n) − b_k)`:
/// every row and every column holds a 1, so nothing overflows and no column underflows to all zeros. Row
/// factors are absorbed by `c`, column factors by `r`, so the iterates are the reference's up to these
/// factors. The reference starts from a uniform `c` for `P^λ`; in the shifted problem that is
/// `c0_n ∝ exp(λ (m_n − logsumexp_k z_nk))` (logits) or `exp(λ m_n)` (probabilities), kept as a logarithm.
struct SinkhornPrepare {
    let scores: UnsafePointer<Float>
    let n: Int, k: Int, kp: Int
    let lambda: Double
    let kind: SinkhornScoreKind
    let head: Int
    let layout: SinkhornLayout
    /// Return the scores' pages after each block (`SinkhornOptions.releaseFileBackedScores`).
    let releasePages: Bool
    /// Probabilities with an integer λ: the dense method's column roots `e^{−b_k/λ}` (kp), with which its
    /// entries are powers instead of exponentials of logarithms (`withPowers`); nil otherwise.
    private(set) var colRoot: UnsafePointer<Float>? = nil

    func release(block b: Int) {
        if releasePages {
            let rows = layout.rows(ofBlock: b)
            sinkhornReleasePages(scores + rows.lowerBound * k, count: rows.count * k)
        }
    }

    /// The C kernels' view of these scores, writing `rowShift` and `logC0`.
    func arguments(rowShift: UnsafeMutablePointer<Double>, logC0: UnsafeMutablePointer<Double>?) -> CSKPrepare {
        CSKPrepare(scores: scores, k: k, kp: kp, lambda: Float(lambda), probabilities: kind == .probabilities ? 1 : 0,
                   drop: SinkhornTruncatedMatrix.drop(clusters: k),
                   denseRowMin: SinkhornTruncatedMatrix.denseRowMin(paddedClusters: kp), rowShift: rowShift, logC0: logC0,
                   power: colRoot == nil ? 0 : Int32(lambda), colRoot: colRoot)
    }

    /// These scores with the dense method's probability entries as powers, `A_nk = (P_nk e^{−b_k/λ} / max P_n)^λ`
    /// by repeated squaring (C `csk_power_row`), where λ is an integer from 1 to `CSK_POWER_MAX` and every column
    /// root `e^{−b_k/λ}` is at most `CSK_POWER_MAX_ROOT`: no logarithm and exponential per entry, which made a
    /// streamed pass over probabilities twice one over logits. The value is the same within float32 rounding
    /// (closer to the exact one than the logarithm's path: at most (5λ − 1) · 2⁻²⁴ relative, measured 82 against
    /// 223 units at λ 25, `SinkhornPowerRowTests`); every store and
    /// streamed pass of one solve uses the same path, so they agree bit for bit. Otherwise self. `colShift`: b
    /// (kp); `into`: kp floats, kept for the solve.
    func withPowers(colShift: UnsafePointer<Double>, into root: UnsafeMutablePointer<Float>) -> SinkhornPrepare {
        guard kind == .probabilities, lambda == lambda.rounded(), lambda >= 1, lambda <= Double(CSK_POWER_MAX)
        else { return self }
        for j in 0..<kp {
            root[j] = Float(exp(-colShift[j] / lambda))
            guard root[j] <= CSK_POWER_MAX_ROOT else { return self }
        }
        var p = self
        p.colRoot = UnsafePointer(root)
        return p
    }

    /// Per-row outputs and per-block column maxima (C kernel `csk_statistics_block`); throws the first bad
    /// score in row-major order. Returns per block the entries within the truncated method's drop of their row
    /// maximum (with no column shift: what its first build keeps when every `b_k` is 0), and the entries within
    /// `CSK_FLAT_RANGE` nats of it in the plan (`λ (y_nk − m_n) ≥ −6`).
    /// `rowTemp`: one kp row per worker.
    func statistics(rowShift: UnsafeMutablePointer<Double>, logC0: UnsafeMutablePointer<Double>,
                    blockColMax: UnsafeMutablePointer<Float>, rowTemp: UnsafeMutablePointer<Float>,
                    threads: Int, solver: SinkhornKnoppSolver) throws -> (near: [Int], flat: [Int]) {
        let g = layout.blockCount
        var near = [Int](repeating: 0, count: g), flat = [Int](repeating: 0, count: g)
        var bad = [CSKBadScore?](repeating: nil, count: g)
        let args = arguments(rowShift: rowShift, logC0: logC0)
        near.withUnsafeMutableBufferPointer { nearPtr in
            flat.withUnsafeMutableBufferPointer { flatPtr in
                bad.withUnsafeMutableBufferPointer { badPtr in
                    let ctx = UnsafeSendable((nearPtr.baseAddress!, flatPtr.baseAddress!, badPtr.baseAddress!,
                                              blockColMax, rowTemp))
                    sinkhornForEachBlock(layout, threads: threads) { b, w in
                        let (near, flat, bad, colMax, rowTemp) = ctx.value
                        let rows = layout.rows(ofBlock: b)
                        var count = 0, flatCount = 0, report = CSKBadScore()
                        withUnsafePointer(to: args) { a in
                            if csk_statistics_block(a, rows.lowerBound, rows.upperBound, colMax + b * kp,
                                                    rowTemp + w * kp, &count, &flatCount, &report) != 0 {
                                bad[b] = report
                            }
                        }
                        near[b] = count
                        flat[b] = flatCount
                        release(block: b)
                    }
                }
            }
        }
        // Across ranks: the first bad block of all, reported by the rank that read it; the others stop.
        var firstBad = bad.firstIndex { $0 != nil } ?? g
        if solver.isDistributed {
            firstBad = try solver.communicator.allreduce(firstBad, .min)
            if firstBad < g && bad[firstBad] == nil {
                throw DistributedError.peerFailed(rank: solver.owner(ofBlock: firstBad, layout: layout))
            }
        }
        if firstBad < g, let first = bad[firstBad] {
            let (row, col) = (Int(first.row), Int(first.column))
            if first.isProbability == 0 {
                throw SinkhornError.nonFiniteScore(head: head, row: row, column: col, value: first.value)
            }
            if col < 0 { throw SinkhornError.zeroProbabilityRow(head: head, row: row) }
            throw SinkhornError.invalidProbability(head: head, row: row, column: col, value: first.value)
        }
        return (near, flat)
    }

    /// The float64 matrix of the fidelity mode: `A_nk = exp(λ (y_nk − m_n) − b_k)` in float64 arithmetic.
    func storeF64(into matrix: UnsafeMutablePointer<Double>, rowShift: UnsafePointer<Double>,
                  colShift: UnsafePointer<Double>, threads: Int) {
        let ctx = UnsafeSendable((matrix, rowShift, colShift))
        sinkhornForEachBlock(layout, threads: threads) { b, _ in
            let (matrix, rowShift, colShift) = ctx.value
            for row in layout.rows(ofBlock: b) {
                let z = scores + row * k
                let out = matrix + row * kp
                let m = rowShift[row]
                for j in 0..<k {
                    let y = kind == .logits ? Double(z[j]) : log(Double(z[j]))
                    out[j] = exp(lambda * (y - m) - colShift[j])
                }
                for j in k..<kp { out[j] = 0 }
            }
            release(block: b)
        }
    }
}
