import CBLAS

/// Matrix products through OpenBLAS (`cblas_sgemm`, `cblas_sgemv`).
extension Tensor {
    /// `op(a) · op(b)` for matrices, where `op` optionally transposes. Shapes: op(a) is (M, K), op(b) is (K, N),
    /// the result is (M, N). Transposed *views* (`transposed()`) are passed to BLAS as transposes, not copied.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul: needs matrices, got \(a.shape) and \(b.shape)")
        let (am, tA) = a.blasOperand(transposed: transposeA)
        let (bm, tB) = b.blasOperand(transposed: transposeB)
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let k2 = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == k2, "matmul: inner dimensions differ: op(a) is \(m)x\(k), op(b) is \(k2)x\(n)")
        var c = Tensor(uninitializedShape: [m, n])
        gemm(am, tA, bm, tB, into: &c, m: m, n: n, k: k, alpha: 1, beta: 0)
        return c
    }

    /// `c = alpha · op(a) · op(b) + beta · c` in place (c must be a contiguous (M, N) matrix).
    public static func gemm(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool,
                            into c: inout Tensor, alpha: Float = 1, beta: Float = 0) {
        let (am, tA) = a.blasOperand(transposed: transposeA)
        let (bm, tB) = b.blasOperand(transposed: transposeB)
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(c.shape == [m, n], "gemm: output shape \(c.shape), expected \([m, n])")
        precondition((transposeB ? b.shape[1] : b.shape[0]) == k, "gemm: inner dimensions differ: \(a.shape) \(b.shape)")
        gemm(am, tA, bm, tB, into: &c, m: m, n: n, k: k, alpha: alpha, beta: beta)
    }

    private static func gemm(_ a: Tensor, _ tA: Bool, _ b: Tensor, _ tB: Bool, into c: inout Tensor,
                             m: Int, n: Int, k: Int, alpha: Float, beta: Float) {
        if c.count == 0 { return }
        c.withUnsafeMutableBufferPointer { cp in
            if k == 0 {
                for i in 0..<cp.count { cp[i] *= beta }
                return
            }
            withExtendedLifetime((a.storage, b.storage)) {
                cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans,
                            Int32(m), Int32(n), Int32(k), alpha,
                            a.storage.base + a.offset, Int32(a.strides[0]),
                            b.storage.base + b.offset, Int32(b.strides[0]),
                            beta, cp.baseAddress, Int32(n))
            }
        }
    }

    /// A matrix BLAS can read directly (row-major, unit column stride) and whether to flag it transposed.
    /// A transposed view (unit row stride) is passed as the transpose of its contiguous base.
    private func blasOperand(transposed: Bool) -> (Tensor, Bool) {
        if strides[1] == 1 && strides[0] >= Swift.max(shape[1], 1) { return (self, transposed) }
        if strides[0] == 1 && strides[1] >= Swift.max(shape[0], 1) {
            return (self.permuted([1, 0]), !transposed)
        }
        return (materialized(), transposed)
    }

    /// Matrix-vector product `op(a) · x` through `cblas_sgemv`; a is (M, N), x has N (or M if transposed) elements.
    public static func matvec(_ a: Tensor, _ x: Tensor, transposeA: Bool = false) -> Tensor {
        precondition(a.rank == 2 && x.rank == 1, "matvec: needs a matrix and a vector, got \(a.shape) and \(x.shape)")
        let (am, tA) = a.blasOperand(transposed: transposeA)
        let rows = a.shape[0], cols = a.shape[1]
        let inLen = transposeA ? rows : cols, outLen = transposeA ? cols : rows
        precondition(x.shape[0] == inLen, "matvec: vector of \(x.shape[0]) for op(a) with \(inLen) columns")
        var y = Tensor(shape: [outLen], repeating: 0)
        if y.count == 0 || inLen == 0 { return y }
        let xc = x.contiguous()
        // `am` is row-major with unit column stride; its logical shape is (rows', cols').
        let r = am.shape[0], cl = am.shape[1]
        y.withUnsafeMutableBufferPointer { yp in
            withExtendedLifetime((am.storage, xc.storage)) {
                cblas_sgemv(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, Int32(r), Int32(cl), 1,
                            am.storage.base + am.offset, Int32(am.strides[0]),
                            xc.storage.base + xc.offset, 1, 0, yp.baseAddress, 1)
            }
        }
        return y
    }
}
