/// A value read from a PyTorch pickle by the restricted unpickler: plain Python data, containers and tensors.
/// Nothing else can be represented, so nothing else can be constructed.
public indirect enum TorchValue: @unchecked Sendable {
    case none
    case bool(Bool)
    /// A Python int that fits in 64 bits.
    case int(Int64)
    /// A Python int too large for 64 bits: little-endian two's-complement bytes, as pickle's LONG1/LONG4 hold them.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([TorchValue])
    case tuple([TorchValue])
    /// A dict or `collections.OrderedDict`, in insertion order.
    case dict([(key: TorchValue, value: TorchValue)])
    case tensor(TorchTensor)

    /// The string, when this is one.
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    /// The integer, when this is one (bools are not integers here).
    public var int: Int64? { if case .int(let v) = self { return v }; return nil }
    /// The tensor, when this is one.
    public var tensor: TorchTensor? { if case .tensor(let t) = self { return t }; return nil }
    /// The key/value pairs, when this is a dict.
    public var dictItems: [(key: TorchValue, value: TorchValue)]? { if case .dict(let d) = self { return d }; return nil }

    /// The value under string key `key`, when this is a dict that has it.
    public subscript(key: String) -> TorchValue? {
        dictItems?.first { $0.key.string == key }?.value
    }

    /// A short description of the kind of value, for reports ("tensor float32 [64, 3, 7, 7]", "dict(3)", …).
    public var summary: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let v): return "\(v)"
        case .bigInt(let b): return "int(\(b.count) bytes)"
        case .float(let v): return "\(v)"
        case .string(let s): return "'\(s)'"
        case .bytes(let b): return "bytes(\(b.count))"
        case .list(let l): return "list(\(l.count))"
        case .tuple(let t): return "tuple(\(t.count))"
        case .dict(let d): return "dict(\(d.count))"
        case .tensor(let t): return "tensor \(t.dtype.rawValue) \(t.shape)"
        }
    }
}
