import Tensors

/// The record of one forward pass, for reverse-mode automatic differentiation.
///
/// A tape is created per step and passed implicitly through the `Variable`s it produces. Each differentiable
/// op appends one node: the indices of its inputs and a closure computing the inputs' gradients from the
/// output's gradient (the backward rule, written next to the forward in the op's file). Nodes are appended in
/// execution order, so that order is a topological order; `gradients(of:)` walks it backwards once.
///
/// - **No-grad evaluation**: `Tape(recording: false)` records nothing — no nodes, no closures, no saved
///   tensors — so inference (the pseudo-label pass, kNN features) costs only the forward kernels. The mode is
///   a value of the tape, never global state.
/// - **Kernels**: the tape carries the `Kernels` (backend choice) every op uses.
/// - **Randomness**: `generator` is the explicit source of dropout masks for this pass; seed it per step
///   (for example `Xoshiro256(seed: seed, epoch, iteration)`) for reproducible, resumable runs.
public final class Tape {
    /// Whether ops record backward nodes.
    public let isRecording: Bool
    /// Backends for the heavy kernels.
    public let kernels: Kernels
    /// Source of randomness for ops that need it (dropout).
    public var generator: Xoshiro256

    /// One recorded op: which nodes fed it and how to push its gradient back to them.
    struct Node {
        let inputs: [Int]
        let shape: [Int]
        /// `nil` for leaves (inputs that require gradients, parameters), and for every node once a sweep that
        /// does not retain the graph has run it (which releases the values it saved).
        var backward: ((KernelTensor) -> [KernelTensor?])?
    }

    private(set) var nodes: [Node] = []
    /// Set by a sweep that released the saved values; a second sweep would be wrong and is refused.
    private var released = false
    /// Leaf node of each parameter used on this tape (so using one parameter twice shares one gradient).
    private(set) var parameterNodes: [ObjectIdentifier: Int] = [:]
    /// Keeps the parameters alive so the identifiers above stay unique.
    private var parameterObjects: [Parameter] = []

    /// A tape; `recording: false` gives no-grad evaluation.
    public init(recording: Bool = true, kernels: Kernels = .reference, generator: Xoshiro256 = Xoshiro256(seed: 0)) {
        self.isRecording = recording
        self.kernels = kernels
        self.generator = generator
    }

    /// Number of recorded nodes (0 for a no-grad tape).
    public var nodeCount: Int { nodes.count }

    /// A value that does not require a gradient (input images, targets).
    public func constant(_ value: Tensor) -> Variable { Variable(data: .dense(value), tape: self, id: nil) }

    /// A leaf that requires a gradient (recorded only when the tape records).
    public func variable(_ value: Tensor) -> Variable {
        guard isRecording else { return constant(value) }
        nodes.append(Node(inputs: [], shape: value.shape, backward: nil))
        return Variable(data: .dense(value), tape: self, id: nodes.count - 1)
    }

    /// The leaf for a trainable parameter's current value; the same node every time it is used on this tape.
    public func variable(for parameter: Parameter) -> Variable {
        guard isRecording else { return constant(parameter.value) }
        let key = ObjectIdentifier(parameter)
        if let id = parameterNodes[key] {
            return Variable(data: .dense(parameter.value), tape: self, id: id)
        }
        let v = variable(parameter.value)
        parameterNodes[key] = v.id
        parameterObjects.append(parameter)
        return v
    }

    /// Records an op: `value` computed from `inputs`, with `backward` mapping the output gradient to one
    /// gradient per input (`nil` = zero). Records nothing, and drops `backward`, when the tape does not record
    /// or no input requires a gradient.
    public func record(_ value: KernelTensor, inputs: [Variable],
                       backward: @escaping (KernelTensor) -> [KernelTensor?]) -> Variable {
        guard isRecording, inputs.contains(where: { $0.id != nil }) else {
            return Variable(data: value, tape: self, id: nil)
        }
        for v in inputs {
            precondition(v.tape === self, "Tape.record: an input belongs to another tape")
        }
        nodes.append(Node(inputs: inputs.map { $0.id ?? -1 }, shape: value.shape, backward: backward))
        return Variable(data: value, tape: self, id: nodes.count - 1)
    }

    /// Whether the op about to be recorded needs its backward (so ops can skip saving state otherwise).
    public func needsGradient(_ inputs: Variable...) -> Bool {
        isRecording && inputs.contains { $0.id != nil }
    }

    /// Reverse-mode sweep from `root` (a scalar, or any shape with an explicit `seed` of that shape).
    ///
    /// Visits the recorded nodes from `root` back to the first, in reverse recording order (deterministic);
    /// each node's gradient is complete when it is visited because every consumer was recorded after it.
    /// Gradients of a node used several times are summed (`+=`). Intermediate gradients are released as soon
    /// as they have been propagated; leaf gradients are kept in the result. Inputs that do not influence the
    /// root get zero gradients.
    ///
    /// Unless `retainingGraph` is true, each node's backward rule — and with it the activations, masks and
    /// parameter values it saved — is released as soon as it has run (PyTorch's `retain_graph=False`). This
    /// lowers the peak memory of the sweep, and it lets an optimiser update parameters in place right after the
    /// sweep (no saved reference to a parameter's storage is left, so copy-on-write does not copy it). Such a
    /// tape cannot be swept again.
    ///
    /// `parameterReady`, when given, is called during the sweep for each parameter used on this tape as soon as
    /// its gradient is complete — parameters last used in the forward pass first — with that gradient, or nil
    /// when the parameter does not influence the root. Data-parallel training starts a parameter bucket's
    /// gradient reduction from it while the rest of the sweep still runs. A leaf's gradient is complete when
    /// the sweep reaches its node: every consumer was recorded after it and has run.
    public func gradients(of root: Variable, seed: Tensor? = nil, retainingGraph: Bool = false,
                          parameterReady: ((Parameter, Tensor?) -> Void)? = nil) -> Gradients {
        precondition(root.tape === self, "Tape.gradients: the root belongs to another tape")
        precondition(!released, "Tape.gradients: this tape was already swept without retainingGraph: true")
        if !retainingGraph { released = true }
        guard let rootID = root.id else {
            return Gradients(grads: [], parameterNodes: parameterNodes)
        }
        if let seed { precondition(seed.shape == root.shape, "Tape.gradients: seed \(seed.shape) vs root \(root.shape)") }
        else { precondition(root.shape.reduce(1, *) == 1, "Tape.gradients: root of shape \(root.shape) needs a seed") }
        var grads = [KernelTensor?](repeating: nil, count: rootID + 1)
        grads[rootID] = .dense(seed ?? Tensor(shape: root.shape, repeating: 1))
        var parameterAt: [Int: Parameter] = [:]
        if parameterReady != nil {
            for p in parameterObjects { parameterAt[parameterNodes[ObjectIdentifier(p)]!] = p }
            // Parameters recorded after the root cannot influence it.
            for (id, p) in parameterAt.sorted(by: { $0.key > $1.key }) where id > rootID { parameterReady!(p, nil) }
        }
        for i in stride(from: rootID, through: 0, by: -1) {
            if let ready = parameterReady, let p = parameterAt[i] { ready(p, grads[i]?.dense()) }
            guard let g = grads[i], let backward = nodes[i].backward else { continue }
            let inputGrads = backward(g)
            grads[i] = nil
            if !retainingGraph { nodes[i].backward = nil }
            let inputs = nodes[i].inputs
            precondition(inputGrads.count == inputs.count,
                         "Tape: backward returned \(inputGrads.count) gradients for \(inputs.count) inputs")
            for (k, j) in inputs.enumerated() where j >= 0 {
                guard let gk = inputGrads[k] else { continue }
                precondition(gk.shape == nodes[j].shape,
                             "Tape: gradient of shape \(gk.shape) for an input of shape \(nodes[j].shape)")
                if let existing = grads[j] {
                    grads[j] = nil  // release our reference so the sum can reuse the storage
                    grads[j] = kernels.run { $0.add(existing, gk) }
                } else {
                    grads[j] = gk
                }
            }
        }
        if !retainingGraph {  // nodes the sweep did not reach (no path to the root) release theirs too
            for i in nodes.indices { nodes[i].backward = nil }
        }
        return Gradients(grads: grads, parameterNodes: parameterNodes)
    }
}
