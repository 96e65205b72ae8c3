import Tensors

/// Fully connected layer (PyTorch `F.linear`): x (B, in), weight (out, in), bias (out) → `y = x·Wᵀ + b` (B, out).
/// Backward: `dx = dy·W`, `dW = dyᵀ·x`, `db = Σ_rows dy`, each only when needed. GEMMs through CBLAS.
public func linear(_ x: Variable, weight: Variable, bias: Variable? = nil) -> Variable {
    let tape = x.tape
    let xv = x.value, w = weight.value
    precondition(xv.rank == 2 && w.rank == 2 && xv.shape[1] == w.shape[1],
                 "linear: input \(xv.shape) and weight \(w.shape) must be (B, in) and (out, in)")
    var y = Tensor.matmul(xv, w, transposeB: true)
    if let bias {
        let b = bias.value
        precondition(b.shape == [w.shape[0]], "linear: bias \(b.shape) for \(w.shape[0]) outputs")
        addRowVector(&y, b)
    }
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    let needX = x.requiresGradient, needW = weight.requiresGradient, needB = bias?.requiresGradient ?? false
    let hasBias = bias != nil
    return tape.record(.dense(y), inputs: inputs) { gyk in
        let gy = gyk.dense()
        let gx: KernelTensor? = needX ? .dense(Tensor.matmul(gy, w)) : nil
        let gw: KernelTensor? = needW ? .dense(Tensor.matmul(gy, xv, transposeA: true)) : nil
        guard hasBias else { return [gx, gw] }
        let gb: KernelTensor? = needB ? .dense(columnSums(gy)) : nil
        return [gx, gw, gb]
    }
}

/// `m[i, :] += v` for every row of a contiguous matrix.
func addRowVector(_ m: inout Tensor, _ v: Tensor) {
    let rows = m.shape[0], cols = m.shape[1]
    v.withUnsafeBufferPointer { vp in
        m.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                for c in 0..<cols { p[r * cols + c] += vp[c] }
            }
        }
    }
}

/// Column sums of a matrix (B, K) → (K), accumulated in Double.
func columnSums(_ m: Tensor) -> Tensor {
    let rows = m.shape[0], cols = m.shape[1]
    var acc = [Double](repeating: 0, count: cols)
    m.withUnsafeBufferPointer { p in
        for r in 0..<rows { for c in 0..<cols { acc[c] += Double(p[r * cols + c]) } }
    }
    return Tensor(acc.map { Float($0) })
}
