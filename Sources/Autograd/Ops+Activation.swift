import Tensors

/// `max(x, 0)` element-wise (PyTorch `F.relu`). Backward: `dy · [y > 0]` — the gradient at exactly 0 is 0,
/// as PyTorch's `threshold_backward`.
public func relu(_ x: Variable) -> Variable {
    let tape = x.tape
    let kernels = tape.kernels
    let y = kernels.run { $0.relu(x.data) }
    return tape.record(y, inputs: [x]) { gy in
        [kernels.run { $0.reluBackward(gy, output: y) }]
    }
}

/// Inverted dropout (PyTorch `F.dropout(training=True)`): each element is zeroed with probability `p` and the
/// survivors are scaled by `1/(1 − p)`, so the expectation is unchanged. The mask is drawn element by element in
/// row-major order from `x.tape.generator` (`nextUniformFloat() < p` drops), so it is reproducible from the
/// tape's seed. Backward multiplies by the same mask. Call it only in training; evaluation is the identity.
public func dropout(_ x: Variable, probability p: Float) -> Variable {
    precondition(p >= 0 && p <= 1, "dropout: probability \(p) outside [0, 1]")
    if p == 0 { return x }
    let tape = x.tape
    let scale: Float = p < 1 ? 1 / (1 - p) : 0
    var mask = Tensor(uninitializedShape: x.shape)
    mask.withUnsafeMutableBufferPointer { m in
        for i in 0..<m.count { m[i] = tape.generator.nextUniformFloat() < p ? 0 : scale }
    }
    let y = multiplyElementwise(x.value, mask)
    return tape.record(.dense(y), inputs: [x]) { gy in
        [.dense(multiplyElementwise(gy.dense(), mask))]
    }
}

/// `a · b` element-wise for equal shapes (a fresh tensor).
func multiplyElementwise(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "multiply: shapes \(a.shape) and \(b.shape) differ")
    var out = a.materialized()
    b.withUnsafeBufferPointer { bp in
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<o.count { o[i] *= bp[i] }
        }
    }
    return out
}
