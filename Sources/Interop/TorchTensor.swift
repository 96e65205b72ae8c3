import Tensors

/// The element types of PyTorch storages that `TorchFile` reads, by the storage class the pickle names.
public enum TorchDType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64, int64, int32, uint8, bool

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16: return 2
        case .uint8, .bool: return 1
        }
    }

    /// The legacy storage class name `torch.<name>` that PyTorch pickles for this type (`FloatStorage`, …).
    public var storageClassName: String {
        switch self {
        case .float32: return "FloatStorage"
        case .float16: return "HalfStorage"
        case .bfloat16: return "BFloat16Storage"
        case .float64: return "DoubleStorage"
        case .int64: return "LongStorage"
        case .int32: return "IntStorage"
        case .uint8: return "ByteStorage"
        case .bool: return "BoolStorage"
        }
    }

    /// The type whose storage class is `torch.<name>`, or nil.
    public init?(storageClassName name: String) {
        guard let t = TorchDType.allCases.first(where: { $0.storageClassName == name }) else { return nil }
        self = t
    }

    /// Whether the values are floating point.
    public var isFloatingPoint: Bool { [.float32, .float16, .bfloat16, .float64].contains(self) }
}

/// One storage: a flat little-endian byte buffer of `count` elements. Tensors that share a storage in the file
/// share this object.
public final class TorchStorage: @unchecked Sendable {
    public let dtype: TorchDType
    /// Number of elements.
    public let count: Int
    /// Raw bytes (count × dtype.size), little-endian. Empty only while a legacy-format file is still being
    /// read (its storages follow the pickle that references them).
    public private(set) var bytes: [UInt8]

    init(dtype: TorchDType, count: Int, bytes: [UInt8]) {
        precondition(bytes.count == count * dtype.size, "TorchStorage: \(bytes.count) bytes for \(count) × \(dtype.size)")
        self.dtype = dtype
        self.count = count
        self.bytes = bytes
    }

    /// A storage whose bytes `fill(_:)` provides later (legacy format).
    init(dtype: TorchDType, pendingCount count: Int) {
        self.dtype = dtype
        self.count = count
        self.bytes = []
    }

    /// Whether the bytes are present.
    var isFilled: Bool { bytes.count == count * dtype.size }

    /// Sets the bytes of a pending storage.
    func fill(_ data: [UInt8]) {
        precondition(data.count == count * dtype.size, "TorchStorage.fill: \(data.count) bytes for \(count) × \(dtype.size)")
        bytes = data
    }

    /// Element `i` converted to Double (exact for every type except int64 beyond 2^53).
    @inline(__always)
    func double(at i: Int) -> Double {
        bytes.withUnsafeBytes { b -> Double in
            let p = b.baseAddress! + i * dtype.size
            switch dtype {
            case .float32: return Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))))
            case .float64: return Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
            case .float16: return Double(Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))))
            case .bfloat16:
                return Double(Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))) << 16))
            case .int64: return Double(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
            case .int32: return Double(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
            case .uint8: return Double(p.load(as: UInt8.self))
            case .bool: return p.load(as: UInt8.self) != 0 ? 1 : 0
            }
        }
    }

    /// Element `i` as an integer (floating types are truncated toward zero).
    @inline(__always)
    func int64(at i: Int) -> Int64 {
        switch dtype {
        case .int64:
            return bytes.withUnsafeBytes { Int64(littleEndian: ($0.baseAddress! + i * 8).loadUnaligned(as: Int64.self)) }
        default: return Int64(double(at: i))
        }
    }
}

/// A tensor as `torch._utils._rebuild_tensor_v2` describes it: a view (`shape`, `strides` and `offset`, in
/// elements) of a storage. Strided (non-contiguous) views and views sharing a storage are kept as such; the
/// accessors gather the elements in row-major order.
public struct TorchTensor: @unchecked Sendable {
    public let storage: TorchStorage
    public let offset: Int
    public let shape: [Int]
    public let strides: [Int]

    /// Checks that every element of the view lies inside the storage (overflow-safe); `path` names the file in
    /// the error.
    init(storage: TorchStorage, offset: Int, shape: [Int], strides: [Int], path: String) throws(TorchFileError) {
        try Self.checkView(storageCount: storage.count, offset: offset, shape: shape, strides: strides, path: path)
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.strides = strides
    }

    /// Throws unless the view lies inside a storage of `storageCount` elements.
    static func checkView(storageCount: Int, offset: Int, shape: [Int], strides: [Int], path: String) throws(TorchFileError) {
        guard shape.count == strides.count else {
            throw .malformed(path: path, reason: "tensor with shape \(shape) has strides \(strides)")
        }
        guard offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw .malformed(path: path, reason: "tensor with negative offset, extent or stride (\(offset), \(shape), \(strides))")
        }
        var elements = 1, last = offset
        for (n, s) in zip(shape, strides) {
            let (e, o1) = elements.multipliedReportingOverflow(by: n)
            guard !o1 else { throw .malformed(path: path, reason: "tensor shape \(shape) overflows") }
            elements = e
            if n > 0 {
                let (step, o2) = (n - 1).multipliedReportingOverflow(by: s)
                let (sum, o3) = last.addingReportingOverflow(step)
                guard !o2, !o3 else { throw .malformed(path: path, reason: "tensor strides \(strides) overflow") }
                last = sum
            }
        }
        guard elements == 0 || last < storageCount else {
            throw .malformed(path: path, reason: "tensor view (offset \(offset), shape \(shape), strides \(strides)) reaches element \(last) of a \(storageCount)-element storage")
        }
    }

    public var dtype: TorchDType { storage.dtype }
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Storage index of each element in row-major order.
    func forEachIndex(_ body: (Int) -> Void) {
        Tensor.forEachStorageIndex(shape: shape, strides: strides, offset: offset, body)
    }

    /// The elements as Float, row-major (float16/bfloat16/float64 and integers converted).
    public func floats() -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(count)
        if dtype == .float32 {
            storage.bytes.withUnsafeBytes { b in
                forEachIndex { out.append(Float(bitPattern: UInt32(littleEndian: (b.baseAddress! + $0 * 4).loadUnaligned(as: UInt32.self)))) }
            }
        } else {
            forEachIndex { out.append(Float(storage.double(at: $0))) }
        }
        return out
    }

    /// The elements as Int64, row-major (floating types truncated toward zero).
    public func int64s() -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(count)
        forEachIndex { out.append(storage.int64(at: $0)) }
        return out
    }

    /// A contiguous float32 `Tensor` of the same shape.
    public func tensor() -> Tensor { Tensor(shape: shape, scalars: floats()) }
}
