/// ReLU and same-shape addition, the element-wise ops that sit inside conv chains.
extension ReferenceBackend {
    /// `max(x, 0)` (NaN stays NaN, as `torch.relu`).
    public static func relu(_ x: Tensor) -> Tensor {
        var y = x.contiguous()
        y.makeUnique()
        y.withUnsafeMutableBufferPointer { b in
            let box = UnsafeSendable(b.baseAddress!)
            parallelChunks(b.count) { r in
                let p = box.value
                for i in r where p[i] < 0 { p[i] = 0 }
            }
        }
        return y
    }

    /// `dy · [y > 0]` given the ReLU output y.
    public static func reluBackward(_ gy: Tensor, output y: Tensor) -> Tensor {
        precondition(gy.shape == y.shape, "reluBackward: gradOutput \(gy.shape) vs output \(y.shape)")
        var g = gy.contiguous()
        g.makeUnique()
        y.withReadPointer { yp in
            g.withUnsafeMutableBufferPointer { b in
                let box = UnsafeSendable((b.baseAddress!, yp))
                parallelChunks(b.count) { r in
                    let (p, yp) = box.value
                    for i in r where !(yp[i] > 0) { p[i] = 0 }
                }
            }
        }
        return g
    }

    /// `a + b` element-wise for equal shapes; reuses `a`'s storage when it is uniquely referenced.
    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
        var out = a.contiguous()
        out.makeUnique()
        b.withReadPointer { bp in
            out.withUnsafeMutableBufferPointer { ob in
                let box = UnsafeSendable((ob.baseAddress!, bp))
                parallelChunks(ob.count) { r in
                    let (o, bp) = box.value
                    for i in r { o[i] += bp[i] }
                }
            }
        }
        return out
    }
}
