import Tensors

/// Max pooling (PyTorch `F.max_pool2d`, floor mode): (N, C, H, W) → (N, C, OH, OW), the maximum of each window.
/// Backward routes each output gradient to the (first) maximum of its window; ties therefore send the whole
/// gradient to one input, exactly as PyTorch's CPU kernel.
public func maxPool2d(_ x: Variable, geometry: Pool2dGeometry) -> Variable {
    let tape = x.tape
    if !tape.needsGradient(x) {  // no backward: the pooled values only, without the argmax workspace
        return Variable(data: tape.kernels.run { $0.maxPool2dInference(x.data, geometry: geometry) }, tape: tape, id: nil)
    }
    let (r, backend) = tape.kernels.first { $0.maxPool2dForward(x.data, geometry: geometry) }
    let workspace = r.workspace, xShape = x.shape
    return tape.record(r.output, inputs: [x]) { gy in
        guard let gx = backend.maxPool2dBackward(gy, workspace: workspace, inputShape: xShape, geometry: geometry) else {
            preconditionFailure("maxPool2d: backend \(backend.name) declined the backward of its own forward")
        }
        return [gx]
    }
}

/// Average pooling with zero padding counted in the divisor (PyTorch `F.avg_pool2d`, `count_include_pad=True`,
/// floor mode). Backward spreads `dy / (KH·KW)` over each window.
public func avgPool2d(_ x: Variable, geometry: Pool2dGeometry) -> Variable {
    let tape = x.tape
    let kernels = tape.kernels
    let y = kernels.run { $0.avgPool2dForward(x.data, geometry: geometry) }
    let xShape = x.shape
    return tape.record(y, inputs: [x]) { gy in
        [kernels.run { $0.avgPool2dBackward(gy, inputShape: xShape, geometry: geometry) }]
    }
}

/// Adaptive average pooling to 1×1 (PyTorch `nn.AdaptiveAvgPool2d((1, 1))`): the mean over H and W,
/// (N, C, H, W) → (N, C, 1, 1). Implemented as average pooling with an H×W window.
public func adaptiveAvgPool2dTo1x1(_ x: Variable) -> Variable {
    precondition(x.shape.count == 4, "adaptiveAvgPool2dTo1x1: input must be (N, C, H, W), got \(x.shape)")
    let h = x.shape[2], w = x.shape[3]
    return avgPool2d(x, geometry: Pool2dGeometry(kernelH: h, kernelW: w, strideH: h, strideW: w, paddingH: 0, paddingW: 0))
}
