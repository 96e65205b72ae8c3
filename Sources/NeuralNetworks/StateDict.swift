import Autograd
import Tensors

/// An ordered list of (name, tensor) pairs: every parameter and buffer of a layer, in PyTorch `state_dict`
/// order and with its keys. Checkpoint writers (safetensors, `.pth`) consume and produce this.
///
/// `num_batches_tracked` (an int64 in PyTorch) is held as a float32 scalar of shape []; it is exact up to 2²⁴
/// steps. Writers that need PyTorch's dtype convert it.
public typealias StateDict = [(name: String, tensor: Tensor)]

/// Why a state dict could not be loaded.
public enum StateDictError: Error, Equatable, CustomStringConvertible {
    /// The model has this key but the state dict does not.
    case missingKey(String)
    /// The state dict has a key the model does not.
    case unexpectedKey(String)
    /// The same key with a different shape.
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    /// A NaN or infinite value (a diverged or corrupt checkpoint): the first one found.
    case nonFinite(key: String, index: Int, value: Float)

    public var description: String {
        switch self {
        case .missingKey(let k): return "state dict: missing key '\(k)'"
        case .unexpectedKey(let k): return "state dict: unexpected key '\(k)'"
        case .shapeMismatch(let k, let e, let f): return "state dict: '\(k)' has shape \(f), the model expects \(e)"
        case .nonFinite(let k, let i, let v):
            return "state dict: '\(k)' holds a non-finite value (\(v) at flat index \(i)); refusing a diverged or corrupt model"
        }
    }
}

extension Layer {
    /// Copies of the current parameters and buffers, in PyTorch order (values share storage copy-on-write).
    public func stateDict() -> StateDict {
        namedStateSlots().map { (name: $0.name, tensor: $0.parameter.value) }
    }

    /// Replaces parameters and buffers by those in `state`, after checking every key and shape (nothing is
    /// changed when a check fails). With `strict` (PyTorch's default) missing and unexpected keys are errors;
    /// otherwise they are skipped. A NaN or infinite value anywhere is an error naming the tensor: every load of
    /// weights (checkpoints, final weights, resumes, imports) goes through here.
    public func load(stateDict state: StateDict, strict: Bool = true) throws(StateDictError) {
        let slots = namedStateSlots()
        var given: [String: Tensor] = [:]
        for (name, t) in state { given[name] = t }
        let known = Set(slots.map(\.name))
        if strict {
            for (name, _) in state where !known.contains(name) { throw .unexpectedKey(name) }
        }
        var updates: [(Parameter, Tensor)] = []
        for slot in slots {
            guard let t = given[slot.name] else {
                if strict { throw .missingKey(slot.name) }
                continue
            }
            let expected = slot.parameter.value.shape
            guard t.shape == expected else { throw .shapeMismatch(key: slot.name, expected: expected, found: t.shape) }
            let dense = t.contiguous()
            let bad = dense.withUnsafeBufferPointer { b in b.firstIndex { !$0.isFinite }.map { ($0, b[$0]) } }
            if let (i, v) = bad { throw .nonFinite(key: slot.name, index: i, value: v) }
            updates.append((slot.parameter, dense))
        }
        for (p, t) in updates { p.value = t }
    }
}
