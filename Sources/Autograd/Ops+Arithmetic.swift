import Tensors

/// `a + b` with NumPy broadcasting. Equal shapes (residual connections) go through the kernel backend, so
/// native layouts survive; otherwise `Tensor +` broadcasts. Backward: each input receives dy summed back to its
/// own shape (`Tensor.reduced(toShape:)`, the one place broadcast gradients are reduced). A variable used on
/// both sides (`x + x`) receives 2·dy through the tape's accumulation.
public func + (a: Variable, b: Variable) -> Variable {
    precondition(a.tape === b.tape, "Variable +: operands on different tapes")
    let aShape = a.shape, bShape = b.shape
    if aShape == bShape {
        let kernels = a.tape.kernels
        let y = kernels.run { $0.add(a.data, b.data) }
        return a.tape.record(y, inputs: [a, b]) { gy in [gy, gy] }
    }
    let y = a.value + b.value
    return a.tape.record(.dense(y), inputs: [a, b]) { gy in
        let g = gy.dense()
        return [.dense(g.reduced(toShape: aShape)), .dense(g.reduced(toShape: bShape))]
    }
}

/// `a − b` with NumPy broadcasting. Backward: dy and −dy, each summed back to its input's shape.
public func - (a: Variable, b: Variable) -> Variable {
    precondition(a.tape === b.tape, "Variable -: operands on different tapes")
    let aShape = a.shape, bShape = b.shape
    return a.tape.record(.dense(a.value - b.value), inputs: [a, b]) { gy in
        let g = gy.dense()
        return [.dense(g.reduced(toShape: aShape)), .dense((-g).reduced(toShape: bShape))]
    }
}

/// `a · b` element-wise with NumPy broadcasting. Backward: `da = Σ dy·b`, `db = Σ dy·a` over broadcast axes.
public func * (a: Variable, b: Variable) -> Variable {
    precondition(a.tape === b.tape, "Variable *: operands on different tapes")
    let av = a.value, bv = b.value
    let needA = a.requiresGradient, needB = b.requiresGradient
    return a.tape.record(.dense(av * bv), inputs: [a, b]) { gy in
        let g = gy.dense()
        return [needA ? .dense((g * bv).reduced(toShape: av.shape)) : nil,
                needB ? .dense((g * av).reduced(toShape: bv.shape)) : nil]
    }
}

/// `x · c` for a constant scalar c. Backward: `dx = c · dy`.
public func * (x: Variable, c: Float) -> Variable {
    let y = scaledTensor(x.value, c)
    return x.tape.record(.dense(y), inputs: [x]) { gy in [.dense(scaledTensor(gy.dense(), c))] }
}

/// Sum of all elements → a scalar (shape []). Backward: dy broadcast to x's shape. Accumulated in Double.
public func sum(_ x: Variable) -> Variable {
    var total = 0.0
    x.value.withUnsafeBufferPointer { p in for v in p { total += Double(v) } }
    let shape = x.shape
    return x.tape.record(.dense(Tensor(scalar: Float(total))), inputs: [x]) { gy in
        [.dense(Tensor(shape: shape, repeating: gy.dense().scalar))]
    }
}

/// Mean of all elements → a scalar. Backward: dy / count everywhere.
public func mean(_ x: Variable) -> Variable {
    let n = x.shape.reduce(1, *)
    return sum(x) * (1 / Float(max(n, 1)))
}

/// Mean of scalars (for example the per-head losses): `(Σ_i s_i) / count`. Backward: each gets dy / count.
public func mean(_ scalars: [Variable]) -> Variable {
    precondition(!scalars.isEmpty, "mean: no values")
    let tape = scalars[0].tape
    var total = 0.0
    for s in scalars {
        precondition(s.tape === tape, "mean: values on different tapes")
        total += Double(s.value.scalar)
    }
    let n = Float(scalars.count)
    let shapes = scalars.map(\.shape)
    return tape.record(.dense(Tensor(scalar: Float(total / Double(scalars.count)))), inputs: scalars) { gy in
        let g = gy.dense().scalar / n
        return shapes.map { .dense(Tensor(shape: $0, repeating: g)) }
    }
}

/// `t · c` as a fresh tensor.
func scaledTensor(_ t: Tensor, _ c: Float) -> Tensor {
    var out = t.materialized()
    out.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] *= c } }
    return out
}
