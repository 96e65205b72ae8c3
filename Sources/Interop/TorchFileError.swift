/// Why a PyTorch file (`torch.save` output, zip or legacy format) could not be read or written.
///
/// Every case names the file; the CLI prints `description` as one line.
public enum TorchFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The bytes do not form a valid file of the expected kind (truncated, inconsistent sizes, bad opcode…).
    case malformed(path: String, reason: String)
    /// The pickle names a global that the restricted unpickler does not allow (nothing is executed), like
    /// PyTorch's `torch.load(..., weights_only=True)`.
    case refusedGlobal(path: String, module: String, name: String)
    /// A valid construct this reader does not handle (an old tar-format file, an unknown storage type…).
    case unsupported(path: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let p, let r): return "\(p): not a readable PyTorch file: \(r)"
        case .refusedGlobal(let p, let m, let n):
            return "\(p): refused to load global '\(m).\(n)': only tensors, storages and plain containers are allowed (no code is run)"
        case .unsupported(let p, let r): return "\(p): unsupported PyTorch file: \(r)"
        }
    }
}

/// A bounds-checked little-endian cursor over bytes: every read checks the remaining length first, so a
/// truncated or lying file gives `TorchFileError.malformed`, never an out-of-bounds access.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let path: String
    let what: String

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0, path: String, what: String) {
        self.bytes = bytes
        self.position = position
        self.path = path
        self.what = what
    }

    var remaining: Int { bytes.count - position }
    var atEnd: Bool { position >= bytes.count }

    func fail(_ reason: String) -> TorchFileError { .malformed(path: path, reason: "\(what): \(reason)") }

    /// Checks that `count` more bytes exist (count must be non-negative).
    func need(_ count: Int) throws(TorchFileError) {
        guard count >= 0, count <= remaining else {
            throw fail("needs \(count) bytes at offset \(position), only \(max(remaining, 0)) left (truncated?)")
        }
    }

    mutating func u8() throws(TorchFileError) -> UInt8 {
        try need(1)
        defer { position += 1 }
        return bytes[position]
    }

    mutating func littleEndian<T: FixedWidthInteger>(_: T.Type) throws(TorchFileError) -> T {
        let n = MemoryLayout<T>.size
        try need(n)
        var v: T = 0
        for i in 0..<n { v |= T(truncatingIfNeeded: bytes[position + i]) << (8 * i) }
        position += n
        return v
    }

    mutating func bigEndian<T: FixedWidthInteger>(_: T.Type) throws(TorchFileError) -> T {
        let n = MemoryLayout<T>.size
        try need(n)
        var v: T = 0
        for i in 0..<n { v = (v << 8) | T(truncatingIfNeeded: bytes[position + i]) }
        position += n
        return v
    }

    /// The next `count` bytes as a slice of the underlying buffer (no copy).
    mutating func take(_ count: Int) throws(TorchFileError) -> UnsafeRawBufferPointer {
        try need(count)
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    /// A length read from the file, as `Int`, checked to fit in the remaining bytes.
    mutating func length<T: FixedWidthInteger>(_ raw: T, unit: Int = 1) throws(TorchFileError) -> Int {
        guard raw >= 0, let n = Int(exactly: raw) else { throw fail("length \(raw) is out of range") }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: unit)
        guard !overflow, bytes <= remaining else {
            throw fail("length \(raw) × \(unit) bytes exceeds the \(max(remaining, 0)) bytes left (truncated?)")
        }
        return n
    }

    /// The bytes up to (not including) the next newline, which is consumed.
    mutating func line() throws(TorchFileError) -> String {
        var end = position
        while end < bytes.count && bytes[end] != 0x0A { end += 1 }
        guard end < bytes.count else { throw fail("unterminated text line at offset \(position)") }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self)
        position = end + 1
        return s
    }
}
