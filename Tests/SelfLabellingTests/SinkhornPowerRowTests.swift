import CSinkhornKernels
import Foundation
import Tensors
import Testing

/// The dense method's probability entries as powers (`SinkhornPrepare.withPowers`, C `csk_power_row`):
/// `A_nk = (P_nk e^{−b_k/λ} / max P_n)^λ` by repeated squaring, against the exact value in float64, and against
/// the logarithm's path (`power` 0), on whichever kernel this process runs (`.ci/run` forces each one).
@Suite("Sinkhorn dense entries of probabilities as powers")
struct SinkhornPowerRowTests {
    /// Stores `z` (probabilities, n x k) with `csk_store_block` as float32, with or without powers.
    private func store(_ z: [Float], n: Int, k: Int, kp: Int, lambda: Double, colShift: [Double],
                       power: Bool) -> [Float] {
        // m_n = log max P_n rounded to float32 (the statistics kernel's is within an ulp of it).
        var rowShift = (0..<n).map { i in Double(Float(log(Double((0..<k).map { z[i * k + $0] }.max()!)))) }
        let b32 = colShift.map(Float.init)
        let root = colShift.map { Float(exp(-$0 / lambda)) }
        var out = [Float](repeating: .nan, count: n * kp), rowTemp = [Float](repeating: 0, count: kp)
        z.withUnsafeBufferPointer { zp in
            rowShift.withUnsafeMutableBufferPointer { rs in
                root.withUnsafeBufferPointer { rp in
                    var prep = CSKPrepare(scores: zp.baseAddress, k: k, kp: kp, lambda: Float(lambda), probabilities: 1,
                                          drop: 30, denseRowMin: 0, rowShift: rs.baseAddress, logC0: nil,
                                          power: power ? Int32(lambda) : 0, colRoot: power ? rp.baseAddress : nil)
                    withUnsafeMutablePointer(to: &prep) { a in
                        out.withUnsafeMutableBytes { m in
                            csk_store_block(a, 0, n, b32, Int32(CSK_F32.rawValue), m.baseAddress, &rowTemp)
                        }
                    }
                }
            }
        }
        return out
    }

    @Test("within (5 λ + 2) roundings of the exact value; 0 below e^-87; tiny rows by logarithms",
          arguments: [25.0, 10.0, 1.0, 64.0, 3.0])
    func powersAreExact(_ lambda: Double) {
        let n = 200, k = 75, kp = 80
        var rng = Xoshiro256(seed: 90 + UInt64(lambda))
        var z = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let scale: Float = i % 7 == 0 ? 3 : i % 3 == 0 ? 0.5 : 0.02  // peaked, mid, flat rows
            for j in 0..<k { z[i * k + j] = scale * Float(rng.nextNormal()) }
        }
        softmaxRows(&z, n: n, k: k)
        for j in 0..<k where j % 11 == 0 { z[5 * k + j] = 0 }  // zeros
        z[6 * k + 3] = Float.leastNormalMagnitude / 1024  // a subnormal probability
        for j in 0..<k { z[8 * k + j] = 1e-7 * Float(1 + j % 3) }  // a row whose largest is below 2^-20
        // Shifted columns: b_k ≤ 0 as the prepare step makes them (a column no row prefers).
        let colShift = (0..<kp).map { j in j < k && j % 4 == 1 ? -Double(j % 9) * 0.7 : 0 }
        let powers = store(z, n: n, k: k, kp: kp, lambda: lambda, colShift: colShift, power: true)
        let logs = store(z, n: n, k: k, kp: kp, lambda: lambda, colShift: colShift, power: false)
        // x = P · (1/max P · e^{−b/λ}) carries 4 roundings (the root, the reciprocal, two products), so x^λ
        // 4λ, and the powering λ − 1 more (first order; u = 2⁻²⁴).
        let u = pow(2.0, -24.0), bound = (5 * lambda + 2) * u
        var compared = 0, worstPower = 0.0, worstLog = 0.0
        for i in 0..<n {
            let top = Double((0..<k).map { z[i * k + $0] }.max()!)
            for j in 0..<kp {
                let got = Double(powers[i * kp + j])
                if j >= k { #expect(got == 0, "padding row \(i) column \(j)"); continue }
                if i == 8 {  // largest below 2^-20: the logarithm's path, the same bits
                    #expect(powers[i * kp + j].bitPattern == logs[i * kp + j].bitPattern, "row 8 column \(j)")
                    continue
                }
                let exact = pow(Double(z[i * k + j]) / top, lambda) * exp(-colShift[j])
                if exact < exp(-87.0) * (1 - 1e-4) {
                    #expect(got == 0, "row \(i) column \(j): \(got) for \(exact)")
                } else if exact > exp(-87.0) * (1 + 1e-4) {
                    #expect(abs(got - exact) <= bound * exact, "row \(i) column \(j): \(got) vs \(exact)")
                    worstPower = max(worstPower, abs(got - exact) / exact)
                    worstLog = max(worstLog, abs(Double(logs[i * kp + j]) - exact) / exact)
                    // The logarithm's path agrees within its own (larger) rounding.
                    #expect(abs(Double(logs[i * kp + j]) - exact) <= 4e-6 * lambda * exact + 1e-37,
                            "row \(i) column \(j): logarithms \(logs[i * kp + j]) vs \(exact)")
                    compared += 1
                }
            }
        }
        print("λ \(lambda): largest relative error, powers \(worstPower / u) u, logarithms \(worstLog / u) u")
        #expect(compared > n * k / 3, "compared \(compared)")
        #expect(powers[5 * kp].isZero && powers[6 * kp + 3].isZero)
    }
}
