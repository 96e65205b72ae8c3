import Autograd
import Tensors

/// Batch normalisation over channels (PyTorch `nn.BatchNorm2d(C)`, eps 1e-5, momentum 0.1, affine, tracking
/// running statistics); also accepts (N, C) input like `BatchNorm1d`.
///
/// Training: normalises with the batch mean and biased batch variance, then updates
/// `running_mean = 0.9·running_mean + 0.1·μ`, `running_var = 0.9·running_var + 0.1·σ²·M/(M−1)` (the *unbiased*
/// variance, M = N·H·W) and `num_batches_tracked += 1` — also on a no-grad tape, as PyTorch does.
/// Evaluation: normalises with the running statistics. M = 1 in training throws
/// `AutogradError.batchNormNeedsMoreThanOneValue` (PyTorch raises too); a single image with H·W > 1 is fine.
public final class BatchNorm2d: Layer {
    public var isTraining = true
    /// γ (C), initialised to 1.
    public let weight: Parameter
    /// β (C), initialised to 0.
    public let bias: Parameter
    /// Running mean (C), initialised to 0.
    public let runningMean: Parameter
    /// Running variance (C), initialised to 1.
    public let runningVariance: Parameter
    /// Number of training-mode forward passes (shape [], float).
    public let batchesTracked: Parameter
    public let epsilon: Float
    public let momentum: Float
    /// Data-parallel training with `--sync-bn`: the replicas whose batches together form the global batch; in
    /// training mode the statistics (and the running statistics) are then the global batch's
    /// (`synchronizedBatchNorm`). nil (the default): this replica's own batch, as PyTorch's DDP does.
    public var statisticsGroup: (any BatchStatisticsGroup)?

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        weight = Parameter(Tensor.ones([channels]))
        bias = Parameter(Tensor.zeros([channels]))
        runningMean = Parameter(Tensor.zeros([channels]))
        runningVariance = Parameter(Tensor.ones([channels]))
        batchesTracked = Parameter(Tensor(scalar: 0))
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public func callAsFunction(_ x: Variable) throws -> Variable { try callAsFunction(x, fusingReLU: false) }

    /// `relu(self(x))` when `fusingReLU`, as one fused op in training mode (`batchNormReLU`), so a conv → BN → ReLU
    /// block needs no separate ReLU kernel; the running statistics are updated exactly as without fusion.
    public func callAsFunction(_ x: Variable, fusingReLU: Bool) throws -> Variable {
        let tape = x.tape
        let gamma = tape.variable(for: weight), beta = tape.variable(for: bias)
        guard isTraining else {
            let y = batchNorm(x, scale: gamma, shift: beta, mean: runningMean.value, variance: runningVariance.value,
                              epsilon: epsilon)
            return fusingReLU ? relu(y) : y
        }
        let r: (output: Variable, mean: Tensor, variance: Tensor)
        let s = x.shape
        var m = Float(s.count == 4 ? s[0] * s[2] * s[3] : s[0])
        if let group = statisticsGroup {
            let g = try synchronizedBatchNorm(x, scale: gamma, shift: beta, epsilon: epsilon, group: group)
            r = (fusingReLU ? relu(g.output) : g.output, g.mean, g.variance)
            m = Float(g.count)
        } else {
            r = fusingReLU ? try batchNormReLU(x, scale: gamma, shift: beta, epsilon: epsilon)
                : try batchNorm(x, scale: gamma, shift: beta, epsilon: epsilon)
        }
        let correction = m / (m - 1)
        let mu = r.mean.scalars, v = r.variance.scalars
        let rm = runningMean.value.scalars, rv = runningVariance.value.scalars
        let k = momentum
        runningMean.value = Tensor((0..<mu.count).map { (1 - k) * rm[$0] + k * mu[$0] })
        runningVariance.value = Tensor((0..<v.count).map { (1 - k) * rv[$0] + k * v[$0] * correction })
        batchesTracked.value = Tensor(scalar: batchesTracked.value.scalar + 1)
        return r.output
    }

    /// `conv` followed by this layer in evaluation mode, as one convolution: per output channel o, weight
    /// `W[o]·s[o]` and bias `(b[o] − μ[o])·s[o] + β[o]`, with `s = γ/√(running variance + ε)`, μ the running
    /// mean and b the convolution's bias (0 without one); the factors in Double. Equal to the two layers up to
    /// float rounding.
    public func folded(into conv: Conv2d) -> (weight: Tensor, bias: Tensor) {
        let c = conv.outChannels
        precondition(weight.value.count == c, "BatchNorm2d(\(weight.value.count)) cannot fold into a conv with \(c) outputs")
        let gamma = weight.value.scalars, beta = bias.value.scalars
        let mean = runningMean.value.scalars, variance = runningVariance.value.scalars
        let b = conv.bias?.value.scalars ?? [Float](repeating: 0, count: c)
        let eps = Double(epsilon)
        var scale = [Double](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
        for o in 0..<c {
            let s = Double(gamma[o]) / (Double(variance[o]) + eps).squareRoot()
            scale[o] = s
            let centred = Double(b[o]) - Double(mean[o])
            shift[o] = Float(centred * s + Double(beta[o]))
        }
        let w = conv.weight.value.scalars
        let per = w.count / c
        var folded = [Float](repeating: 0, count: w.count)
        for i in 0..<w.count { folded[i] = Float(Double(w[i]) * scale[i / per]) }
        return (Tensor(shape: conv.weight.shape, scalars: folded), Tensor(shift))
    }

    public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }
    public var ownBuffers: [(name: String, parameter: Parameter)] {
        [("running_mean", runningMean), ("running_var", runningVariance), ("num_batches_tracked", batchesTracked)]
    }
}
