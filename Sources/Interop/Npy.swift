import Tensors

/// Element types SelfLabel reads and writes in NumPy `.npy` files (little-endian, C order).
public enum NpyDType: String, Sendable, CaseIterable {
    case float32 = "<f4", float64 = "<f8", int64 = "<i8", int32 = "<i4", uint8 = "|u1", bool = "|b1"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: 4
        case .float64, .int64: 8
        case .uint8, .bool: 1
        }
    }
}

/// What can go wrong reading a `.npy` file; each case carries the path and the offending header text or sizes.
public enum NpyError: Error, CustomStringConvertible, Equatable {
    case notNpy(path: String)
    case unsupportedVersion(path: String, major: Int, minor: Int)
    case malformedHeader(path: String, header: String)
    case fortranOrder(path: String, header: String)
    case bigEndian(path: String, header: String)
    case objectArray(path: String, header: String)
    case unsupportedDType(path: String, descr: String, header: String)
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    /// A header whose shape multiplies out past what any file (or `Int`) can hold.
    case shapeOverflow(path: String, shape: [Int], actualBytes: Int)
    case wrongDType(path: String, expected: [NpyDType], actual: NpyDType)
    case wrongRank(path: String, expected: [Int], shape: [Int])

    public var description: String {
        switch self {
        case let .notNpy(p): "'\(p)' is not a NumPy .npy file (missing the \\x93NUMPY magic)"
        case let .unsupportedVersion(p, a, b): "'\(p)': .npy format version \(a).\(b) is not supported (1.0-3.0 are)"
        case let .malformedHeader(p, h): "'\(p)': malformed .npy header: \(h)"
        case let .fortranOrder(p, h): "'\(p)': Fortran-order arrays are not supported (save with C order): \(h)"
        case let .bigEndian(p, h): "'\(p)': big-endian arrays are not supported: \(h)"
        case let .objectArray(p, h): "'\(p)': object arrays are not supported: \(h)"
        case let .unsupportedDType(p, d, _):
            "'\(p)': dtype '\(d)' is not supported (supported: \(NpyDType.allCases.map(\.rawValue).joined(separator: " ")))"
        case let .truncated(p, e, a): "'\(p)': truncated .npy file: data needs \(e) bytes, file has \(a)"
        case let .shapeOverflow(p, s, a):
            "'\(p)': the header's shape \(s) needs more bytes than can be addressed; the file has \(a) bytes of data"
        case let .wrongDType(p, e, a):
            "'\(p)': dtype \(a.rawValue) where \(e.map(\.rawValue).joined(separator: " or ")) is expected"
        case let .wrongRank(p, e, s):
            "'\(p)': array of shape \(s) where rank \(e.map(String.init).joined(separator: " or ")) is expected"
        }
    }
}

/// A NumPy `.npy` array read from disk by memory-mapping the file: the data is never copied on load, and
/// `tensor()` of a float32 file shares the mapped pages (copy-on-write).
///
/// Supports format versions 1.0, 2.0 and 3.0, little-endian `<f4 <f8 <i8 <i4 |u1 |b1`, C order — the formats
/// `numpy.save` writes for those dtypes.
public final class NpyArray: @unchecked Sendable {
    public let path: String
    public let dtype: NpyDType
    public let shape: [Int]
    /// The header dictionary text, as found in the file.
    public let header: String
    private let file: MappedFile
    /// Byte offset of the first element in the file.
    let dataOffset: Int

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Bytes of element data.
    public var byteCount: Int { count * dtype.size }

    /// Memory-maps and validates `path`.
    public init(contentsOf path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        self.path = path
        guard file.count >= 10, let b = file.bytes else { throw NpyError.notNpy(path: path) }
        let u = b.assumingMemoryBound(to: UInt8.self)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard (0..<6).allSatisfy({ u[$0] == magic[$0] }) else { throw NpyError.notNpy(path: path) }
        let major = Int(u[6]), minor = Int(u[7])
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(u[8]) | Int(u[9]) << 8
            headerStart = 10
        case 2, 3:
            guard file.count >= 12 else { throw NpyError.notNpy(path: path) }
            headerLength = Int(u[8]) | Int(u[9]) << 8 | Int(u[10]) << 16 | Int(u[11]) << 24
            headerStart = 12
        default:
            throw NpyError.unsupportedVersion(path: path, major: major, minor: minor)
        }
        guard minor == 0 else { throw NpyError.unsupportedVersion(path: path, major: major, minor: minor) }
        guard headerStart + headerLength <= file.count else {
            throw NpyError.truncated(path: path, expectedBytes: headerStart + headerLength, actualBytes: file.count)
        }
        let text = String(decoding: UnsafeBufferPointer(start: u + headerStart, count: headerLength), as: UTF8.self)
        header = text.trimmingTrailingWhitespace()
        let parsed = try NpyHeader.parse(header, path: path)
        dtype = parsed.dtype
        shape = parsed.shape
        dataOffset = headerStart + headerLength
        // Overflow-safe: a crafted shape such as (4611686018427387904, 4) must be an error, not a trap.
        let available = file.count - dataOffset
        var needed = dtype.size
        for d in shape {
            let (n, overflow) = needed.multipliedReportingOverflow(by: d)
            if overflow { throw NpyError.shapeOverflow(path: path, shape: shape, actualBytes: available) }
            needed = n
        }
        guard needed <= available else {
            throw NpyError.truncated(path: path, expectedBytes: needed, actualBytes: available)
        }
    }

    /// The element bytes (read-only view of the mapping; valid while `self` is alive).
    public func withUnsafeRawData<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) {
            try body(UnsafeRawBufferPointer(start: file.bytes.map { $0 + dataOffset }, count: byteCount))
        }
    }

    /// Requires the dtype to be one of `allowed`.
    public func require(dtype allowed: NpyDType...) throws {
        guard allowed.contains(dtype) else { throw NpyError.wrongDType(path: path, expected: allowed, actual: dtype) }
    }

    /// Requires the rank to be one of `ranks`.
    public func require(rank ranks: Int...) throws {
        guard ranks.contains(shape.count) else { throw NpyError.wrongRank(path: path, expected: ranks, shape: shape) }
    }

    /// The array as a float32 tensor. A `<f4` file is shared with the mapping (no copy; the mapping stays
    /// alive as long as the tensor's storage); other dtypes are converted.
    public func tensor() -> Tensor {
        if dtype == .float32, count > 0, let b = file.bytes,
           (Int(bitPattern: b) + dataOffset) % MemoryLayout<Float>.alignment == 0 {
            let p = (b + dataOffset).assumingMemoryBound(to: Float.self)
            let keep = self
            let storage = TensorStorage(adopting: p, count: count) { _, _ in withExtendedLifetime(keep) {} }
            return Tensor(storage: storage, shape: shape)
        }
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { out in
            withUnsafeRawData { raw in
                for i in 0..<count { out[i] = Float(element(raw, i)) }
            }
        }
        return t
    }

    /// The elements converted to Double.
    public func doubles() -> [Double] {
        withUnsafeRawData { raw in (0..<count).map { element(raw, $0) } }
    }

    /// The elements as Int64. Floating-point values must be integral.
    public func int64s() throws -> [Int64] {
        try withUnsafeRawData { raw in
            switch dtype {
            case .int64: return Array(raw.bindMemory(to: Int64.self))
            case .int32: return raw.bindMemory(to: Int32.self).map(Int64.init)
            case .uint8, .bool: return raw.bindMemory(to: UInt8.self).map(Int64.init)
            case .float32, .float64:
                throw NpyError.wrongDType(path: path, expected: [.int64, .int32, .uint8, .bool], actual: dtype)
            }
        }
    }

    private func element(_ raw: UnsafeRawBufferPointer, _ i: Int) -> Double {
        switch dtype {
        case .float32: Double(raw.load(fromByteOffset: i * 4, as: Float.self))
        case .float64: raw.load(fromByteOffset: i * 8, as: Double.self)
        case .int64: Double(raw.load(fromByteOffset: i * 8, as: Int64.self))
        case .int32: Double(raw.load(fromByteOffset: i * 4, as: Int32.self))
        case .uint8, .bool: Double(raw.load(fromByteOffset: i, as: UInt8.self))
        }
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\n" || last == "\0" { s = s.dropLast() }
        return String(s)
    }
}
