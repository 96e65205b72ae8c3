import CSinkhornKernels
import Foundation
import Tensors
import Testing

/// The statistics pass's counts (`csk_statistics_block`) against a plain float32 scan of the same rows: the
/// entries within the truncated method's drop of their row's largest (`near`) and within `CSK_FLAT_RANGE`
/// nats of it in the plan (`flat`, which decides whether the dense method defers its store), for logits and
/// probabilities, with a padded last column group, on whichever kernel this process runs (`.ci/run` forces
/// each one).
@Suite("Sinkhorn statistics kernel: near and flat counts")
struct SinkhornStatisticsKernelTests {
    @Test("near and flat counts equal a plain scan", arguments: [false, true], [10 as Float, 25])
    func countsEqualPlainScan(_ probabilities: Bool, _ lambda: Float) {
        let n = 120, k = 70, kp = 80, drop: Float = 30
        var rng = Xoshiro256(seed: probabilities ? 11 : 12)
        // Row scales from constant rows to peaked ones, so that both counts take every value from 0 to k.
        var z = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let scale: Float = [0, 0.001, 0.01, 0.05, 0.1, 0.3, 1, 3][i % 8]
            for j in 0..<k { z[i * k + j] = scale * Float(rng.nextNormal()) }
        }
        if probabilities {
            softmaxRows(&z, n: n, k: k)
            z[5 * k + 3] = 0  // a zero probability: never near, never flat
        }
        var rowShift = [Double](repeating: 0, count: n), logC0 = [Double](repeating: 0, count: n)
        var colMax = [Float](repeating: 0, count: kp), rowTemp = [Float](repeating: 0, count: kp)
        var near = 0, flat = 0, bad = CSKBadScore()
        let status = z.withUnsafeBufferPointer { zp in
            rowShift.withUnsafeMutableBufferPointer { rs in
                logC0.withUnsafeMutableBufferPointer { lc in
                    let prep = CSKPrepare(scores: zp.baseAddress, k: k, kp: kp, lambda: lambda,
                                          probabilities: probabilities ? 1 : 0, drop: drop, denseRowMin: 0,
                                          rowShift: rs.baseAddress, logC0: lc.baseAddress, power: 0, colRoot: nil)
                    return withUnsafePointer(to: prep) { a in
                        csk_statistics_block(a, 0, n, &colMax, &rowTemp, &near, &flat, &bad)
                    }
                }
            }
        }
        #expect(status == 0)
        // The plain scan, in the kernel's float32 arithmetic: logits d = z − max z, u = λ d; probabilities the
        // ratio q = P / max P against e^{−range/λ} (and q > 0).
        var expectNear = 0, expectFlat = 0, flatRows = 0
        let nearCut = Float(exp(-Double(drop) / Double(lambda)))
        let flatCut = Float(exp(-Double(CSK_FLAT_RANGE) / Double(lambda)))
        for i in 0..<n {
            let row = Array(z[(i * k)..<((i + 1) * k)])
            let top = row.max()!
            var rowFlat = 0
            for v in row {
                if probabilities {
                    let q = v / top
                    if q >= nearCut && q > 0 { expectNear += 1 }
                    if q >= flatCut && q > 0 { rowFlat += 1 }
                } else {
                    let u = (v - top) * lambda
                    if u >= -drop { expectNear += 1 }
                    if u >= -CSK_FLAT_RANGE { rowFlat += 1 }
                }
            }
            expectFlat += rowFlat
            if rowFlat == k { flatRows += 1 }
        }
        #expect(near == expectNear, "near \(near) vs \(expectNear)")
        #expect(flat == expectFlat, "flat \(flat) vs \(expectFlat)")
        // The rows cover both cases: some wholly flat, some not.
        #expect(flatRows > 0 && flatRows < n, "\(flatRows) flat rows")
    }
}
