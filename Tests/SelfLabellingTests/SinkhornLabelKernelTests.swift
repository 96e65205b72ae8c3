import CSinkhornKernels
import Foundation
import Testing

/// The label kernel `csk_labels_block` against a plain float64 scan, `argmax_k (log r_k + λ y_nk)` with the
/// first maximum winning: exactly equal, on rows built to defeat a float32 screen (exact ties, near ties one
/// float32 step apart, zero probabilities, cluster scalings spread over hundreds of e-folds), on whichever
/// kernel this process runs (`.ci/run` forces each one).
@Suite("Sinkhorn label kernel")
struct SinkhornLabelKernelTests {
    @Test("csk_labels_block equals a float64 scan", arguments: [false, true], [0.5, 10.0, 25.0, 400.0])
    func equalsFloat64Scan(_ probabilities: Bool, _ lambda: Double) {
        let n = 600, k = 75
        var rng = LabelRNG(seed: probabilities ? 91 : 17)
        var z = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let scale = [0.01, 0.3, 3.0][i % 3]
            for j in 0..<k { z[i * k + j] = Float(scale * rng.normal()) }
        }
        if probabilities {
            for i in 0..<n {
                let row = (0..<k).map { exp(Double(z[i * k + $0])) }
                let sum = row.reduce(0, +)
                for j in 0..<k { z[i * k + j] = Float(row[j] / sum) }
                if i % 7 == 0 { for j in stride(from: 1, to: k, by: 4) { z[i * k + j] = 0 } }  // log 0 = −∞
            }
        }
        for i in stride(from: 0, to: n, by: 4) {  // exact ties and one-step near ties at the row's top
            let top = z[(i * k)..<(i * k + k)].max()!
            z[i * k + (i % k)] = top
            z[i * k + ((i + 11) % k)] = i % 8 == 0 ? top : top.nextDown
        }
        for i in stride(from: 2, to: n, by: 6) {  // columns 5 and 6 share log r below: an exact tie of the values
            let top = z[(i * k)..<(i * k + k)].max()!
            z[i * k + 5] = top
            z[i * k + 6] = top
        }
        // Cluster scalings: mostly small, a few far apart (the bound must scale with max|log r|).
        var logR = (0..<k).map { _ in 0.01 * rng.normal() }
        logR[3] = -300
        logR[70] = 1.5
        // Make some rows' best columns compete after the scaling: tie log r on a pair of columns.
        logR[5] = logR[6]
        let lr32 = logR.map { Float($0) }
        let maxAbs = logR.reduce(0) { max($0, abs($1)) }, maxLogR = logR.max()!
        let weights = logR.map { Float(exp(($0 - maxLogR) / lambda)) }
        var expected = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            var best = -Double.infinity, arg = 0
            for j in 0..<k {
                let y = probabilities ? log(Double(z[i * k + j])) : Double(z[i * k + j])
                let v = logR[j] + lambda * y
                if v > best { best = v; arg = j }
            }
            expected[i] = Int32(arg)
        }
        for useWeights in probabilities ? [false, true] : [false] {
            var got = [Int32](repeating: -1, count: n)
            var temp = [Float](repeating: 0, count: k)
            z.withUnsafeBufferPointer { zp in
                logR.withUnsafeBufferPointer { lr in
                    lr32.withUnsafeBufferPointer { l32 in
                        weights.withUnsafeBufferPointer { w in
                            var args = CSKLabels(scores: zp.baseAddress, k: k, lambda: Float(lambda), lambda64: lambda,
                                                 probabilities: probabilities ? 1 : 0, logR: lr.baseAddress,
                                                 logR32: l32.baseAddress, maxAbsLogR: maxAbs,
                                                 weights: useWeights ? w.baseAddress : nil)
                            // Two calls over uneven row ranges, as the blocks split them.
                            csk_labels_block(&args, 0, 257, &got, &temp)
                            csk_labels_block(&args, 257, n, &got, &temp)
                        }
                    }
                }
            }
            let wrong = (0..<n).filter { got[$0] != expected[$0] }
            #expect(wrong.isEmpty, "weights \(useWeights): \(wrong.count) rows differ, first \(wrong.prefix(5))")
        }
        // Not vacuous: the rows' winners spread over many columns, and exact ties (column 5 against 6) occur.
        #expect(Set(expected).count > 20)
        #expect(expected.filter { $0 == 5 }.count > 5)
    }

    @Test("few clusters and group edges: k = 1, 5, 16, 17, 33", arguments: [1, 5, 16, 17, 33], [false, true])
    func smallAndEdgeWidths(_ k: Int, _ probabilities: Bool) {
        let n = 64, lambda = 25.0
        var rng = LabelRNG(seed: UInt64(k) * 3 + (probabilities ? 1 : 0))
        var z = (0..<(n * k)).map { _ in Float(rng.normal()) }
        if probabilities {
            for i in 0..<n {
                let row = (0..<k).map { exp(Double(z[i * k + $0])) }
                let sum = row.reduce(0, +)
                for j in 0..<k { z[i * k + j] = Float(row[j] / sum) }
            }
        }
        for i in stride(from: 0, to: n, by: 3) { z[i * k + k - 1] = z[(i * k)..<(i * k + k)].max()! }  // ties
        let logR = (0..<k).map { _ in 0.0 }  // equal scalings: ties stay ties
        let lr32 = logR.map { Float($0) }
        let weights = [Float](repeating: 1, count: k)
        var expected = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            var best = -Double.infinity, arg = 0
            for j in 0..<k {
                let v = logR[j] + lambda * (probabilities ? log(Double(z[i * k + j])) : Double(z[i * k + j]))
                if v > best { best = v; arg = j }
            }
            expected[i] = Int32(arg)
        }
        var got = [Int32](repeating: -1, count: n)
        var temp = [Float](repeating: 0, count: k)
        z.withUnsafeBufferPointer { zp in
            logR.withUnsafeBufferPointer { lr in
                lr32.withUnsafeBufferPointer { l32 in
                    weights.withUnsafeBufferPointer { w in
                        var args = CSKLabels(scores: zp.baseAddress, k: k, lambda: Float(lambda), lambda64: lambda,
                                             probabilities: probabilities ? 1 : 0, logR: lr.baseAddress,
                                             logR32: l32.baseAddress, maxAbsLogR: 0,
                                             weights: probabilities ? w.baseAddress : nil)
                        csk_labels_block(&args, 0, n, &got, &temp)
                    }
                }
            }
        }
        #expect(got == expected, "k \(k)")
    }
}

private struct LabelRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func normal() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self), v = Double.random(in: 0..<1, using: &self)
        return sqrt(-2 * log(u)) * cos(2 * Double.pi * v)
    }
}
