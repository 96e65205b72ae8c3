import Tensors

/// The result of one backward sweep: the gradient of the root with respect to each leaf.
///
/// Reading the gradient of a leaf or parameter that did not influence the root gives zeros of its shape.
public struct Gradients {
    let grads: [KernelTensor?]
    let parameterNodes: [ObjectIdentifier: Int]

    init(grads: [KernelTensor?], parameterNodes: [ObjectIdentifier: Int]) {
        self.grads = grads
        self.parameterNodes = parameterNodes
    }

    /// Gradient with respect to a leaf created by `tape.variable(_:)` (zeros if it was unused).
    public subscript(_ v: Variable) -> Tensor {
        guard let id = v.id else { return Tensor.zeros(v.shape) }
        if id < grads.count, let g = grads[id] { return g.dense() }
        return Tensor.zeros(v.shape)
    }

    /// Gradient with respect to a parameter (zeros if it was not used on the tape or did not influence the root).
    public subscript(_ p: Parameter) -> Tensor {
        guard let id = parameterNodes[ObjectIdentifier(p)], id < grads.count, let g = grads[id] else {
            return Tensor.zeros(p.shape)
        }
        return g.dense()
    }

    /// Whether the parameter received a gradient on this sweep.
    public func contains(_ p: Parameter) -> Bool {
        guard let id = parameterNodes[ObjectIdentifier(p)], id < grads.count else { return false }
        return grads[id] != nil
    }
}
