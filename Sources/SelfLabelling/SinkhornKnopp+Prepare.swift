import CSinkhornKernels
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

    func release(block b: Int) {
        if releasePages {
            let rows = layout.rows(ofBlock: b)
            sinkhornReleasePages(scores + rows.lowerBound * k, count: rows.count * k)
        }
    }

    /// Per-row outputs and per-block column maxima; throws the first bad score in row-major order.
    /// `rowTemp`: one kp row per worker (a row's exponentials, or the logarithms of a probability row).
    func statistics(rowShift: UnsafeMutablePointer<Double>, logC0: UnsafeMutablePointer<Double>,
                    blockColMax: UnsafeMutablePointer<Float>, rowTemp: UnsafeMutablePointer<Float>,
                    threads: Int) throws {
        var bad = [(Int, Int, Float, Bool)?](repeating: nil, count: layout.blockCount)
        try bad.withUnsafeMutableBufferPointer { badPtr in
            let ctx = UnsafeSendable((rowShift, logC0, blockColMax, badPtr.baseAddress!, rowTemp))
            sinkhornForEachBlock(layout, threads: threads) { b, w in
                let (rowShift, logC0, colMaxAll, bad, rowTemp) = ctx.value
                let colMax = colMaxAll + b * kp
                colMax.initialize(repeating: -.infinity, count: kp)
                for row in layout.rows(ofBlock: b) {
                    let z = scores + row * k
                    if let (col, value, isProb) = firstInvalid(z) {
                        bad[b] = (row, col, value, isProb)
                        return
                    }
                    if kind == .logits {
                        let (m, logSum) = rowMaxAndLogSumExp(z, temp: rowTemp + w * kp)
                        rowShift[row] = Double(m)
                        logC0[row] = -lambda * logSum
                        updateColumnMax(colMax, z, shift: m)
                    } else {
                        let y = rowTemp + w * kp
                        csk_log_floats(z, y, k)
                        let m = rowMax(y)
                        rowShift[row] = Double(m)
                        logC0[row] = lambda * Double(m)
                        updateColumnMax(colMax, y, shift: m)
                    }
                }
                release(block: b)
            }
            for case let (row, col, value, isProb)? in badPtr {
                if isProb && col < 0 { throw SinkhornError.zeroProbabilityRow(head: head, row: row) }
                if isProb { throw SinkhornError.invalidProbability(head: head, row: row, column: col, value: value) }
                throw SinkhornError.nonFiniteScore(head: head, row: row, column: col, value: value)
            }
        }
    }

    /// The first non-finite (or, for probabilities, negative or above 1) entry of a row; column −1 for an all-zero
    /// probability row.
    private func firstInvalid(_ z: UnsafePointer<Float>) -> (Int, Float, Bool)? {
        var j = 0
        var clean = true
        while j + 8 <= k {
            let v = UnsafeRawPointer(z + j).loadUnaligned(as: SIMD8<Float>.self)
            if any((v - v) .!= 0) { clean = false; break }
            j += 8
        }
        if clean { while j < k { if !z[j].isFinite { clean = false; break }; j += 1 } }
        if !clean { for j in 0..<k where !z[j].isFinite { return (j, z[j], false) } }
        if kind == .probabilities {
            var positive = false
            for j in 0..<k {
                if z[j] < 0 || z[j] > 1 { return (j, z[j], true) }
                if z[j] > 0 { positive = true }
            }
            if !positive { return (-1, 0, true) }  // an all-zero row
        }
        return nil
    }

    /// `max_k z_k` of a row without NaNs.
    private func rowMax(_ z: UnsafePointer<Float>) -> Float {
        var mv = SIMD8<Float>(repeating: -.infinity)
        var j = 0
        while j + 8 <= k {
            let v = UnsafeRawPointer(z + j).loadUnaligned(as: SIMD8<Float>.self)
            mv.replace(with: v, where: v .> mv)  // vectorises, unlike pointwiseMax's NaN-aware lanes
            j += 8
        }
        var m = mv.max()
        while j < k { m = max(m, z[j]); j += 1 }
        return m
    }

    /// `max_k z_k` and `log Σ_k exp(z_k − max)` of a finite row; `temp` holds k floats.
    private func rowMaxAndLogSumExp(_ z: UnsafePointer<Float>, temp e: UnsafeMutablePointer<Float>) -> (Float, Double) {
        let m = rowMax(z)
        let mSplat = SIMD8<Float>(repeating: m)
        var j = 0
        while j + 8 <= k {
            UnsafeMutableRawPointer(e + j).storeBytes(
                of: UnsafeRawPointer(z + j).loadUnaligned(as: SIMD8<Float>.self) - mSplat, as: SIMD8<Float>.self)
            j += 8
        }
        while j < k { e[j] = z[j] - m; j += 1 }
        csk_exp_floats(e, e, k)
        var sums = SIMD8<Float>()  // terms in (0, 1]; float32 is ample for the starting c0
        j = 0
        while j + 8 <= k {
            sums += UnsafeRawPointer(e + j).loadUnaligned(as: SIMD8<Float>.self)
            j += 8
        }
        if j < k { sums += loadPartial(e + j, k - j, fill: 0) }
        return (m, log(Double(sums.sum())))
    }

    private func updateColumnMax(_ colMax: UnsafeMutablePointer<Float>, _ z: UnsafePointer<Float>, shift m: Float) {
        let mSplat = SIMD8<Float>(repeating: m)
        var j = 0
        while j + 8 <= k {
            let raw = UnsafeMutableRawPointer(colMax + j)
            let d = UnsafeRawPointer(z + j).loadUnaligned(as: SIMD8<Float>.self) - mSplat
            var m = raw.load(as: SIMD8<Float>.self)
            m.replace(with: d, where: d .> m)
            raw.storeBytes(of: m, as: SIMD8<Float>.self)
            j += 8
        }
        while j < k { colMax[j] = max(colMax[j], z[j] - m); j += 1 }
    }

    /// Writes the stored matrix `A_nk = exp(λ (y_nk − m_n) − b_k)` rounded to `E`, rows padded with zeros to
    /// `kp` columns. `colShift` holds `b` (kp entries, 0 in the padding); `rowTemp` one `kp` row per worker.
    func storeF32<E: SinkhornElement>(_: E.Type, into matrix: UnsafeMutableRawPointer,
                                      rowShift: UnsafePointer<Double>, colShift: UnsafePointer<Float>,
                                      rowTemp: UnsafeMutablePointer<Float>, threads: Int) {
        let ctx = UnsafeSendable((matrix, rowShift, colShift, rowTemp))
        let lam = Float(lambda)
        let rowBytes = kp * E.byteSize
        sinkhornForEachBlock(layout, threads: threads) { b, w in
            let (matrix, rowShift, colShift, rowTemp) = ctx.value
            let y = rowTemp + w * kp
            for row in layout.rows(ofBlock: b) {
                let z = scores + row * k
                if kind == .logits {
                    y.update(from: z, count: k)
                } else {
                    csk_log_floats(z, y, k)
                }
                for j in k..<kp { y[j] = -.infinity }
                let m = SIMD8<Float>(repeating: Float(rowShift[row]))
                let out = matrix + row * rowBytes
                var j = 0
                while j < kp {
                    let raw = UnsafeMutableRawPointer(y + j)
                    let bk = UnsafeRawPointer(colShift + j).load(as: SIMD8<Float>.self)
                    raw.storeBytes(of: lam * (raw.load(as: SIMD8<Float>.self) - m) - bk, as: SIMD8<Float>.self)
                    j += 8
                }
                csk_exp_floats(y, y, kp)
                j = 0
                while j < kp {
                    E.store8(UnsafeRawPointer(y + j).load(as: SIMD8<Float>.self), out + j * E.byteSize)
                    j += 8
                }
            }
            release(block: b)
        }
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
