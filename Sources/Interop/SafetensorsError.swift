/// What can go wrong reading or using a safetensors file; each case carries the path (or tensor name) and the
/// offending values.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    /// The file is shorter than the 8-byte header length plus the header it announces.
    case truncatedHeader(path: String, headerLength: UInt64, fileSize: Int)
    /// The announced header is larger than the 100 MB the format allows.
    case headerTooLarge(path: String, headerLength: UInt64)
    /// The header is not a JSON object (with the parser's reason).
    case invalidHeader(path: String, reason: String)
    /// A tensor uses a dtype SelfLabel does not read (supported: F32 F64 I64 I32 U8 BOOL).
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// A tensor entry lacks `dtype`, `shape` or `data_offsets`, or has values of the wrong kind.
    case invalidEntry(path: String, tensor: String, reason: String)
    /// `data_offsets` span a different number of bytes than shape × dtype size.
    case sizeMismatch(path: String, tensor: String, shape: [Int], dtype: String, begin: Int, end: Int)
    /// Tensors do not tile the data buffer exactly (a gap or an overlap at byte `begin`, expected `expected`).
    case notContiguous(path: String, tensor: String, begin: Int, expected: Int)
    /// The data buffer is longer or shorter than the tensors need.
    case dataLengthMismatch(path: String, dataBytes: Int, coveredBytes: Int)
    /// `__metadata__` is not a map from strings to strings.
    case invalidMetadata(path: String, key: String)
    /// Two tensors share a name (when writing).
    case duplicateName(String)
    /// The name `__metadata__` is reserved.
    case reservedName(String)
    /// A typed accessor was used on a tensor of another dtype.
    case wrongDType(tensor: String, expected: [SafetensorsDType], actual: SafetensorsDType)
    /// A tensor that should exist is missing.
    case missingTensor(path: String, name: String)

    /// One line for users, naming the offending values.
    public var description: String {
        switch self {
        case let .truncatedHeader(p, h, s): "'\(p)': truncated safetensors file: header of \(h) bytes announced, file has \(s) bytes"
        case let .headerTooLarge(p, h): "'\(p)': safetensors header length \(h) exceeds the 100 MB limit"
        case let .invalidHeader(p, r): "'\(p)': invalid safetensors header: \(r)"
        case let .unsupportedDType(p, t, d):
            "'\(p)': tensor '\(t)' has dtype \(d) (supported: \(SafetensorsDType.allCases.map(\.rawValue).joined(separator: " ")))"
        case let .invalidEntry(p, t, r): "'\(p)': tensor '\(t)': \(r)"
        case let .sizeMismatch(p, t, s, d, b, e):
            "'\(p)': tensor '\(t)' of shape \(s) and dtype \(d) has data_offsets [\(b), \(e)] (\(e - b) bytes)"
        case let .notContiguous(p, t, b, e): "'\(p)': tensor '\(t)' starts at byte \(b), expected \(e) (gap or overlap)"
        case let .dataLengthMismatch(p, d, c): "'\(p)': data buffer has \(d) bytes but the tensors cover \(c)"
        case let .invalidMetadata(p, k): "'\(p)': __metadata__ entry '\(k)' is not a string"
        case let .duplicateName(n): "tensor name '\(n)' occurs twice"
        case let .reservedName(n): "tensor name '\(n)' is reserved"
        case let .wrongDType(t, e, a):
            "tensor '\(t)' has dtype \(a.rawValue) where \(e.map(\.rawValue).joined(separator: " or ")) is expected"
        case let .missingTensor(p, n): "'\(p)': no tensor named '\(n)'"
        }
    }
}
