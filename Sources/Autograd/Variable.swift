import Tensors

/// A value produced on a `Tape`: the tensor plus, when the tape records and the value depends on something
/// that requires a gradient, the index of its node.
///
/// Variables are cheap values (a `KernelTensor` and two references); the tensor is shared, never copied.
public struct Variable {
    /// The value, possibly in a backend's private layout.
    public let data: KernelTensor
    /// The tape that produced it.
    public let tape: Tape
    /// Node index on the tape; `nil` when no gradient flows to this value.
    public let id: Int?

    init(data: KernelTensor, tape: Tape, id: Int?) {
        self.data = data
        self.tape = tape
        self.id = id
    }

    /// The value as a plain row-major tensor (converts a backend-native value).
    public var value: Tensor { data.dense() }
    /// Logical shape.
    public var shape: [Int] { data.shape }
    /// Whether gradients flow to this value.
    public var requiresGradient: Bool { id != nil }
}
