import Tensors

/// 2-D convolution (PyTorch `F.conv2d`, groups 1, dilation 1) with its backward rule.
///
/// x (N, C, H, W), weight (O, C, KH, KW), bias (O) → (N, O, OH, OW),
/// `y[n,o,i,j] = bias[o] + Σ_{c,u,v} weight[o,c,u,v] · x[n, c, i·s − p + u, j·s − p + v]` (zeros outside).
/// Backward: dx is the transposed convolution of dy with the weight, dweight the correlation of x with dy,
/// dbias the sum of dy over (N, OH, OW) — each computed only when that input requires a gradient.
public func conv2d(_ x: Variable, weight: Variable, bias: Variable? = nil, geometry: Conv2dGeometry) -> Variable {
    let tape = x.tape
    let kernels = tape.kernels
    let w = weight.value
    let y = kernels.run { $0.conv2dForward(x.data, weight: w, bias: bias?.value, geometry: geometry) }
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    let xData = x.data, xShape = x.shape, wShape = w.shape
    let needX = x.requiresGradient
    let needW = weight.requiresGradient || (bias?.requiresGradient ?? false)
    let hasBias = bias != nil
    return tape.record(y, inputs: inputs) { gy in
        let gx = needX ? kernels.run {
            $0.conv2dBackwardData(gy, weight: w, inputShape: xShape, geometry: geometry)
        } : nil
        var gw: KernelTensor? = nil, gb: KernelTensor? = nil
        if needW {
            let r = kernels.run {
                $0.conv2dBackwardWeights(gy, input: xData, weightShape: wShape, includeBias: hasBias, geometry: geometry)
            }
            gw = .dense(r.weight)
            gb = r.bias.map { .dense($0) }
        }
        return hasBias ? [gx, gw, gb] : [gx, gw]
    }
}

/// Convolution, then ReLU when `relu`, for a forward that no gradient flows back through (no-grad evaluation):
/// `weight` and `bias` are constants and nothing is recorded. The values of `conv2d` (then `relu`); a backend
/// may compute them in one fused kernel (oneDNN: an inference primitive with a ReLU post-op).
public func conv2dInference(_ x: Variable, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry,
                            relu: Bool) -> Variable {
    let tape = x.tape
    precondition(!tape.needsGradient(x), "conv2dInference: the input \(x.shape) needs a gradient; use conv2d")
    let y = tape.kernels.run { $0.conv2dInference(x.data, weight: weight, bias: bias, geometry: geometry, relu: relu) }
    return Variable(data: y, tape: tape, id: nil)
}
