import Tensors

/// `a + b` for equal shapes (residual connections), through the kernel backend so native layouts survive.
/// Backward: both inputs receive dy. (A variable used on both sides, `x + x`, receives 2·dy.)
public func + (a: Variable, b: Variable) -> Variable {
    precondition(a.tape === b.tape, "Variable +: operands on different tapes")
    precondition(a.shape == b.shape, "Variable +: shapes \(a.shape) and \(b.shape) differ (use addBroadcasting)")
    let kernels = a.tape.kernels
    let y = kernels.run { $0.add(a.data, b.data) }
    return a.tape.record(y, inputs: [a, b]) { gy in [gy, gy] }
}

/// `a + b` where b's shape broadcasts to a's (NumPy rules, b's axes aligned to the right, extents 1 or equal),
/// e.g. a bias (C, 1, 1) added to (N, C, H, W). Backward: da = dy; db = dy summed over the broadcast axes.
public func addBroadcasting(_ a: Variable, _ b: Variable) -> Variable {
    precondition(a.tape === b.tape, "addBroadcasting: operands on different tapes")
    let av = a.value, bv = b.value
    let bShape = bv.shape
    let expanded = broadcastShape(bShape, to: av.shape)
    var y = av.materialized()
    let strides = broadcastStrides(expanded)
    let n = y.count, rank = av.rank
    bv.withUnsafeBufferPointer { bp in
        y.withUnsafeMutableBufferPointer { yp in
            var index = [Int](repeating: 0, count: rank)
            for i in 0..<n {
                var off = 0
                for d in 0..<rank { off += index[d] * strides[d] }
                yp[i] += bp[off]
                var d = rank - 1
                while d >= 0 { index[d] += 1; if index[d] < av.shape[d] { break }; index[d] = 0; d -= 1 }
            }
        }
    }
    let aShape = av.shape
    return a.tape.record(.dense(y), inputs: [a, b]) { gyk in
        let gy = gyk.dense()
        var gb = Tensor.zeros(bShape)
        gy.withUnsafeBufferPointer { gp in
            gb.withUnsafeMutableBufferPointer { bp in
                var index = [Int](repeating: 0, count: rank)
                for i in 0..<gp.count {
                    var off = 0
                    for d in 0..<rank { off += index[d] * strides[d] }
                    bp[off] += gp[i]
                    var d = rank - 1
                    while d >= 0 { index[d] += 1; if index[d] < aShape[d] { break }; index[d] = 0; d -= 1 }
                }
            }
        }
        return [gyk, .dense(gb)]
    }
}

/// `b`'s shape left-padded with 1s to `target`'s rank, checked for broadcast compatibility.
func broadcastShape(_ b: [Int], to target: [Int]) -> [Int] {
    precondition(b.count <= target.count, "broadcast: shape \(b) has more axes than \(target)")
    let padded = [Int](repeating: 1, count: target.count - b.count) + b
    for (x, t) in zip(padded, target) {
        precondition(x == 1 || x == t, "broadcast: shape \(b) does not broadcast to \(target)")
    }
    return padded
}

/// Row-major strides of `shape` with 0 for axes of extent 1 (so broadcast axes repeat the same element).
func broadcastStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 0, count: shape.count)
    var step = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[d] = shape[d] == 1 ? 0 : step
        step *= shape[d]
    }
    return strides
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
