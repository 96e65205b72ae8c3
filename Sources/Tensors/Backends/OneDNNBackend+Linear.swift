import CDNNL

/// Fully connected layers on oneDNN, so that every kernel of a training step runs on oneDNN's one OpenMP thread
/// pool (OpenBLAS's own pthreads beside it cost hand-over and spin-waiting at every switch; see
/// docs/PERFORMANCE.md).
///
/// The forward runs the matmul primitive (a `brg:` kernel for whatever ISA oneDNN finds) with the bias fused; the two backward
/// products run `dnnl_sgemm`. That split is what measured fastest on the real shapes (alexnet_cifar and
/// alexnet, 2 threads, `scripts/probes/linear_gemm_probe.c`): the matmul primitive wins every forward shape
/// (fc7 at batch 128: 22 ms against 44 for `dnnl_sgemm` and 34 for OpenBLAS), `dnnl_sgemm` the backward
/// ones (fc7 dW: 20 ms against 27 for the primitive). Every operand is read in place from the public row-major
/// tensors (a transposed operand is described by its strides, never copied); results are plain dense tensors
/// in pooled buffers (the layers around a linear layer work on dense values).
extension OneDNNBackend {
    /// Cached matmul primitive `C (M, N) = A (M, K) · B (K, N) [+ bias (1, N)]`, where A and B are read
    /// row-major (`ab`) or as the transpose of a row-major matrix (`ba`).
    func matmulPrimitive(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
                         bias: Bool) -> OneDNNPrimitive? {
        let key = PrimitiveKey(op: "matmul", shapes: [[m, n, k]],
                               numbers: [transposeA ? 1 : 0, transposeB ? 1 : 0, bias ? 1 : 0])
        return primitive(key) {
            var a = OneDNNBackend.desc([m, k], tag: transposeA ? dnnl_ba : dnnl_ab)
            var b = OneDNNBackend.desc([k, n], tag: transposeB ? dnnl_ba : dnnl_ab)
            var c = OneDNNBackend.desc([m, n], tag: dnnl_ab)
            var bd = OneDNNBackend.desc([1, n], tag: dnnl_ab)
            var d = dnnl_matmul_desc_t()
            let status = withUnsafePointer(to: &bd) { bp in
                dnnl_matmul_desc_init(&d, &a, &b, bias ? bp : nil, &c)
            }
            guard status == dnnl_success else { return nil }
            return OneDNNPrimitive.make(&d, engine: engine, label: "matmul")
        }
    }

    /// `op(a) · op(b) [+ bias]` into a new dense (M, N) tensor; `a`, `b` and `bias` must be contiguous. Must be
    /// called with the lock held. `nil` when oneDNN has no implementation.
    func matmul(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool, bias: Tensor?) -> Tensor? {
        let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
        let n = transposeB ? b.shape[0] : b.shape[1]
        guard let p = matmulPrimitive(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                      bias: bias != nil) else { return nil }
        var out = pooledDenseTensor(shape: [m, n])
        out.withUnsafeMutableBufferPointer { o in
            let dst = OneDNNMemory(engine: engine, desc: p.md(dnnl_query_dst_md),
                                   pointer: UnsafeMutableRawPointer(o.baseAddress!), shape: [m, n], owner: nil)
            var args: [(Int32, OneDNNMemory)] = [
                (DNNL_ARG_SRC, OneDNNMemory(engine: engine, desc: p.md(dnnl_query_src_md), tensor: a)),
                (DNNL_ARG_WEIGHTS, OneDNNMemory(engine: engine, desc: p.md(dnnl_query_weights_md), tensor: b)),
                (DNNL_ARG_DST, dst)]
            if let bias {
                args.append((DNNL_ARG_BIAS, OneDNNMemory(engine: engine, desc: OneDNNBackend.plainDesc([1, n]),
                                                         tensor: bias.reshaped([1, n]))))
            }
            execute(p, args)
        }
        return out
    }

    public func linearForward(_ input: KernelTensor, weight: Tensor, bias: Tensor?) -> KernelTensor? {
        let x = input.dense().contiguous(), w = weight.contiguous()
        precondition(x.rank == 2 && w.rank == 2 && x.shape[1] == w.shape[1],
                     "linear: input \(x.shape) and weight \(w.shape) must be (B, in) and (out, in)")
        if let bias { precondition(bias.shape == [w.shape[0]], "linear: bias \(bias.shape) for \(w.shape[0]) outputs") }
        if x.count == 0 || w.count == 0 { return nil }
        let b = bias?.contiguous()
        return lock.locked { matmul(x, transposeA: false, w, transposeB: true, bias: b).map { .dense($0) } }
    }

    /// `op(a) · op(b)` into a new dense tensor through `dnnl_sgemm` (row-major); operands contiguous and
    /// non-empty. Must be called with the lock held.
    func sgemm(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool) -> Tensor {
        let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
        let n = transposeB ? b.shape[0] : b.shape[1]
        var out = pooledDenseTensor(shape: [m, n])
        out.withUnsafeMutableBufferPointer { o in
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    OneDNNBackend.check(dnnl_sgemm(CChar(UInt8(ascii: transposeA ? "T" : "N")),
                                                   CChar(UInt8(ascii: transposeB ? "T" : "N")),
                                                   Int64(m), Int64(n), Int64(k), 1,
                                                   ap.baseAddress, Int64(a.shape[1]), bp.baseAddress, Int64(b.shape[1]),
                                                   0, o.baseAddress, Int64(n)),
                                        "dnnl_sgemm \(m)x\(n)x\(k)")
                }
            }
        }
        return out
    }

    public func linearBackwardData(_ gradOutput: KernelTensor, weight: Tensor) -> KernelTensor? {
        let gy = gradOutput.dense().contiguous(), w = weight.contiguous()
        precondition(gy.rank == 2 && w.rank == 2 && gy.shape[1] == w.shape[0],
                     "linear backward: gradOutput \(gy.shape) for weight \(w.shape)")
        if gy.count == 0 || w.count == 0 { return nil }
        return lock.locked { .dense(sgemm(gy, transposeA: false, w, transposeB: false)) }
    }

    public func linearBackwardWeights(_ gradOutput: KernelTensor, input: KernelTensor,
                                      includeBias: Bool) -> (weight: Tensor, bias: Tensor?)? {
        let gy = gradOutput.dense().contiguous(), x = input.dense().contiguous()
        precondition(gy.rank == 2 && x.rank == 2 && gy.shape[0] == x.shape[0],
                     "linear backward: gradOutput \(gy.shape) for input \(x.shape)")
        if gy.count == 0 || x.count == 0 { return nil }
        let gw = lock.locked { sgemm(gy, transposeA: true, x, transposeB: false) }
        return (gw, includeBias ? OneDNNBackend.columnSums(gy) : nil)
    }

    /// `Σ_rows m` of a contiguous (R, C) matrix, accumulated in Float in row order, 16 columns at a time.
    static func columnSums(_ m: Tensor) -> Tensor {
        let rows = m.shape[0], cols = m.shape[1]
        var out = Tensor(shape: [cols], repeating: 0)
        m.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { acc in
                let s = src.baseAddress!, a = acc.baseAddress!
                var c = 0
                while c + 16 <= cols {
                    var v = SIMD16<Float>(repeating: 0)
                    for r in 0..<rows { v += UnsafeRawPointer(s + r * cols + c).loadUnaligned(as: SIMD16<Float>.self) }
                    UnsafeMutableRawPointer(a + c).storeBytes(of: v, as: SIMD16<Float>.self)
                    c += 16
                }
                for j in c..<cols {
                    var t: Float = 0
                    for r in 0..<rows { t += s[r * cols + j] }
                    a[j] = t
                }
            }
        }
        return out
    }
}
