import Autograd
import Tensors

/// A building block of a network: a differentiable function with named parameters and buffers.
///
/// Layers are classes so that the optimiser, the state dict and the forward pass share the same `Parameter`
/// slots. Each layer has its own `isTraining` flag (PyTorch's `module.training`); `setTraining(_:)` sets it on
/// a whole subtree. There is no global training mode.
///
/// Names follow PyTorch's `state_dict`: a layer lists its own parameters and buffers (in registration order)
/// and its children with their attribute names; `namedParameters()` and `stateDict()` join them with dots
/// (`features.0.weight`, `layer1.0.bn1.running_mean`).
public protocol Layer: AnyObject {
    /// Training behaviour (batch statistics and running-stat updates in batch norm, active dropout).
    var isTraining: Bool { get set }
    /// The forward pass. Parameters enter the tape through `x.tape.variable(for:)`.
    func callAsFunction(_ x: Variable) throws -> Variable
    /// This layer's own trainable parameters, in PyTorch registration order (e.g. `weight`, `bias`).
    var ownParameters: [(name: String, parameter: Parameter)] { get }
    /// This layer's own buffers (e.g. `running_mean`, `running_var`, `num_batches_tracked`).
    var ownBuffers: [(name: String, parameter: Parameter)] { get }
    /// Direct sub-layers with their attribute names, in registration order.
    var children: [(name: String, layer: any Layer)] { get }
}

extension Layer {
    public var ownParameters: [(name: String, parameter: Parameter)] { [] }
    public var ownBuffers: [(name: String, parameter: Parameter)] { [] }
    public var children: [(name: String, layer: any Layer)] { [] }

    /// Sets `isTraining` on this layer and every descendant (PyTorch `module.train(mode)` / `eval()`).
    public func setTraining(_ training: Bool) {
        isTraining = training
        for c in children { c.layer.setTraining(training) }
    }

    /// All trainable parameters with their full dotted names, depth first in registration order
    /// (PyTorch `named_parameters()`).
    public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        var out = ownParameters.map { (name: prefix + $0.name, parameter: $0.parameter) }
        for c in children { out += c.layer.namedParameters(prefix: prefix + c.name + ".") }
        return out
    }

    /// All buffers with their full dotted names (PyTorch `named_buffers()`).
    public func namedBuffers(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        var out = ownBuffers.map { (name: prefix + $0.name, parameter: $0.parameter) }
        for c in children { out += c.layer.namedBuffers(prefix: prefix + c.name + ".") }
        return out
    }

    /// Parameters and buffers in PyTorch `state_dict()` order: per module its parameters, then its buffers,
    /// then its children recursively.
    public func namedStateSlots(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        var out = ownParameters.map { (name: prefix + $0.name, parameter: $0.parameter) }
        out += ownBuffers.map { (name: prefix + $0.name, parameter: $0.parameter) }
        for c in children { out += c.layer.namedStateSlots(prefix: prefix + c.name + ".") }
        return out
    }

    /// Total number of trainable scalars (PyTorch `sum(p.numel() for p in model.parameters())`).
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.parameter.value.count } }
}
