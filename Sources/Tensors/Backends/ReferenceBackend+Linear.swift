/// Fully connected layers for `ReferenceBackend`: three `cblas_sgemm` calls (`Tensor.matmul`), a bias loop and
/// column sums accumulated in `Double`.
extension ReferenceBackend {
    /// `y = x·Wᵀ + b`: x (B, in), weight (out, in), bias (out) or nil → (B, out).
    public static func linearForward(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1],
                     "linear: input \(x.shape) and weight \(weight.shape) must be (B, in) and (out, in)")
        var y = Tensor.matmul(x, weight, transposeB: true)
        if let bias {
            precondition(bias.shape == [weight.shape[0]], "linear: bias \(bias.shape) for \(weight.shape[0]) outputs")
            let rows = y.shape[0], cols = y.shape[1]
            bias.withUnsafeBufferPointer { vp in
                y.withUnsafeMutableBufferPointer { p in
                    for r in 0..<rows {
                        for c in 0..<cols { p[r * cols + c] += vp[c] }
                    }
                }
            }
        }
        return y
    }

    /// `dx = dy·W`: gradOutput (B, out), weight (out, in) → (B, in).
    public static func linearBackwardData(_ gradOutput: Tensor, weight: Tensor) -> Tensor {
        precondition(gradOutput.rank == 2 && weight.rank == 2 && gradOutput.shape[1] == weight.shape[0],
                     "linear backward: gradOutput \(gradOutput.shape) for weight \(weight.shape)")
        return Tensor.matmul(gradOutput, weight)
    }

    /// `dW = dyᵀ·x` (out, in) and, when `includeBias`, `db = Σ_rows dy` (out, summed in Double).
    public static func linearBackwardWeights(_ gradOutput: Tensor, input: Tensor,
                                             includeBias: Bool) -> (weight: Tensor, bias: Tensor?) {
        precondition(gradOutput.rank == 2 && input.rank == 2 && gradOutput.shape[0] == input.shape[0],
                     "linear backward: gradOutput \(gradOutput.shape) for input \(input.shape)")
        let gw = Tensor.matmul(gradOutput, input, transposeA: true)
        guard includeBias else { return (gw, nil) }
        let rows = gradOutput.shape[0], cols = gradOutput.shape[1]
        var acc = [Double](repeating: 0, count: cols)
        gradOutput.withUnsafeBufferPointer { p in
            for r in 0..<rows { for c in 0..<cols { acc[c] += Double(p[r * cols + c]) } }
        }
        return (gw, Tensor(acc.map { Float($0) }))
    }
}
