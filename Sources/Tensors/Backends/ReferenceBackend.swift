/// The plain-Swift (+ CBLAS GEMM) implementation of every `KernelBackend` op: the definition of the semantics
/// (PyTorch's) that faster backends are tested against. It accepts every op and every input (it converts
/// `.native` inputs with `dense()`), and always returns `.dense` values.
///
/// Linear layers are `cblas_sgemm` calls; convolution is im2col + `cblas_sgemm` over chunks of images (so the GEMM is large even for small images);
/// pooling, batch-norm and element-wise ops are direct loops, parallel over planes or channels with
/// `parallelChunks`. Reductions accumulate in `Double`, so results do not depend on the thread count.
public final class ReferenceBackend: KernelBackend {
    /// The one instance (the backend is stateless).
    public static let shared = ReferenceBackend()

    public init() {}

    public var name: String { "reference" }

    public func conv2dForward(_ input: KernelTensor, weight: Tensor, bias: Tensor?,
                              geometry: Conv2dGeometry) -> KernelTensor? {
        .dense(ReferenceBackend.conv2dForward(input.dense(), weight: weight, bias: bias, geometry: geometry))
    }

    public func conv2dInference(_ input: KernelTensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry,
                                relu: Bool) -> KernelTensor? {
        let y = ReferenceBackend.conv2dForward(input.dense(), weight: weight, bias: bias, geometry: geometry)
        return .dense(relu ? ReferenceBackend.relu(y) : y)
    }

    public func conv2dBackwardData(_ gradOutput: KernelTensor, weight: Tensor, inputShape: [Int],
                                   geometry: Conv2dGeometry) -> KernelTensor? {
        .dense(ReferenceBackend.conv2dBackwardData(gradOutput.dense(), weight: weight, inputShape: inputShape,
                                                    geometry: geometry))
    }

    public func conv2dBackwardWeights(_ gradOutput: KernelTensor, input: KernelTensor, weightShape: [Int],
                                      includeBias: Bool, geometry: Conv2dGeometry) -> (weight: Tensor, bias: Tensor?)? {
        ReferenceBackend.conv2dBackwardWeights(gradOutput.dense(), input: input.dense(), weightShape: weightShape,
                                               includeBias: includeBias, geometry: geometry)
    }

    public func linearForward(_ input: KernelTensor, weight: Tensor, bias: Tensor?) -> KernelTensor? {
        .dense(ReferenceBackend.linearForward(input.dense(), weight: weight, bias: bias))
    }

    public func linearBackwardData(_ gradOutput: KernelTensor, weight: Tensor) -> KernelTensor? {
        .dense(ReferenceBackend.linearBackwardData(gradOutput.dense(), weight: weight))
    }

    public func linearBackwardWeights(_ gradOutput: KernelTensor, input: KernelTensor,
                                      includeBias: Bool) -> (weight: Tensor, bias: Tensor?)? {
        ReferenceBackend.linearBackwardWeights(gradOutput.dense(), input: input.dense(), includeBias: includeBias)
    }

    public func maxPool2dForward(_ input: KernelTensor, geometry: Pool2dGeometry) -> PoolingForwardResult? {
        let (y, indices) = ReferenceBackend.maxPool2dForward(input.dense(), geometry: geometry)
        return PoolingForwardResult(output: .dense(y), workspace: indices)
    }

    public func maxPool2dBackward(_ gradOutput: KernelTensor, workspace: any Sendable, inputShape: [Int],
                                  geometry: Pool2dGeometry) -> KernelTensor? {
        guard let indices = workspace as? MaxPoolIndices else {
            preconditionFailure("ReferenceBackend.maxPool2dBackward: workspace \(type(of: workspace)) is not ours")
        }
        return .dense(ReferenceBackend.maxPool2dBackward(gradOutput.dense(), indices: indices, inputShape: inputShape))
    }

    public func avgPool2dForward(_ input: KernelTensor, geometry: Pool2dGeometry) -> KernelTensor? {
        .dense(ReferenceBackend.avgPool2dForward(input.dense(), geometry: geometry))
    }

    public func avgPool2dBackward(_ gradOutput: KernelTensor, inputShape: [Int],
                                  geometry: Pool2dGeometry) -> KernelTensor? {
        .dense(ReferenceBackend.avgPool2dBackward(gradOutput.dense(), inputShape: inputShape, geometry: geometry))
    }

    public func batchNormTrainingForward(_ input: KernelTensor, scale: Tensor, shift: Tensor,
                                         epsilon: Float) -> BatchNormTrainingResult? {
        let r = ReferenceBackend.batchNormTrainingForward(input.dense(), scale: scale, shift: shift, epsilon: epsilon)
        return BatchNormTrainingResult(output: .dense(r.output), mean: r.mean, variance: r.variance,
                                       workspace: BatchNormSaved(mean: r.mean, inverseStd: r.inverseStd))
    }

    public func batchNormTrainingBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                          workspace: any Sendable) -> (input: KernelTensor, scale: Tensor, shift: Tensor)? {
        guard let saved = workspace as? BatchNormSaved else {
            preconditionFailure("ReferenceBackend.batchNormTrainingBackward: workspace \(type(of: workspace)) is not ours")
        }
        let r = ReferenceBackend.batchNormBackward(gradOutput.dense(), input: input.dense(), scale: scale,
                                                   mean: saved.mean, inverseStd: saved.inverseStd, training: true)
        return (.dense(r.input), r.scale, r.shift)
    }

    /// BN forward, then ReLU; the workspace keeps the statistics and the ReLU output.
    public func batchNormReLUTrainingForward(_ input: KernelTensor, scale: Tensor, shift: Tensor,
                                             epsilon: Float) -> BatchNormTrainingResult? {
        let r = ReferenceBackend.batchNormTrainingForward(input.dense(), scale: scale, shift: shift, epsilon: epsilon)
        let y = ReferenceBackend.relu(r.output)
        return BatchNormTrainingResult(output: .dense(y), mean: r.mean, variance: r.variance,
                                       workspace: BatchNormReLUSaved(batchNorm: BatchNormSaved(mean: r.mean, inverseStd: r.inverseStd),
                                                                     output: y))
    }

    /// ReLU backward from the saved output, then the batch-norm backward.
    public func batchNormReLUTrainingBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                              workspace: any Sendable) -> (input: KernelTensor, scale: Tensor, shift: Tensor)? {
        guard let saved = workspace as? BatchNormReLUSaved else {
            preconditionFailure("ReferenceBackend.batchNormReLUTrainingBackward: workspace \(type(of: workspace)) is not ours")
        }
        let g = ReferenceBackend.reluBackward(gradOutput.dense(), output: saved.output)
        let r = ReferenceBackend.batchNormBackward(g, input: input.dense(), scale: scale, mean: saved.batchNorm.mean,
                                                   inverseStd: saved.batchNorm.inverseStd, training: true)
        return (.dense(r.input), r.scale, r.shift)
    }

    public func batchNormInferenceForward(_ input: KernelTensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                          variance: Tensor, epsilon: Float) -> KernelTensor? {
        .dense(ReferenceBackend.batchNormInferenceForward(input.dense(), scale: scale, shift: shift, mean: mean,
                                                          variance: variance, epsilon: epsilon))
    }

    public func batchNormInferenceBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                           mean: Tensor, variance: Tensor, epsilon: Float)
        -> (input: KernelTensor, scale: Tensor, shift: Tensor)? {
        let invstd = Tensor(variance.scalars.map { 1 / ($0 + epsilon).squareRoot() })
        let r = ReferenceBackend.batchNormBackward(gradOutput.dense(), input: input.dense(), scale: scale,
                                                   mean: mean, inverseStd: invstd, training: false)
        return (.dense(r.input), r.scale, r.shift)
    }

    public func relu(_ input: KernelTensor) -> KernelTensor? { .dense(ReferenceBackend.relu(input.dense())) }

    public func reluBackward(_ gradOutput: KernelTensor, output: KernelTensor) -> KernelTensor? {
        .dense(ReferenceBackend.reluBackward(gradOutput.dense(), output: output.dense()))
    }

    public func add(_ a: KernelTensor, _ b: KernelTensor) -> KernelTensor? {
        .dense(ReferenceBackend.add(a.dense(), b.dense()))
    }
}

/// The reference max-pool workspace: for each output element, the flat index (h·W + w) of its maximum within
/// its input plane.
public final class MaxPoolIndices: @unchecked Sendable {
    /// One index per output element, row-major (N, C, OH, OW).
    public let indices: [Int32]
    public init(indices: [Int32]) { self.indices = indices }
}

/// The reference batch-norm workspace: batch mean and 1/√(σ² + ε) per channel.
public struct BatchNormSaved: Sendable {
    public let mean: Tensor
    public let inverseStd: Tensor
}

/// The reference workspace of the fused batch-norm + ReLU: the batch-norm state and the ReLU output.
public struct BatchNormReLUSaved: Sendable {
    public let batchNorm: BatchNormSaved
    public let output: Tensor
}

extension Tensor {
    /// Calls `body` with a pointer to the row-major elements (copying only when not contiguous).
    @inline(__always)
    func withReadPointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer { try body($0.baseAddress ?? UnsafePointer(bitPattern: 64)!) }
    }
}
