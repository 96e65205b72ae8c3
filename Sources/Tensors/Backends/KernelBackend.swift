/// A provider of the heavy neural-network kernels: convolution, fully connected (linear) layers, pooling, batch
/// normalisation, ReLU and the element-wise sum used to accumulate gradients. Autograd calls kernels only through this protocol (via
/// `Kernels`), so a faster backend plugs in below it without any change above.
///
/// ## Design
///
/// - **Semantics are PyTorch's.** `ReferenceBackend` (plain Swift + CBLAS) is the living definition; every
///   other backend is tested against it. Layout of every `.dense` value is row-major NCHW; weights are
///   (O, C, KH, KW), per-channel vectors are (C).
/// - **A backend may decline any op** by returning `nil`. `Kernels` then asks the next backend in its list and
///   finally the reference backend, which accepts everything. A backend may decline for any reason — an
///   unsupported geometry, a shape too small to be worth it, a native input of a foreign backend.
/// - **Private layouts stay private.** Inputs and outputs are `KernelTensor`s: a backend such as oneDNN returns
///   its blocked activations as `.native` values (conforming to `NativeTensor`) and accepts them back as inputs
///   to the next kernel, so conv → BN → ReLU → pool chains never reorder to NCHW in between; gradients flow
///   through the backward kernels the same way. Autograd never looks inside a native value; it calls `dense()`
///   only at the boundaries (flatten before a linear layer, values the user reads). Any backend must accept
///   `.native` inputs of a foreign backend by converting them with `dense()`, or decline.
/// - **Forward state is opaque.** Ops whose backward needs forward-time state (max-pool argmax, batch-norm
///   saved statistics) return an opaque `workspace`; autograd keeps it together with the backend that produced
///   it and calls *that* backend's backward with it. A backend that accepts a forward must accept the matching
///   backward for its own workspace (it must not decline it).
/// - Parameters (weights, scale/shift, running statistics) are always plain `Tensor`s in the public layout; a
///   backend may cache reordered copies keyed by shape, but must not keep references that outlive a call
///   unless they are copies.
/// - Backends are reference types shared across threads (`Sendable`); they are free to cache primitives and
///   scratch memory per shape internally.
public protocol KernelBackend: AnyObject, Sendable {
    /// Short name for logs and benchmarks ("reference", "onednn", …).
    var name: String { get }

    /// `y[n,o] = bias[o] + Σ_c weight[o,c] ⋆ x[n,c]` (cross-correlation). input (N, C, H, W), weight (O, C, KH, KW),
    /// bias (O) or nil → (N, O, OH, OW). PyTorch `F.conv2d`.
    func conv2dForward(_ input: KernelTensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry) -> KernelTensor?
    /// Convolution with no backward to come (no-grad evaluation), followed by `max(·, 0)` when `relu`: the
    /// values of `conv2dForward` (then `relu`), which a backend may compute in one fused kernel.
    func conv2dInference(_ input: KernelTensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry,
                         relu: Bool) -> KernelTensor?
    /// Gradient with respect to the input: the transposed convolution of `gradOutput` (N, O, OH, OW) with
    /// `weight` → `inputShape`.
    func conv2dBackwardData(_ gradOutput: KernelTensor, weight: Tensor, inputShape: [Int],
                            geometry: Conv2dGeometry) -> KernelTensor?
    /// Gradients with respect to the weight (`weightShape`) and, when `includeBias`, the bias
    /// (`Σ_{n,h,w} gradOutput`).
    func conv2dBackwardWeights(_ gradOutput: KernelTensor, input: KernelTensor, weightShape: [Int],
                               includeBias: Bool, geometry: Conv2dGeometry) -> (weight: Tensor, bias: Tensor?)?

    /// Fully connected layer (PyTorch `F.linear`): input (B, in), weight (out, in), bias (out) or nil →
    /// `y = x·Wᵀ + b` (B, out).
    func linearForward(_ input: KernelTensor, weight: Tensor, bias: Tensor?) -> KernelTensor?
    /// Gradient with respect to the input: `dx = dy·W`, gradOutput (B, out), weight (out, in) → (B, in).
    func linearBackwardData(_ gradOutput: KernelTensor, weight: Tensor) -> KernelTensor?
    /// Gradients with respect to the weight, `dW = dyᵀ·x` (out, in), and, when `includeBias`, the bias,
    /// `db = Σ_rows dy` (out).
    func linearBackwardWeights(_ gradOutput: KernelTensor, input: KernelTensor,
                               includeBias: Bool) -> (weight: Tensor, bias: Tensor?)?

    /// Max pooling (padding acts as −∞; the first maximum in row-major window order wins, and NaN beats
    /// numbers, as PyTorch's CPU kernel). Returns the output and a workspace for `maxPool2dBackward`.
    func maxPool2dForward(_ input: KernelTensor, geometry: Pool2dGeometry) -> PoolingForwardResult?
    /// Max pooling without a backward to come (no-grad evaluation): only the pooled values, no argmax
    /// workspace. Defaults to `maxPool2dForward`'s output.
    func maxPool2dInference(_ input: KernelTensor, geometry: Pool2dGeometry) -> KernelTensor?
    /// Routes each output gradient to the input position that was the maximum.
    func maxPool2dBackward(_ gradOutput: KernelTensor, workspace: any Sendable, inputShape: [Int],
                           geometry: Pool2dGeometry) -> KernelTensor?
    /// Average pooling with `count_include_pad=True` (PyTorch default).
    func avgPool2dForward(_ input: KernelTensor, geometry: Pool2dGeometry) -> KernelTensor?
    /// Spreads each output gradient evenly over its window.
    func avgPool2dBackward(_ gradOutput: KernelTensor, inputShape: [Int], geometry: Pool2dGeometry) -> KernelTensor?

    /// Batch normalisation with batch statistics: per channel c, `μ = mean(x[:,c])`,
    /// `σ² = mean((x[:,c] − μ)²)` (biased), `y = (x − μ)/√(σ² + ε)·scale[c] + shift[c]`. Returns y, μ, σ² and a
    /// workspace for `batchNormTrainingBackward`. (The running-statistics update is the caller's job.)
    func batchNormTrainingForward(_ input: KernelTensor, scale: Tensor, shift: Tensor,
                                  epsilon: Float) -> BatchNormTrainingResult?
    /// Backward of `batchNormTrainingForward` (gradients flow through μ and σ²):
    /// `dx = scale·invstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂))`, `dscale = Σ dy·x̂`, `dshift = Σ dy`, M = N·H·W.
    func batchNormTrainingBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                   workspace: any Sendable) -> (input: KernelTensor, scale: Tensor, shift: Tensor)?
    /// Training-mode batch normalisation followed by ReLU, `max(batchNorm(x), 0)` (the conv → BN → ReLU
    /// pattern): the same output and statistics as `batchNormTrainingForward` and then `relu`, in one kernel.
    /// The workspace serves `batchNormReLUTrainingBackward`.
    func batchNormReLUTrainingForward(_ input: KernelTensor, scale: Tensor, shift: Tensor,
                                      epsilon: Float) -> BatchNormTrainingResult?
    /// Backward of `batchNormReLUTrainingForward`: the batch-norm backward of `dy · [y > 0]` (the ReLU gradient
    /// at 0 is 0, as `reluBackward`).
    func batchNormReLUTrainingBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                       workspace: any Sendable) -> (input: KernelTensor, scale: Tensor, shift: Tensor)?
    /// Batch normalisation with given (running) statistics: `y = (x − mean)/√(variance + ε)·scale + shift`.
    func batchNormInferenceForward(_ input: KernelTensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                   variance: Tensor, epsilon: Float) -> KernelTensor?
    /// Backward of `batchNormInferenceForward` (statistics are constants): `dx = dy·scale/√(variance + ε)`.
    func batchNormInferenceBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor, mean: Tensor,
                                    variance: Tensor, epsilon: Float)
        -> (input: KernelTensor, scale: Tensor, shift: Tensor)?

    /// `max(x, 0)` element-wise.
    func relu(_ input: KernelTensor) -> KernelTensor?
    /// `dy · [y > 0]` from the ReLU *output* y (PyTorch's `threshold_backward`; the gradient at 0 is 0).
    func reluBackward(_ gradOutput: KernelTensor, output: KernelTensor) -> KernelTensor?
    /// `a + b` for equal shapes (residual connections and gradient accumulation).
    func add(_ a: KernelTensor, _ b: KernelTensor) -> KernelTensor?
}

/// Output of a pooling forward plus the backend-private state its backward needs.
public struct PoolingForwardResult: @unchecked Sendable {
    /// Pooled values (N, C, OH, OW).
    public var output: KernelTensor
    /// Backend-private (for the reference backend: the flat argmax index per output element).
    public var workspace: any Sendable
    public init(output: KernelTensor, workspace: any Sendable) {
        self.output = output
        self.workspace = workspace
    }
}

/// Output of a training-mode batch-norm forward.
public struct BatchNormTrainingResult: @unchecked Sendable {
    /// Normalised, scaled and shifted values, same shape as the input.
    public var output: KernelTensor
    /// Batch mean per channel (C).
    public var mean: Tensor
    /// Biased batch variance per channel (C) (divide by M = N·H·W).
    public var variance: Tensor
    /// Backend-private state for the backward.
    public var workspace: any Sendable
    public init(output: KernelTensor, mean: Tensor, variance: Tensor, workspace: any Sendable) {
        self.output = output
        self.mean = mean
        self.variance = variance
        self.workspace = workspace
    }
}

/// Every op declines by default, so a backend implements only what it accelerates.
extension KernelBackend {
    public func conv2dForward(_ input: KernelTensor, weight: Tensor, bias: Tensor?,
                              geometry: Conv2dGeometry) -> KernelTensor? { nil }
    public func conv2dInference(_ input: KernelTensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry,
                                relu: Bool) -> KernelTensor? { nil }
    public func conv2dBackwardData(_ gradOutput: KernelTensor, weight: Tensor, inputShape: [Int],
                                   geometry: Conv2dGeometry) -> KernelTensor? { nil }
    public func conv2dBackwardWeights(_ gradOutput: KernelTensor, input: KernelTensor, weightShape: [Int],
                                      includeBias: Bool, geometry: Conv2dGeometry) -> (weight: Tensor, bias: Tensor?)? { nil }
    public func linearForward(_ input: KernelTensor, weight: Tensor, bias: Tensor?) -> KernelTensor? { nil }
    public func linearBackwardData(_ gradOutput: KernelTensor, weight: Tensor) -> KernelTensor? { nil }
    public func linearBackwardWeights(_ gradOutput: KernelTensor, input: KernelTensor,
                                      includeBias: Bool) -> (weight: Tensor, bias: Tensor?)? { nil }
    public func maxPool2dForward(_ input: KernelTensor, geometry: Pool2dGeometry) -> PoolingForwardResult? { nil }
    public func maxPool2dInference(_ input: KernelTensor, geometry: Pool2dGeometry) -> KernelTensor? {
        maxPool2dForward(input, geometry: geometry)?.output
    }
    public func maxPool2dBackward(_ gradOutput: KernelTensor, workspace: any Sendable, inputShape: [Int],
                                  geometry: Pool2dGeometry) -> KernelTensor? { nil }
    public func avgPool2dForward(_ input: KernelTensor, geometry: Pool2dGeometry) -> KernelTensor? { nil }
    public func avgPool2dBackward(_ gradOutput: KernelTensor, inputShape: [Int],
                                  geometry: Pool2dGeometry) -> KernelTensor? { nil }
    public func batchNormTrainingForward(_ input: KernelTensor, scale: Tensor, shift: Tensor,
                                         epsilon: Float) -> BatchNormTrainingResult? { nil }
    public func batchNormTrainingBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                          workspace: any Sendable) -> (input: KernelTensor, scale: Tensor, shift: Tensor)? { nil }
    public func batchNormReLUTrainingForward(_ input: KernelTensor, scale: Tensor, shift: Tensor,
                                             epsilon: Float) -> BatchNormTrainingResult? { nil }
    public func batchNormReLUTrainingBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                              workspace: any Sendable) -> (input: KernelTensor, scale: Tensor, shift: Tensor)? { nil }
    public func batchNormInferenceForward(_ input: KernelTensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                          variance: Tensor, epsilon: Float) -> KernelTensor? { nil }
    public func batchNormInferenceBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                           mean: Tensor, variance: Tensor, epsilon: Float)
        -> (input: KernelTensor, scale: Tensor, shift: Tensor)? { nil }
    public func relu(_ input: KernelTensor) -> KernelTensor? { nil }
    public func reluBackward(_ gradOutput: KernelTensor, output: KernelTensor) -> KernelTensor? { nil }
    public func add(_ a: KernelTensor, _ b: KernelTensor) -> KernelTensor? { nil }
}
