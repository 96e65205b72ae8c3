import Tensors
import TestSupport
import Testing

@Suite struct LinearAlgebraTests {
    /// Naive triple loop in float64.
    func naive(_ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool) -> [Float] {
        let m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1]
        let n = tb ? b.shape[0] : b.shape[1]
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(ta ? a[[p, i]] : a[[i, p]]) * Double(tb ? b[[j, p]] : b[[p, j]]) }
                c[i * n + j] = Float(s)
            }
        }
        return c
    }

    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (7, 13, 5), (3, 1, 9), (1, 8, 1), (33, 17, 65), (0, 3, 2), (2, 3, 0)]

    @Test(arguments: 0..<shapes.count)
    func gemmMatchesTripleLoop(_ c: Int) {
        let (m, k, n) = Self.shapes[c]
        for ta in [false, true] {
            for tb in [false, true] {
                let a = randomTensor(ta ? [k, m] : [m, k], seed: 1), b = randomTensor(tb ? [n, k] : [k, n], seed: 2)
                let got = Tensor.matmul(a, b, transposeA: ta, transposeB: tb)
                #expect(got.shape == [m, n])
                expectAllClose(got.scalars, naive(a, b, ta, tb), rtol: 1e-5, atol: 1e-5, "gemm \(m)x\(k)x\(n) tA=\(ta) tB=\(tb)")
            }
        }
    }

    @Test func transposedViewsAndAccumulation() {
        let a = randomTensor([5, 7], seed: 3), b = randomTensor([5, 4], seed: 4)
        // a.transposed() is a non-contiguous view; it must equal the transpose flag.
        expectAllClose(Tensor.matmul(a.transposed(), b).scalars, naive(a, b, true, false), rtol: 1e-5, atol: 1e-5, "view")
        var c = Tensor.ones([7, 4])
        Tensor.gemm(a, transposeA: true, b, transposeB: false, into: &c, alpha: 2, beta: 0.5)
        expectAllClose(c.scalars, naive(a, b, true, false).map { 2 * $0 + 0.5 }, rtol: 1e-5, atol: 1e-5, "alpha/beta")
        // A strided (row-sliced from a wider matrix, permuted) operand is handled by copying.
        let wide = randomTensor([6, 10], seed: 5)
        let strided = wide.permuted([1, 0])[2..<9].permuted([1, 0])   // (6, 7) with column stride 1, row stride 10
        expectAllClose(Tensor.matmul(strided, a.transposed()).scalars, naive(strided.materialized(), a, false, true),
                    rtol: 1e-5, atol: 1e-5, "strided")
    }

    @Test func gemvMatchesTripleLoop() {
        let a = randomTensor([9, 4], seed: 6), x = randomTensor([4], seed: 7), y = randomTensor([9], seed: 8)
        expectAllClose(Tensor.matvec(a, x).scalars, naive(a, x.reshaped([4, 1]), false, false), rtol: 1e-5, atol: 1e-5, "gemv")
        expectAllClose(Tensor.matvec(a, y, transposeA: true).scalars, naive(a, y.reshaped([9, 1]), true, false),
                    rtol: 1e-5, atol: 1e-5, "gemv T")
        expectAllClose(Tensor.matvec(a.transposed(), y).scalars, naive(a, y.reshaped([9, 1]), true, false),
                    rtol: 1e-5, atol: 1e-5, "gemv view")
    }
}
