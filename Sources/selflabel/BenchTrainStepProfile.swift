import Tensors

/// Wall-clock totals per kernel op and shape, filled by `ProfilingBackend` (for `bench train-step --profile`).
final class KernelProfile: @unchecked Sendable {
    struct Entry {
        var op: String
        var backend: String
        var calls: Int
        var seconds: Double
    }
    private var table: [String: Entry] = [:]
    private var order: [String] = []

    func reset() { table = [:]; order = [] }

    func add(_ op: String, backend: String, seconds: Double) {
        let key = backend + " " + op
        if table[key] == nil { order.append(key); table[key] = Entry(op: op, backend: backend, calls: 0, seconds: 0) }
        table[key]!.calls += 1
        table[key]!.seconds += seconds
    }

    /// Entries in first-call order (forward ops first, then the backward ops in reverse layer order).
    var entries: [Entry] { order.map { table[$0]! } }
}

/// Wraps a backend and times every op it accepts (ops it declines are not recorded, so the next backend's
/// wrapper records them). It must forward every `KernelBackend` op: one it does not implement falls through
/// to the protocol's declining default and would silently run on the reference backend. Single-threaded use:
/// the training step calls kernels one at a time.
final class ProfilingBackend: KernelBackend, @unchecked Sendable {
    let inner: any KernelBackend
    let profile: KernelProfile
    init(_ inner: any KernelBackend, profile: KernelProfile) {
        self.inner = inner
        self.profile = profile
    }
    var name: String { inner.name }

    private func timed<R>(_ op: @autoclosure () -> String, _ body: () -> R?) -> R? {
        let t0 = ResourceUsage.monotonicSeconds
        let r = body()
        if r != nil { profile.add(op(), backend: inner.name, seconds: ResourceUsage.monotonicSeconds - t0) }
        return r
    }

    func conv2dForward(_ input: KernelTensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry) -> KernelTensor? {
        timed("conv.fwd \(input.shape)x\(weight.shape)") { inner.conv2dForward(input, weight: weight, bias: bias, geometry: geometry) }
    }
    func conv2dBackwardData(_ gradOutput: KernelTensor, weight: Tensor, inputShape: [Int],
                            geometry: Conv2dGeometry) -> KernelTensor? {
        timed("conv.bwd_data \(inputShape)x\(weight.shape)") {
            inner.conv2dBackwardData(gradOutput, weight: weight, inputShape: inputShape, geometry: geometry)
        }
    }
    func conv2dBackwardWeights(_ gradOutput: KernelTensor, input: KernelTensor, weightShape: [Int],
                               includeBias: Bool, geometry: Conv2dGeometry) -> (weight: Tensor, bias: Tensor?)? {
        timed("conv.bwd_weights \(input.shape)x\(weightShape)") {
            inner.conv2dBackwardWeights(gradOutput, input: input, weightShape: weightShape, includeBias: includeBias,
                                        geometry: geometry)
        }
    }
    func linearForward(_ input: KernelTensor, weight: Tensor, bias: Tensor?) -> KernelTensor? {
        timed("linear.fwd \(input.shape)x\(weight.shape)") { inner.linearForward(input, weight: weight, bias: bias) }
    }
    func linearBackwardData(_ gradOutput: KernelTensor, weight: Tensor) -> KernelTensor? {
        timed("linear.bwd_data \(gradOutput.shape)x\(weight.shape)") { inner.linearBackwardData(gradOutput, weight: weight) }
    }
    func linearBackwardWeights(_ gradOutput: KernelTensor, input: KernelTensor,
                               includeBias: Bool) -> (weight: Tensor, bias: Tensor?)? {
        timed("linear.bwd_weights \(input.shape)x\(gradOutput.shape)") {
            inner.linearBackwardWeights(gradOutput, input: input, includeBias: includeBias)
        }
    }
    func maxPool2dForward(_ input: KernelTensor, geometry: Pool2dGeometry) -> PoolingForwardResult? {
        timed("maxpool.fwd \(input.shape)") { inner.maxPool2dForward(input, geometry: geometry) }
    }
    func maxPool2dInference(_ input: KernelTensor, geometry: Pool2dGeometry) -> KernelTensor? {
        timed("maxpool.inf \(input.shape)") { inner.maxPool2dInference(input, geometry: geometry) }
    }
    func maxPool2dBackward(_ gradOutput: KernelTensor, workspace: any Sendable, inputShape: [Int],
                           geometry: Pool2dGeometry) -> KernelTensor? {
        timed("maxpool.bwd \(inputShape)") {
            inner.maxPool2dBackward(gradOutput, workspace: workspace, inputShape: inputShape, geometry: geometry)
        }
    }
    func avgPool2dForward(_ input: KernelTensor, geometry: Pool2dGeometry) -> KernelTensor? {
        timed("avgpool.fwd \(input.shape)") { inner.avgPool2dForward(input, geometry: geometry) }
    }
    func avgPool2dBackward(_ gradOutput: KernelTensor, inputShape: [Int], geometry: Pool2dGeometry) -> KernelTensor? {
        timed("avgpool.bwd \(inputShape)") { inner.avgPool2dBackward(gradOutput, inputShape: inputShape, geometry: geometry) }
    }
    func batchNormTrainingForward(_ input: KernelTensor, scale: Tensor, shift: Tensor, epsilon: Float) -> BatchNormTrainingResult? {
        timed("bn.fwd \(input.shape)") { inner.batchNormTrainingForward(input, scale: scale, shift: shift, epsilon: epsilon) }
    }
    func batchNormTrainingBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                   workspace: any Sendable) -> (input: KernelTensor, scale: Tensor, shift: Tensor)? {
        timed("bn.bwd \(input.shape)") {
            inner.batchNormTrainingBackward(gradOutput, input: input, scale: scale, workspace: workspace)
        }
    }
    func batchNormReLUTrainingForward(_ input: KernelTensor, scale: Tensor, shift: Tensor,
                                      epsilon: Float) -> BatchNormTrainingResult? {
        timed("bn_relu.fwd \(input.shape)") {
            inner.batchNormReLUTrainingForward(input, scale: scale, shift: shift, epsilon: epsilon)
        }
    }
    func batchNormReLUTrainingBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                       workspace: any Sendable) -> (input: KernelTensor, scale: Tensor, shift: Tensor)? {
        timed("bn_relu.bwd \(input.shape)") {
            inner.batchNormReLUTrainingBackward(gradOutput, input: input, scale: scale, workspace: workspace)
        }
    }
    func batchNormInferenceForward(_ input: KernelTensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                   variance: Tensor, epsilon: Float) -> KernelTensor? {
        timed("bn.infer.fwd \(input.shape)") {
            inner.batchNormInferenceForward(input, scale: scale, shift: shift, mean: mean, variance: variance, epsilon: epsilon)
        }
    }
    func batchNormInferenceBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor, mean: Tensor,
                                    variance: Tensor, epsilon: Float) -> (input: KernelTensor, scale: Tensor, shift: Tensor)? {
        timed("bn.infer.bwd \(input.shape)") {
            inner.batchNormInferenceBackward(gradOutput, input: input, scale: scale, mean: mean, variance: variance,
                                             epsilon: epsilon)
        }
    }
    func relu(_ input: KernelTensor) -> KernelTensor? { timed("relu.fwd \(input.shape)") { inner.relu(input) } }
    func reluBackward(_ gradOutput: KernelTensor, output: KernelTensor) -> KernelTensor? {
        timed("relu.bwd \(output.shape)") { inner.reluBackward(gradOutput, output: output) }
    }
    func add(_ a: KernelTensor, _ b: KernelTensor) -> KernelTensor? { timed("add \(a.shape)") { inner.add(a, b) } }
}
