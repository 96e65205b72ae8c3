/// ReLU and same-shape addition, the element-wise ops that sit inside conv chains. Each writes a fresh
/// output in one pass (16-wide SIMD), parallel over chunks.
extension ReferenceBackend {
    /// `max(x, 0)` (NaN stays NaN, as `torch.relu`).
    public static func relu(_ x: Tensor) -> Tensor {
        map2(x, x) { a, _ in a.replacing(with: 0, where: a .< 0) } scalar: { a, _ in a < 0 ? 0 : a }
    }

    /// `dy · [y > 0]` given the ReLU output y (0 where y is 0 or NaN).
    public static func reluBackward(_ gy: Tensor, output y: Tensor) -> Tensor {
        precondition(gy.shape == y.shape, "reluBackward: gradOutput \(gy.shape) vs output \(y.shape)")
        return map2(gy, y) { g, v in g.replacing(with: 0, where: .!(v .> 0)) } scalar: { g, v in v > 0 ? g : 0 }
    }

    /// `a + b` element-wise for equal shapes.
    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
        return map2(a, b) { $0 + $1 } scalar: { $0 + $1 }
    }

    /// out[i] = f(a[i], b[i]) for equal-shaped tensors, 16 lanes at a time.
    @inline(__always)
    static func map2(_ a: Tensor, _ b: Tensor, _ f: @escaping (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>,
                     scalar g: @escaping (Float, Float) -> Float) -> Tensor {
        var out = Tensor(uninitializedShape: a.shape)
        a.withReadPointer { ap in
            b.withReadPointer { bp in
                out.withUnsafeMutableBufferPointer { ob in
                    let box = UnsafeSendable((ob.baseAddress!, ap, bp))
                    parallelChunks(ob.count, minChunk: 65_536) { r in
                        let (o, ap, bp) = box.value
                        var i = r.lowerBound
                        while i + 16 <= r.upperBound {
                            let x = UnsafeRawPointer(ap + i).loadUnaligned(as: SIMD16<Float>.self)
                            let y = UnsafeRawPointer(bp + i).loadUnaligned(as: SIMD16<Float>.self)
                            UnsafeMutableRawPointer(o + i).storeBytes(of: f(x, y), as: SIMD16<Float>.self)
                            i += 16
                        }
                        while i < r.upperBound { o[i] = g(ap[i], bp[i]); i += 1 }
                    }
                }
            }
        }
        return out
    }
}
