import Foundation
import Tensors
import TestSupport
import Testing

@Suite struct ElementwiseTests {
    /// Shape pairs that must broadcast: equal, size-1 axes, missing leading axes, scalars, empty.
    static let shapePairs: [([Int], [Int])] = [
        ([3, 4], [3, 4]), ([3, 4], [4]), ([3, 1], [1, 4]), ([2, 3, 4], [3, 1]), ([1], [5, 2]),
        ([], [2, 3]), ([2, 3], []), ([0, 3], [3]), ([4, 1, 3], [1, 2, 1]), ([7, 70_000], [70_000]),
        ([50_000, 3], [50_000, 3]),
    ]

    static let ops: [(String, @Sendable (Tensor, Tensor) -> Tensor, @Sendable (Float, Float) -> Float)] = [
        ("add", { $0 + $1 }, { $0 + $1 }), ("sub", { $0 - $1 }, { $0 - $1 }),
        ("mul", { $0 * $1 }, { $0 * $1 }), ("div", { $0 / $1 }, { $0 / $1 }),
        ("maximum", { Tensor.maximum($0, $1) }, { Swift.max($0, $1) }),
        ("minimum", { Tensor.minimum($0, $1) }, { Swift.min($0, $1) }),
        ("pow", { Tensor.pow($0.abs(), $1) }, { powf(Swift.abs($0), $1) }),
        (">", { $0 .> $1 }, { $0 > $1 ? 1 : 0 }), ("<", { $0 .< $1 }, { $0 < $1 ? 1 : 0 }),
        (">=", { $0 .>= $1 }, { $0 >= $1 ? 1 : 0 }), ("<=", { $0 .<= $1 }, { $0 <= $1 ? 1 : 0 }),
        ("==", { $0 .== $1 }, { $0 == $1 ? 1 : 0 }), ("!=", { $0 .!= $1 }, { $0 != $1 ? 1 : 0 }),
    ]

    @Test(arguments: 0..<shapePairs.count)
    func binaryOpsMatchScalarLoop(_ c: Int) {
        let (sa, sb) = Self.shapePairs[c]
        let a = randomTensor(sa, seed: 1)
        var bs = randomTensor(sb, seed: 2).scalars
        // Make some elements equal so comparisons see ties.
        if a.count > 0 && !bs.isEmpty { bs[0] = a.scalars[0] }
        let b = Tensor(shape: sb, scalars: bs)
        let shape = Broadcasting.shape(sa, sb)!
        for (name, op, ref) in Self.ops {
            let got = op(a, b)
            #expect(got.shape == shape, "\(name) \(sa) \(sb)")
            let expected = allIndices(shape).map { idx -> Float in
                let x = broadcastElement(a, idx), y = broadcastElement(b, idx)
                return ref(x, y)
            }
            expectAllClose(got.scalars, expected, rtol: 1e-6, atol: 0, "\(name) \(sa) \(sb)")
        }
    }

    @Test func nonContiguousOperands() {
        let base = randomTensor([4, 6], seed: 3)
        let t = base.transposed()                 // (6, 4), strides (1, 6)
        #expect(!t.isContiguous)
        let b = randomTensor([4], seed: 4)
        let got = t * b
        let expected = allIndices([6, 4]).map { i in base[[i[1], i[0]]] * b[[i[1]]] }
        expectAllClose(got.scalars, expected, rtol: 0, atol: 0, "transposed * row")
        let sliced = randomTensor([5, 3], seed: 5)[1..<4]
        expectAllClose((sliced + 1).scalars, sliced.scalars.map { $0 + 1 }, rtol: 0, atol: 0, "row slice + scalar")
        let p = randomTensor([2, 3, 4], seed: 6).permuted([2, 0, 1])
        expectAllClose((p - p).scalars, [Float](repeating: 0, count: 24), rtol: 0, atol: 0, "permuted - itself")
    }

    @Test func unaryOpsMatchScalarLoop() {
        let x = randomTensor([3, 50_001], seed: 7)   // large enough to be split across threads
        let pos = x.abs() + 0.1
        expectAllClose(x.exp().scalars, x.scalars.map { expf($0) }, rtol: 0, atol: 0, "exp")
        expectAllClose(pos.log().scalars, pos.scalars.map { logf($0) }, rtol: 0, atol: 0, "log")
        expectAllClose(pos.sqrt().scalars, pos.scalars.map { sqrtf($0) }, rtol: 0, atol: 0, "sqrt")
        expectAllClose(pos.pow(1.7).scalars, pos.scalars.map { powf($0, 1.7) }, rtol: 0, atol: 0, "pow")
        expectAllClose(x.relu().scalars, x.scalars.map { Swift.max($0, 0) }, rtol: 0, atol: 0, "relu")
        expectAllClose((-x).scalars, x.scalars.map { -$0 }, rtol: 0, atol: 0, "neg")
        expectAllClose((2 - x).scalars, x.scalars.map { 2 - $0 }, rtol: 0, atol: 0, "scalar - x")
        expectAllClose((1 / pos).scalars, pos.scalars.map { 1 / $0 }, rtol: 0, atol: 0, "scalar / x")
        #expect(Tensor([.nan, -1, 2]).relu().scalars[0].isNaN)
    }

    @Test func valueSemanticsAndCopyOnWrite() {
        var a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let b = a
        let row = a.row(1)
        a[0, 0] = 10
        #expect(b.scalars == [1, 2, 3, 4])
        #expect(row.scalars == [3, 4])
        #expect(a.scalars == [10, 2, 3, 4])
        var c = a
        c += Tensor(shape: [2, 2], repeating: 1)
        #expect(a.scalars == [10, 2, 3, 4] && c.scalars == [11, 3, 4, 5])
        var d = Tensor.zeros([2, 3])
        d += Tensor([1, 2, 3])
        #expect(d.scalars == [1, 2, 3, 1, 2, 3])
    }

    @Test func viewsShareStorageUntilWritten() {
        let a = Tensor(shape: [3, 4], generator: { Float($0) })
        let r = a.reshaped([4, 3])
        #expect(r.storage === a.storage)
        #expect(a[1..<3].storage === a.storage && a[1..<3].scalars == Array(4..<12).map(Float.init))
        #expect(a.reshaped([-1]).shape == [12] && a.reshaped([2, -1]).shape == [2, 6])
        #expect(a.transposed().scalars == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        #expect(a.transposed().reshaped([12]).scalars == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        #expect(a.unsqueezed(at: 1).shape == [3, 1, 4] && a.unsqueezed(at: 1).squeezed(at: 1).shape == [3, 4])
        #expect(Tensor.zeros([2, 3, 4, 5]).flattened(from: 1).shape == [2, 60])
    }

    @Test func reducedToShapeSumsBroadcastAxes() {
        let g = randomTensor([2, 3, 4], seed: 8)
        let r = g.reduced(toShape: [3, 1])
        let expected = (0..<3).map { j in
            allIndices([2, 3, 4]).filter { $0[1] == j }.reduce(Float(0)) { $0 + g[$1] }
        }
        #expect(r.shape == [3, 1])
        expectAllClose(r.scalars, expected, rtol: 1e-6, atol: 1e-6, "reduced(toShape:)")
        #expect(g.reduced(toShape: [2, 3, 4]).scalars == g.scalars)
    }
}
