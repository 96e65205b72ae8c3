import Tensors

/// Fully connected layer (PyTorch `F.linear`): x (B, in), weight (out, in), bias (out) → `y = x·Wᵀ + b` (B, out).
/// Backward: `dx = dy·W`, `dW = dyᵀ·x`, `db = Σ_rows dy`, each only when needed. The products run on the tape's
/// kernel backend (`KernelBackend.linearForward` and its two backward ops).
public func linear(_ x: Variable, weight: Variable, bias: Variable? = nil) -> Variable {
    let tape = x.tape
    let kernels = tape.kernels
    let xData = x.data, w = weight.value
    precondition(x.shape.count == 2 && w.rank == 2 && x.shape[1] == w.shape[1],
                 "linear: input \(x.shape) and weight \(w.shape) must be (B, in) and (out, in)")
    let y = kernels.run { $0.linearForward(xData, weight: w, bias: bias?.value) }
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    let needX = x.requiresGradient, needW = weight.requiresGradient, needB = bias?.requiresGradient ?? false
    let hasBias = bias != nil
    return tape.record(y, inputs: inputs) { gy in
        let gx: KernelTensor? = needX ? kernels.run { $0.linearBackwardData(gy, weight: w) } : nil
        var gw: KernelTensor? = nil, gb: KernelTensor? = nil
        if needW || needB {
            let r = kernels.run { $0.linearBackwardWeights(gy, input: xData, includeBias: needB) }
            gw = needW ? .dense(r.weight) : nil
            gb = r.bias.map { .dense($0) }
        }
        return hasBias ? [gx, gw, gb] : [gx, gw]
    }
}
