import Tensors

/// Training-mode batch normalisation (PyTorch `F.batch_norm(training=True)`), over (N, C, H, W) or (N, C).
///
/// Per channel: batch mean μ and *biased* variance σ² over M = N·H·W values,
/// `y = (x − μ)/√(σ² + ε)·scale + shift`. Returns y and the batch statistics (σ² biased; the caller updates
/// running statistics, see `BatchNorm2d`). Gradients flow through μ and σ².
///
/// - Throws: `AutogradError.batchNormNeedsMoreThanOneValue` when M = 1 (as PyTorch). A batch of one image with
///   H·W > 1 is fine (statistics over the spatial positions), exactly as in PyTorch.
public func batchNorm(_ x: Variable, scale: Variable, shift: Variable, epsilon: Float = 1e-5) throws
    -> (output: Variable, mean: Tensor, variance: Tensor) {
    try trainingBatchNorm(x, scale: scale, shift: shift, epsilon: epsilon, reLU: false)
}

/// Training-mode batch normalisation followed by ReLU, `max(batchNorm(x), 0)`, as one op (conv → BN → ReLU
/// blocks): exactly `relu(batchNorm(x, …).output)` with the same statistics, but the backend may run it as one
/// kernel (oneDNN: `dnnl_fuse_norm_relu`, no separate ReLU pass forward or backward). Backward: the batch-norm
/// backward of `dy · [y > 0]`.
///
/// - Throws: `AutogradError.batchNormNeedsMoreThanOneValue` when M = 1 (as `batchNorm`).
public func batchNormReLU(_ x: Variable, scale: Variable, shift: Variable, epsilon: Float = 1e-5) throws
    -> (output: Variable, mean: Tensor, variance: Tensor) {
    try trainingBatchNorm(x, scale: scale, shift: shift, epsilon: epsilon, reLU: true)
}

/// `batchNorm` (training) or, with `reLU`, `batchNormReLU`: one recording for both, only the kernels differ.
private func trainingBatchNorm(_ x: Variable, scale: Variable, shift: Variable, epsilon: Float, reLU: Bool) throws
    -> (output: Variable, mean: Tensor, variance: Tensor) {
    let shape = x.shape
    let perChannel = shape.count == 4 ? shape[0] * shape[2] * shape[3] : (shape.first ?? 0)
    if perChannel <= 1 { throw AutogradError.batchNormNeedsMoreThanOneValue(inputShape: shape) }
    let tape = x.tape
    let gamma = scale.value
    let (r, backend) = tape.kernels.first {
        reLU ? $0.batchNormReLUTrainingForward(x.data, scale: gamma, shift: shift.value, epsilon: epsilon)
            : $0.batchNormTrainingForward(x.data, scale: gamma, shift: shift.value, epsilon: epsilon)
    }
    let xData = x.data, workspace = r.workspace
    let y = tape.record(r.output, inputs: [x, scale, shift]) { gy in
        let g = reLU ? backend.batchNormReLUTrainingBackward(gy, input: xData, scale: gamma, workspace: workspace)
            : backend.batchNormTrainingBackward(gy, input: xData, scale: gamma, workspace: workspace)
        guard let g else {
            preconditionFailure("\(reLU ? "batchNormReLU" : "batchNorm"): backend \(backend.name) declined the "
                                + "backward of its own forward")
        }
        return [g.input, .dense(g.scale), .dense(g.shift)]
    }
    return (y, r.mean, r.variance)
}

/// Evaluation-mode batch normalisation with fixed statistics (PyTorch `F.batch_norm(training=False)`):
/// `y = (x − mean)/√(variance + ε)·scale + shift`; the statistics are constants for the backward.
public func batchNorm(_ x: Variable, scale: Variable, shift: Variable, mean: Tensor, variance: Tensor,
                      epsilon: Float = 1e-5) -> Variable {
    let tape = x.tape
    let kernels = tape.kernels
    let gamma = scale.value
    let y = kernels.run {
        $0.batchNormInferenceForward(x.data, scale: gamma, shift: shift.value, mean: mean, variance: variance,
                                     epsilon: epsilon)
    }
    let xData = x.data
    return tape.record(y, inputs: [x, scale, shift]) { gy in
        let g = kernels.run {
            $0.batchNormInferenceBackward(gy, input: xData, scale: gamma, mean: mean, variance: variance, epsilon: epsilon)
        }
        return [g.input, .dense(g.scale), .dense(g.shift)]
    }
}
