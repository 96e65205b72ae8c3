import CSinkhornKernels
import Foundation
import Tensors
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
        var rng = Xoshiro256(seed: probabilities ? 91 : 17)
        var z = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let scale = [0.01, 0.3, 3.0][i % 3]
            for j in 0..<k { z[i * k + j] = Float(scale * rng.nextNormal()) }
        }
        if probabilities {
            Self.softmaxRows(&z, k: k)
            for i in stride(from: 0, to: n, by: 7) {  // zero probabilities: log 0 = −∞
                for j in stride(from: 1, to: k, by: 4) { z[i * k + j] = 0 }
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
        var logR = (0..<k).map { _ in 0.01 * rng.nextNormal() }
        logR[3] = -300
        logR[70] = 1.5
        // Make some rows' best columns compete after the scaling: tie log r on a pair of columns.
        logR[5] = logR[6]
        let maxLogR = logR.max()!
        let weights = logR.map { Float(exp(($0 - maxLogR) / lambda)) }
        let expected = Self.float64Scan(z, k: k, logR: logR, lambda: lambda, probabilities: probabilities)
        for useWeights in probabilities ? [false, true] : [false] {
            // Two calls over uneven row ranges, as the blocks split them.
            let got = Self.kernel(z, k: k, logR: logR, lambda: lambda, probabilities: probabilities,
                                  weights: useWeights ? weights : nil, ranges: [0..<257, 257..<n])
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
        var rng = Xoshiro256(seed: UInt64(k) * 3 + (probabilities ? 1 : 0))
        var z = (0..<(n * k)).map { _ in Float(rng.nextNormal()) }
        if probabilities { Self.softmaxRows(&z, k: k) }
        for i in stride(from: 0, to: n, by: 3) { z[i * k + k - 1] = z[(i * k)..<(i * k + k)].max()! }  // ties
        let logR = (0..<k).map { _ in 0.0 }  // equal scalings: ties stay ties
        let expected = Self.float64Scan(z, k: k, logR: logR, lambda: lambda, probabilities: probabilities)
        let got = Self.kernel(z, k: k, logR: logR, lambda: lambda, probabilities: probabilities,
                              weights: probabilities ? [Float](repeating: 1, count: k) : nil, ranges: [0..<n])
        #expect(got == expected, "k \(k)")
    }

    /// Rows of logits to their softmax probabilities (float64 arithmetic, rounded to float32).
    static func softmaxRows(_ z: inout [Float], k: Int) {
        for i in 0..<(z.count / k) {
            let row = (0..<k).map { exp(Double(z[i * k + $0])) }
            let sum = row.reduce(0, +)
            for j in 0..<k { z[i * k + j] = Float(row[j] / sum) }
        }
    }

    /// The reference: per row the first column maximising `log r_j + λ y_j` in float64.
    static func float64Scan(_ z: [Float], k: Int, logR: [Double], lambda: Double, probabilities: Bool) -> [Int32] {
        (0..<(z.count / k)).map { i in
            var best = -Double.infinity, arg = 0
            for j in 0..<k {
                let y = probabilities ? log(Double(z[i * k + j])) : Double(z[i * k + j])
                let v = logR[j] + lambda * y
                if v > best { best = v; arg = j }
            }
            return Int32(arg)
        }
    }

    /// `csk_labels_block` over the given row ranges.
    static func kernel(_ z: [Float], k: Int, logR: [Double], lambda: Double, probabilities: Bool, weights: [Float]?,
                       ranges: [Range<Int>]) -> [Int32] {
        var got = [Int32](repeating: -1, count: z.count / k)
        var temp = [Float](repeating: 0, count: k)
        let lr32 = logR.map { Float($0) }, w = weights ?? []
        z.withUnsafeBufferPointer { zp in
            logR.withUnsafeBufferPointer { lr in
                lr32.withUnsafeBufferPointer { l32 in
                    w.withUnsafeBufferPointer { wp in
                        var args = CSKLabels(scores: zp.baseAddress, k: k, lambda: Float(lambda), lambda64: lambda,
                                             probabilities: probabilities ? 1 : 0, logR: lr.baseAddress,
                                             logR32: l32.baseAddress, maxAbsLogR: logR.reduce(0) { max($0, abs($1)) },
                                             weights: weights == nil ? nil : wp.baseAddress)
                        for r in ranges { csk_labels_block(&args, r.lowerBound, r.upperBound, &got, &temp) }
                    }
                }
            }
        }
        return got
    }
}
