import CSinkhornKernels
import Foundation
import Tensors
import Testing

/// The dense method's store fused with its first (column-sum) pass, `csk_store_pass_block`, against the two
/// kernels it replaces, `csk_store_block` then `csk_pass_block`: the same stored bytes, cluster sums and error,
/// bit for bit, for every stored element type, logits and probabilities, rows that end in a partial group and
/// a padded last column group, on whichever kernel this process runs (`.ci/run` forces each one).
@Suite("Sinkhorn store fused with the first pass")
struct SinkhornStoreKernelTests {
    @Test("csk_store_pass_block equals csk_store_block then csk_pass_block",
          arguments: [CSK_F32, CSK_BF16, CSK_F16], [false, true])
    func fusedEqualsSeparate(_ element: CSKElement, _ probabilities: Bool) {
        let n = 150, k = 70, kp = 80, lambda: Float = 10
        var rng = Xoshiro256(seed: 7 + UInt64(element.rawValue) * 2 + (probabilities ? 1 : 0))
        // Flat-ish rows (f16 holds values in [0, 1] near 1 well) with a few peaked ones.
        var z = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let scale: Float = i % 9 == 0 ? 0.5 : 0.01
            for j in 0..<k { z[i * k + j] = scale * Float(rng.nextNormal()) }
        }
        if probabilities { softmaxRows(&z, n: n, k: k) }
        var rowShift = (0..<n).map { i in Double((0..<k).map { probabilities ? log(z[i * k + $0]) : z[i * k + $0] }.max()!) }
        var colShift = [Float](repeating: 0, count: kp)
        for j in 0..<k { colShift[j] = -Float(j % 5) * 0.01 }
        var c = (0..<n).map { _ in Double.random(in: 0.5...1, using: &rng) }
        let r32 = [Float](repeating: 0, count: kp)
        let bytes = n * kp * (element == CSK_F32 ? 4 : 2)
        var separate = [UInt8](repeating: 0xAB, count: bytes), fused = [UInt8](repeating: 0xCD, count: bytes)
        var accSeparate = [Double](repeating: .nan, count: kp), accFused = [Double](repeating: .nan, count: kp)
        var scratch = [Float](repeating: 0, count: kp), rowTemp = [Float](repeating: 0, count: kp)
        var errSeparate = 0.0, errFused = 0.0
        z.withUnsafeBufferPointer { zp in
            rowShift.withUnsafeMutableBufferPointer { rs in
                let prep = CSKPrepare(scores: zp.baseAddress, k: k, kp: kp, lambda: lambda,
                                      probabilities: probabilities ? 1 : 0, drop: 30, denseRowMin: 0,
                                      rowShift: rs.baseAddress, logC0: nil, power: 0, colRoot: nil)
                c.withUnsafeMutableBufferPointer { cp in
                    r32.withUnsafeBufferPointer { rp in
                        var pass = CSKPass(matrix: nil, n: n, kp: kp, r32: rp.baseAddress, c: cp.baseAddress,
                                           element: Int32(element.rawValue), iterate: 0, check: 0, ratio: 1, omega: 1,
                                           r32Dense: nil, denseScale: nil, skipDense: 0, denseAcc: nil)
                        withUnsafePointer(to: prep) { a in
                            separate.withUnsafeMutableBytes { m in
                                csk_store_block(a, 0, n, colShift, Int32(element.rawValue), m.baseAddress, &rowTemp)
                                pass.matrix = UnsafeRawPointer(m.baseAddress)
                                errSeparate = csk_pass_block(&pass, 0, n, &accSeparate, &scratch)
                            }
                            pass.matrix = nil
                            fused.withUnsafeMutableBytes { m in
                                errFused = csk_store_pass_block(&pass, a, colShift, 0, n, Int32(element.rawValue),
                                                                m.baseAddress, &accFused, &scratch, &rowTemp)
                            }
                        }
                    }
                }
            }
        }
        #expect(fused.indices.first { fused[$0] != separate[$0] } == nil, "first differing stored byte")
        #expect(accFused.indices.first { accFused[$0].bitPattern != accSeparate[$0].bitPattern } == nil,
                "first differing cluster sum")
        #expect(errFused.bitPattern == errSeparate.bitPattern)
        // Not vacuous: every row's sums reached the clusters, and the padding stored zeros.
        #expect(accFused[0..<k].allSatisfy { $0 > 0 } && accFused[k..<kp].allSatisfy { $0 == 0 })
    }
}
