import Autograd
import Tensors

/// Stochastic gradient descent with momentum and weight decay, step for step as `torch.optim.SGD`
/// (dampening 0, no Nesterov):
///
///     g ← grad + weightDecay · p
///     buf ← g                      on the first step of p
///     buf ← momentum · buf + g     afterwards
///     p ← p − lr · buf             (p ← p − lr · g when momentum is 0)
///
/// A parameter that got no gradient on a sweep (not used by the loss) is skipped entirely, like a PyTorch
/// parameter whose `.grad` is `None`. The momentum buffers are keyed by parameter name, so they can be saved and
/// restored with `momentumState()` / `loadMomentumState(_:)`.
public final class SGD {
    /// Named parameters being optimised (from `namedParameters()`).
    public let parameters: [(name: String, parameter: Parameter)]
    /// Step size; change it between steps for a schedule.
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    private var buffers: [String: Tensor] = [:]

    public init(parameters: [(name: String, parameter: Parameter)], learningRate: Float, momentum: Float = 0.9,
                weightDecay: Float = 0) {
        precondition(learningRate >= 0 && momentum >= 0 && weightDecay >= 0,
                     "SGD: learningRate \(learningRate), momentum \(momentum), weightDecay \(weightDecay) must be >= 0")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// One update of every parameter that has a gradient in `gradients` (one fused pass per parameter, in place).
    public func step(_ gradients: Gradients) {
        step { gradients.contains($0) ? gradients[$0] : nil }
    }

    /// One update of every parameter for which `gradient` gives a gradient (nil: skipped, as in `step(_:)`):
    /// for gradients reduced elsewhere, such as the averaged gradients of data-parallel training.
    public func step(gradient: (Parameter) -> Tensor?) {
        let lr = learningRate, mu = momentum, wd = weightDecay
        for (name, p) in parameters {
            guard let g = gradient(p) else { continue }
            precondition(g.shape == p.shape, "SGD: gradient \(g.shape) for parameter \(name) of shape \(p.shape)")
            var value = p.value
            p.value = Tensor(scalar: 0)  // drop the slot's reference so `value` is updated in place
            let first = buffers[name] == nil
            var buf = buffers.removeValue(forKey: name) ?? Tensor(uninitializedShape: g.shape)
            g.withUnsafeBufferPointer { gp in
                value.withUnsafeMutableBufferPointer { pp in
                    buf.withUnsafeMutableBufferPointer { bp in
                        let box = UnsafeSendable((gp.baseAddress!, pp.baseAddress!, bp.baseAddress!))
                        parallelChunks(pp.count, minChunk: 1 << 16) { r in
                            let (gp, pp, bp) = box.value
                            for i in r {
                                let d = gp[i] + wd * pp[i]
                                let b = mu == 0 ? d : (first ? d : mu * bp[i] + d)
                                bp[i] = b
                                pp[i] -= lr * b
                            }
                        }
                    }
                }
            }
            p.value = value
            if mu != 0 { buffers[name] = buf }
        }
    }

    /// Momentum buffers by parameter name, in parameter order (for checkpoints; PyTorch's `momentum_buffer`).
    public func momentumState() -> [(name: String, tensor: Tensor)] {
        parameters.compactMap { entry in buffers[entry.name].map { (name: entry.name, tensor: $0) } }
    }

    /// Restores momentum buffers saved by `momentumState()`.
    public func loadMomentumState(_ state: [(name: String, tensor: Tensor)]) throws(StateDictError) {
        let shapes = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.parameter.shape) })
        var new: [String: Tensor] = [:]
        for (name, t) in state {
            guard let s = shapes[name] else { throw .unexpectedKey(name) }
            guard s == t.shape else { throw .shapeMismatch(key: name, expected: s, found: t.shape) }
            new[name] = t.materialized()
        }
        buffers = new
    }
}
