import Tensors

/// Element types of safetensors tensors that SelfLabel reads and writes (the format's names).
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case float32 = "F32", float64 = "F64", int64 = "I64", int32 = "I32", uint8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: 4
        case .float64, .int64: 8
        case .uint8, .bool: 1
        }
    }
}

/// One named tensor of a safetensors file: dtype, shape and its raw little-endian bytes (row-major).
///
/// Float32 tensors convert to and from `Tensor`; the other dtypes (label matrices as I64, float64 solver
/// state, masks as BOOL) are kept as typed Swift arrays.
public struct SafetensorsEntry: Sendable, Equatable {
    /// The tensor's name (a PyTorch `state_dict` key, for example).
    public let name: String
    /// Element type.
    public let dtype: SafetensorsDType
    /// Extents, row-major; `[]` for a scalar.
    public let shape: [Int]
    /// `shape.product × dtype.size` bytes, little-endian.
    public let data: [UInt8]

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// An entry from raw bytes; `data.count` must equal `count × dtype.size` (programmer error otherwise).
    public init(name: String, dtype: SafetensorsDType, shape: [Int], data: [UInt8]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "SafetensorsEntry '\(name)': negative extent in \(shape)")
        precondition(data.count == shape.reduce(1, *) * dtype.size,
                     "SafetensorsEntry '\(name)': \(data.count) bytes for shape \(shape) of \(dtype.rawValue)")
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// A float32 entry holding `tensor`'s elements (row-major) and shape.
    public init(name: String, tensor: Tensor) {
        let bytes = tensor.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }
        self.init(name: name, dtype: .float32, shape: tensor.shape, data: bytes)
    }

    /// An I64 entry (for example a labels matrix of shape (heads, N)).
    public init(name: String, int64s values: [Int64], shape: [Int]) {
        self.init(name: name, dtype: .int64, shape: shape, data: SafetensorsEntry.bytes(of: values))
    }
    /// An I32 entry.
    public init(name: String, int32s values: [Int32], shape: [Int]) {
        self.init(name: name, dtype: .int32, shape: shape, data: SafetensorsEntry.bytes(of: values))
    }
    /// An F64 entry.
    public init(name: String, float64s values: [Double], shape: [Int]) {
        self.init(name: name, dtype: .float64, shape: shape, data: SafetensorsEntry.bytes(of: values))
    }
    /// A U8 entry.
    public init(name: String, uint8s values: [UInt8], shape: [Int]) {
        self.init(name: name, dtype: .uint8, shape: shape, data: values)
    }
    /// A BOOL entry (one byte per element, 0 or 1).
    public init(name: String, bools values: [Bool], shape: [Int]) {
        self.init(name: name, dtype: .bool, shape: shape, data: values.map { $0 ? 1 : 0 })
    }

    /// The F32 data as a contiguous `Tensor` of `shape`.
    /// - Throws: `SafetensorsError.wrongDType` for other dtypes.
    public func tensor() throws -> Tensor {
        try require(.float32)
        let values: [Float] = elements()
        return Tensor(shape: shape, scalars: values)
    }
    /// The I64 data (I32 is widened).
    public func int64s() throws -> [Int64] {
        if dtype == .int32 { return (elements() as [Int32]).map(Int64.init) }
        try require(.int64, .int32)
        return elements()
    }
    /// The I32 data.
    public func int32s() throws -> [Int32] { try require(.int32); return elements() }
    /// The F64 data (F32 is widened).
    public func float64s() throws -> [Double] {
        if dtype == .float32 { return (elements() as [Float]).map(Double.init) }
        try require(.float64, .float32)
        return elements()
    }
    /// The U8 data.
    public func uint8s() throws -> [UInt8] { try require(.uint8); return data }
    /// The BOOL data (any non-zero byte is true).
    public func bools() throws -> [Bool] { try require(.bool); return data.map { $0 != 0 } }

    private func require(_ allowed: SafetensorsDType...) throws {
        guard allowed.contains(dtype) else {
            throw SafetensorsError.wrongDType(tensor: name, expected: allowed, actual: dtype)
        }
    }

    /// Reinterprets the bytes (the host is little-endian: checked at load and write time).
    private func elements<T>() -> [T] {
        let n = data.count / MemoryLayout<T>.stride
        return [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            data.withUnsafeBytes { raw in
                if n > 0 { UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: raw.baseAddress!, byteCount: data.count) }
            }
            initialized = n
        }
    }

    private static func bytes<T>(of values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }
}
