import CSinkhornKernels
import Foundation
import Tensors

/// One streaming pass over the stored matrix — the whole cost of an iteration.
///
/// Iterate mode, for each sample row n (rows in fixed blocks; the C kernel takes 8 rows at a time so `r'` and
/// the cluster sums are loaded once per 8 rows, the rest of a 64-row group one by one):
///
///     s_n = Σ_k A_nk r'_k              (float32 products and 16-lane sums, float64 every 256 columns)
///     c'_n = 1 / (N s_n)               (float64; the previous c'_n is read first for the error)
///     acc_k += A_nk c'_n               (float32 within 64 rows, then float64 per block)
///
/// so one read of `A` gives both the reference's `c_new = (1/N) / (A r)` and the next `Aᵀ c`. Column-sum mode
/// skips the first line and uses the given `c'`. Each block owns its float64 sums and error; the caller adds
/// the blocks in index order, so results do not depend on the thread count (they may differ in the last bits
/// between C kernels: the AVX2 and AVX-512 instances fuse multiply-adds, the portable one does not).
struct SinkhornPass: @unchecked Sendable {
    let n: Int, kp: Int
    /// r' per cluster (kp entries, zero in the padding): float32 for `.f32` (natural order),
    /// float64 for `.f64` precision.
    let r32: UnsafePointer<Float>
    let r64: UnsafePointer<Double>
    /// c' per sample row: read (previous or given), then overwritten in iterate mode.
    let c: UnsafeMutablePointer<Double>
    /// Per-block float64 cluster sums (blockCount x kp) and errors (blockCount).
    let blockAcc: UnsafeMutablePointer<Double>
    let blockErr: UnsafeMutablePointer<Double>
    /// Per-worker float32 cluster sums (threads x kp).
    let scratch: UnsafeMutablePointer<Float>
    /// Per-worker groups of rows computed from the scores (threads x 64 x kp).
    let chunk: UnsafeMutablePointer<Float>
    /// Iterate (compute c') or only accumulate `Aᵀ c'`.
    let iterate: Bool
    /// Accumulate `Σ_n |c_old/c_new − 1|` with `c_old/c_new = (c'_old / c'_new) · ratio`.
    let check: Bool
    let ratio: Double
    /// Over-relaxation of c (1 = the plain update): `c' ← (c'_old · ratio)^{1−ω} · c'_SK^ω`.
    let omega: Double
    /// Truncated source: the dense rows' r' and cluster-sum factors while they keep older column offsets
    /// (`SinkhornTruncatedMatrix.loadDenseScaling`); nil otherwise.
    var r32Dense: UnsafePointer<Float>? = nil
    var denseScale: UnsafePointer<Double>? = nil
    /// Truncated source, kept entries: leave the dense (flat) rows out of the pass (`SinkhornFlatRowFreeze`).
    var skipDense = false
    /// Truncated source, kept entries: per-block dense rows' cluster sums written here (blockCount x kp), or nil.
    var denseAcc: UnsafeMutablePointer<Double>? = nil

    /// Processes block `b` on worker `w` with float32 arithmetic (the C kernel `csk_pass_block`, chosen for
    /// this CPU at run time: AVX-512F, AVX2 + FMA + F16C, or portable) over `element` storage.
    func runF32(_ matrix: UnsafeRawPointer, _ element: CSKElement, block b: Int, worker w: Int,
                layout: SinkhornLayout) {
        let rows = layout.rows(ofBlock: b)
        var args = arguments(matrix, element)
        blockErr[b] = csk_pass_block(&args, rows.lowerBound, rows.upperBound, blockAcc + b * kp, scratch + w * kp)
    }

    /// Processes block `b` of the dense float32 matrix computed from the scores (C kernel
    /// `csk_stream_pass_block`: the bits `runF32` reads from the stored matrix, in the same groups); then
    /// returns the scores' pages of the block if `prepare` may.
    func runStreamed(_ prepare: SinkhornPrepare, rowShift: UnsafeMutablePointer<Double>, colShift: UnsafePointer<Float>,
                     block b: Int, worker w: Int, rowTemp: UnsafeMutablePointer<Float>) {
        let rows = prepare.layout.rows(ofBlock: b)
        var args = arguments(nil, CSK_F32)
        let chunkRows = Int(CSK_GROUP_ROWS)
        blockErr[b] = withUnsafePointer(to: prepare.arguments(rowShift: rowShift, logC0: nil)) { a in
            csk_stream_pass_block(&args, a, colShift, rows.lowerBound, rows.upperBound, blockAcc + b * kp,
                                  scratch + w * kp, chunk + w * chunkRows * kp, rowTemp + w * kp)
        }
        prepare.release(block: b)
    }

    /// Stores block `b` of the dense matrix as `element` into `matrix` and runs this pass over it in the same read
    /// of the scores (C kernel `csk_store_pass_block`: the bits of `csk_store_block`, then `runF32`); then returns
    /// the scores' pages of the block if `prepare` may.
    func runStoring(_ prepare: SinkhornPrepare, _ element: CSKElement, into matrix: UnsafeMutableRawPointer,
                    rowShift: UnsafeMutablePointer<Double>, colShift: UnsafePointer<Float>, block b: Int, worker w: Int,
                    rowTemp: UnsafeMutablePointer<Float>) {
        let rows = prepare.layout.rows(ofBlock: b)
        var args = arguments(nil, element)
        blockErr[b] = withUnsafePointer(to: prepare.arguments(rowShift: rowShift, logC0: nil)) { a in
            csk_store_pass_block(&args, a, colShift, rows.lowerBound, rows.upperBound, Int32(element.rawValue), matrix,
                                 blockAcc + b * kp, scratch + w * kp, rowTemp + w * kp)
        }
        prepare.release(block: b)
    }

    /// Processes block `b` of a truncated matrix: its kept entries, or (`full`) every entry computed from the
    /// scores; float64 sums either way.
    func runTruncated(_ m: SinkhornTruncatedMatrix, full: Bool, block b: Int, worker w: Int) {
        var args = arguments(nil, CSK_F32)
        args.skipDense = skipDense ? 1 : 0
        args.denseAcc = full ? nil : denseAcc.map { $0 + b * kp }
        blockErr[b] = full ? m.fullPass(&args, block: b, worker: w, acc: blockAcc + b * kp)
            : m.pass(&args, block: b, worker: w, acc: blockAcc + b * kp, scratch: scratch + w * kp,
                     chunk: chunk + w * Int(CSK_GROUP_ROWS) * kp)
    }

    private func arguments(_ matrix: UnsafeRawPointer?, _ element: CSKElement) -> CSKPass {
        CSKPass(matrix: matrix, n: n, kp: kp, r32: r32, c: c, element: Int32(element.rawValue),
                iterate: iterate ? 1 : 0, check: check ? 1 : 0, ratio: ratio, omega: omega, r32Dense: r32Dense,
                denseScale: denseScale, skipDense: 0, denseAcc: nil)
    }

    /// Processes block `b` in float64 (fidelity mode): the same pass with float64 products and sums.
    func runF64(_ matrix: UnsafeRawPointer, block b: Int, layout: SinkhornLayout) {
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
