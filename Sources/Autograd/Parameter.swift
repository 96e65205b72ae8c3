import Tensors

/// A named slot holding a trainable tensor (or a buffer such as a running mean), shared by reference between
/// the layer that uses it, the optimiser that updates it and the state dict that saves it.
///
/// On a recording tape, `tape.variable(for:)` turns it into a leaf; `Gradients[parameter]` reads its gradient.
public final class Parameter {
    /// The current value. Optimisers and `load(stateDict:)` replace it; shapes never change.
    public var value: Tensor

    public init(_ value: Tensor) { self.value = value }

    /// Shape of the value.
    public var shape: [Int] { value.shape }
}
