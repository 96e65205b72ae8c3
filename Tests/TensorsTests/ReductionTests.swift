import Foundation
import Tensors
import TestSupport
import Testing

@Suite struct ReductionTests {
    static let shapes: [[Int]] = [[5], [3, 4], [2, 3, 4], [1, 7], [4, 1], [3, 100_003], [2, 0, 3]]

    /// Plain reference: fold every element into its reduced slot (float64 accumulation).
    func reference(_ t: Tensor, axis: Int, initial: Double, _ f: (Double, Double) -> Double) -> [Float] {
        var outShape = t.shape
        outShape.remove(at: axis)
        var acc = [Double](repeating: initial, count: outShape.reduce(1, *))
        for idx in allIndices(t.shape) {
            var o = idx
            o.remove(at: axis)
            var flat = 0
            for (k, i) in o.enumerated() { flat = flat * outShape[k] + i }
            acc[flat] = f(acc[flat], Double(t[idx]))
        }
        return acc.map { Float($0) }
    }

    @Test(arguments: 0..<shapes.count)
    func axisReductionsMatchReference(_ c: Int) {
        let shape = Self.shapes[c]
        let t = randomTensor(shape, seed: UInt64(c))
        for axis in 0..<shape.count {
            let n = Double(shape[axis])
            expectAllClose(t.sum(alongAxis: axis).scalars, reference(t, axis: axis, initial: 0, +),
                        rtol: 1e-4, atol: 1e-4, "sum axis \(axis) of \(shape)")
            expectAllClose(t.mean(alongAxis: axis).scalars, reference(t, axis: axis, initial: 0, +).map { Float(Double($0) / n) },
                        rtol: 1e-4, atol: 1e-5, "mean axis \(axis) of \(shape)")
            #expect(t.sum(alongAxis: axis, keepingDimensions: true).shape[axis] == 1)
            guard shape[axis] > 0 else { continue }
            expectAllClose(t.max(alongAxis: axis).scalars, reference(t, axis: axis, initial: -.infinity) { Swift.max($0, $1) },
                        rtol: 0, atol: 0, "max axis \(axis) of \(shape)")
            expectAllClose(t.min(alongAxis: axis).scalars, reference(t, axis: axis, initial: .infinity) { Swift.min($0, $1) },
                        rtol: 0, atol: 0, "min axis \(axis) of \(shape)")
            let lse = reference(t, axis: axis, initial: 0) { $0 + Foundation.exp($1) }.map { Float(Foundation.log(Double($0))) }
            expectAllClose(t.logSumExp(alongAxis: axis).scalars, lse, rtol: 1e-5, atol: 1e-5, "logsumexp axis \(axis) of \(shape)")
            // argmax: the element at the returned index is the maximum, and the first such.
            let am = t.argmax(alongAxis: axis), mx = t.max(alongAxis: axis, keepingDimensions: true)
            var outShape = shape
            outShape.remove(at: axis)
            for (k, o) in allIndices(outShape).enumerated() {
                var idx = o
                idx.insert(am[k], at: axis)
                #expect(t[idx] == mx[Array(o[..<axis]) + [0] + Array(o[axis...])])
            }
        }
    }

    @Test func wholeTensorReductions() {
        let t = randomTensor([1000, 1001], seed: 9)
        let exact = t.scalars.reduce(0.0) { $0 + Double($1) }
        #expect(Swift.abs(Double(t.sum().scalar) - exact) <= 1e-3)
        #expect(Swift.abs(Double(t.mean().scalar) - exact / 1_001_000) <= 1e-8)
        #expect(t.max() == t.scalars.max()! && t.min() == t.scalars.min()!)
        #expect(Tensor.zeros([0]).sum().scalar == 0)
        let multi = randomTensor([2, 3, 4, 5], seed: 10)
        let s = multi.sum(alongAxes: [0, 2, 3])
        let ref = (0..<3).map { j in allIndices([2, 3, 4, 5]).filter { $0[1] == j }.reduce(0.0) { $0 + Double(multi[$1]) } }
        expectAllClose(s.scalars, ref.map { Float($0) }, rtol: 1e-5, atol: 1e-5, "sum over 0,2,3")
        #expect(multi.mean(alongAxes: [1, 3], keepingDimensions: true).shape == [2, 1, 4, 1])
    }

    @Test func logSumExpIsStable() {
        let t = Tensor(shape: [2, 3], scalars: [1000, 1000, 1000, -.infinity, -.infinity, -.infinity])
        let l = t.logSumExp(alongAxis: 1)
        #expect(Swift.abs(l.scalars[0] - (1000 + logf(3))) < 1e-3)
        #expect(l.scalars[1] == -.infinity)
    }

    @Test func argmaxTiesAndNaN() {
        #expect(Tensor([1, 3, 3, 2]).argmax(alongAxis: 0) == [1])
        #expect(Tensor([1, .nan, 3]).argmax(alongAxis: 0) == [1])
    }

    @Test func concatenateAndStack() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), b = Tensor(shape: [2, 1], scalars: [5, 6])
        #expect(Tensor.concatenate([a, b], alongAxis: 1).scalars == [1, 2, 5, 3, 4, 6])
        #expect(Tensor.concatenate([a, a.transposed()], alongAxis: 0).scalars == [1, 2, 3, 4, 1, 3, 2, 4])
        let s = Tensor.stack([a, a * 2], alongAxis: 1)
        #expect(s.shape == [2, 2, 2] && s.scalars == [1, 2, 2, 4, 3, 4, 6, 8])
        #expect(Tensor.stack([Tensor([1, 2]), Tensor([3, 4])]).shape == [2, 2])
        #expect(Tensor.concatenate([Tensor.zeros([0, 3]), Tensor.ones([1, 3])]).shape == [1, 3])
    }
}

@Suite struct GatherTests {
    @Test func rowsGathersInOrder() {
        let t = Tensor(shape: [4, 2], generator: { Float($0) })
        #expect(t.rows([3, 0, 3]).scalars == [6, 7, 0, 1, 6, 7])
        #expect(t.transposed().rows([1]).scalars == [1, 3, 5, 7])
        #expect(t.rows([]).shape == [0, 2])
    }
}
