import Foundation
import Tensors

/// One streaming pass over the stored matrix — the whole cost of an iteration.
///
/// Iterate mode, for each row n (rows in fixed blocks, 4 rows at a time so `r` and the cluster sums are
/// loaded once per 4 rows):
///
///     s_n = Σ_k A_nk r'_k              (float32 products and 8-lane sums, float64 every 256 columns)
///     c'_n = 1 / (N s_n)               (float64; the previous c'_n is read first for the error)
///     acc_k += A_nk c'_n               (float32 within 64 rows, then float64 per block)
///
/// so one read of `A` gives both the reference's `c_new = (1/N) / (A r)` and the next `Aᵀ c`. Column-sum mode
/// skips the first line and uses the given `c'`. Each block owns its float64 sums and error; the caller adds
/// the blocks in index order, so results do not depend on the thread count.
struct SinkhornPass: @unchecked Sendable {
    let matrix: UnsafeRawPointer
    let n: Int, kp: Int
    /// r' (kp entries, zero in the padding): float32 for `.f32` (in `SinkhornElement.load8`'s lane order),
    /// float64 for `.f64` precision.
    let r32: UnsafePointer<Float>
    let r64: UnsafePointer<Double>
    /// c' per row: read (previous or given), then overwritten in iterate mode.
    let c: UnsafeMutablePointer<Double>
    /// Per-block float64 cluster sums (blockCount x kp) and errors (blockCount).
    let blockAcc: UnsafeMutablePointer<Double>
    let blockErr: UnsafeMutablePointer<Double>
    /// Per-worker float32 cluster sums (threads x kp).
    let scratch: UnsafeMutablePointer<Float>
    /// Iterate (compute c') or only accumulate `Aᵀ c'`.
    let iterate: Bool
    /// Accumulate `Σ_n |c_old/c_new − 1|` with `c_old/c_new = (c'_old / c'_new) · ratio`.
    let check: Bool
    let ratio: Double
    /// Over-relaxation of c (1 = the plain update): `c' ← (c'_old · ratio)^{1−ω} · c'_SK^ω`.
    let omega: Double

    /// Processes block `b` on worker `w` with float32 arithmetic over elements `E`.
    func runF32<E: SinkhornElement>(_: E.Type, block b: Int, worker w: Int, layout: SinkhornLayout) {
        let acc = blockAcc + b * kp
        acc.initialize(repeating: 0, count: kp)
        let s = scratch + w * kp
        var err = 0.0
        let rows = layout.rows(ofBlock: b)
        var row = rows.lowerBound
        while row < rows.upperBound {
            s.initialize(repeating: 0, count: kp)
            let end = min(rows.upperBound, row + 64)
            while row + 4 <= end { err += rows4(E.self, row, s); row += 4 }
            while row < end { err += rows1(E.self, row, s); row += 1 }
            if E.interleaved {
                var j = 0
                while j < kp {
                    for i in 0..<4 {
                        acc[j + 2 * i] += Double(s[j + i])
                        acc[j + 2 * i + 1] += Double(s[j + 4 + i])
                    }
                    j += 8
                }
            } else {
                for j in 0..<kp { acc[j] += Double(s[j]) }
            }
        }
        blockErr[b] = err
    }

    @inline(__always)
    private func finish(_ row: Int, _ dot: Double) -> (Float, Double) {
        if !iterate { return (Float(c[row]), 0) }
        var cNew = 1 / (Double(n) * dot)
        var e = 0.0
        if check { e = abs(c[row] / cNew * ratio - 1) }
        if omega != 1 { cNew = exp((1 - omega) * log(c[row] * ratio) + omega * log(cNew)) }
        c[row] = cNew
        return (Float(cNew), e)
    }

    @inline(__always)
    private func rows4<E: SinkhornElement>(_: E.Type, _ row: Int, _ s: UnsafeMutablePointer<Float>) -> Double {
        let rb = kp * E.byteSize, eb = E.byteSize
        let p0 = matrix + row * rb, p1 = p0 + rb, p2 = p1 + rb, p3 = p2 + rb
        var d0 = 0.0, d1 = 0.0, d2 = 0.0, d3 = 0.0
        if iterate {
            // SIMD8 (two SSE registers) per row keeps the 4 accumulators, r and the loads in registers.
            var start = 0
            while start < kp {  // float64 partial sums every 256 columns; a branch-free inner loop
                let stop = min(kp, start + 256)
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var j = start
                while j < stop {
                    let rv = UnsafeRawPointer(r32 + j).load(as: SIMD8<Float>.self)
                    a0 += E.load8(p0 + j * eb) * rv
                    a1 += E.load8(p1 + j * eb) * rv
                    a2 += E.load8(p2 + j * eb) * rv
                    a3 += E.load8(p3 + j * eb) * rv
                    j += 8
                }
                d0 += Double(a0.sum()); d1 += Double(a1.sum()); d2 += Double(a2.sum()); d3 += Double(a3.sum())
                start = stop
            }
        }
        let (c0, e0) = finish(row, d0), (c1, e1) = finish(row + 1, d1)
        let (c2, e2) = finish(row + 2, d2), (c3, e3) = finish(row + 3, d3)
        var j = 0
        while j < kp {
            let sp = UnsafeMutableRawPointer(s + j)
            var v = E.load8(p0 + j * eb) * c0
            v += E.load8(p1 + j * eb) * c1
            v += E.load8(p2 + j * eb) * c2
            v += E.load8(p3 + j * eb) * c3
            sp.storeBytes(of: sp.load(as: SIMD8<Float>.self) + v, as: SIMD8<Float>.self)
            j += 8
        }
        return ((e0 + e1) + e2) + e3
    }

    @inline(__always)
    private func rows1<E: SinkhornElement>(_: E.Type, _ row: Int, _ s: UnsafeMutablePointer<Float>) -> Double {
        let eb = E.byteSize
        let p0 = matrix + row * kp * eb
        var d0 = 0.0
        if iterate {
            var start = 0
            while start < kp {
                let stop = min(kp, start + 256)
                var a0 = SIMD8<Float>()
                var j = start
                while j < stop {
                    a0 += E.load8(p0 + j * eb) * UnsafeRawPointer(r32 + j).load(as: SIMD8<Float>.self)
                    j += 8
                }
                d0 += Double(a0.sum())
                start = stop
            }
        }
        let (c0, e0) = finish(row, d0)
        var j = 0
        while j < kp {
            let sp = UnsafeMutableRawPointer(s + j)
            sp.storeBytes(of: sp.load(as: SIMD8<Float>.self) + E.load8(p0 + j * eb) * c0, as: SIMD8<Float>.self)
            j += 8
        }
        return e0
    }

    /// Processes block `b` in float64 (fidelity mode): the same pass with float64 products and sums.
    func runF64(block b: Int, layout: SinkhornLayout) {
        let acc = blockAcc + b * kp
        acc.initialize(repeating: 0, count: kp)
        let a = matrix.assumingMemoryBound(to: Double.self)
        var err = 0.0
        for row in layout.rows(ofBlock: b) {
            let p = a + row * kp
            var cRow = c[row]
            if iterate {
                var v = SIMD8<Double>()
                var j = 0
                while j < kp {
                    v += UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Double>.self)
                        * UnsafeRawPointer(r64 + j).loadUnaligned(as: SIMD8<Double>.self)
                    j += 8
                }
                var cNew = 1 / (Double(n) * v.sum())
                if check { err += abs(cRow / cNew * ratio - 1) }
                if omega != 1 { cNew = exp((1 - omega) * log(cRow * ratio) + omega * log(cNew)) }
                cRow = cNew
                c[row] = cNew
            }
            let cv = SIMD8<Double>(repeating: cRow)
            var j = 0
            while j < kp {
                let ap = UnsafeMutableRawPointer(acc + j)
                ap.storeBytes(of: ap.loadUnaligned(as: SIMD8<Double>.self)
                              + UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Double>.self) * cv,
                              as: SIMD8<Double>.self)
                j += 8
            }
        }
        blockErr[b] = err
    }
}
