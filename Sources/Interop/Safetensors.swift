import Foundation

/// A safetensors file (Hugging Face's format): an ordered list of named tensors plus a string→string
/// `__metadata__` map.
///
/// Layout: 8-byte little-endian header length `n`; `n` bytes of UTF-8 JSON, an object mapping each tensor
/// name to `{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}` (offsets relative to the data
/// buffer) plus the optional `"__metadata__"`; the header is padded with spaces to a multiple of 8; then the
/// data buffer, which the tensors must tile exactly. Reading validates all of this as the reference Rust
/// implementation does. Writing keeps the entries' order (data in that order) and is atomic
/// (`AtomicFile`: temporary file, fsync, rename). Tensor order on reading is the order of the data offsets
/// (then name, for empty tensors), so a file we write reads back in the order it was written.
public struct SafetensorsArchive: Sendable, Equatable {
    /// The tensors, in file order.
    public var entries: [SafetensorsEntry]
    /// The `__metadata__` map (empty when absent).
    public var metadata: [String: String]

    /// The format's limit on the header size.
    public static let maximumHeaderLength: UInt64 = 100_000_000

    /// An archive of the given entries and metadata.
    public init(entries: [SafetensorsEntry] = [], metadata: [String: String] = [:]) {
        self.entries = entries
        self.metadata = metadata
    }

    /// The entry called `name`, if any.
    public subscript(name: String) -> SafetensorsEntry? { entries.first { $0.name == name } }

    /// The entry called `name`.
    /// - Throws: `SafetensorsError.missingTensor`.
    public func entry(_ name: String, path: String = "<archive>") throws -> SafetensorsEntry {
        guard let e = self[name] else { throw SafetensorsError.missingTensor(path: path, name: name) }
        return e
    }

    /// Reads and validates a safetensors file.
    /// - Throws: `FileIOError` for I/O problems, `SafetensorsError` for malformed content.
    public init(contentsOf path: String) throws {
        let file = try MappedFile(path: path)
        let bytes = file.bytes.map { UnsafeRawBufferPointer(start: $0, count: file.count) }
            ?? UnsafeRawBufferPointer(start: nil, count: 0)
        try self.init(bytes: bytes, path: path)
    }

    /// The `__metadata__` strings of the safetensors file at `path`, reading only its header (the tensors of a
    /// large checkpoint are never touched).
    public static func metadata(ofFile path: String) throws -> [String: String] {
        let file = try MappedFile(path: path)
        let bytes = file.bytes.map { UnsafeRawBufferPointer(start: $0, count: file.count) }
            ?? UnsafeRawBufferPointer(start: nil, count: 0)
        guard let map = try header(bytes: bytes, path: path).object["__metadata__"] else { return [:] }
        guard let strings = map as? [String: String] else {
            throw SafetensorsError.invalidHeader(path: path, reason: "__metadata__ is not an object of strings")
        }
        return strings
    }

    /// The header's JSON object and the offset where the tensor data starts.
    private static func header(bytes: UnsafeRawBufferPointer, path: String) throws -> (object: [String: Any], headerEnd: Int) {
        guard bytes.count >= 8 else { throw SafetensorsError.truncatedHeader(path: path, headerLength: 0, fileSize: bytes.count) }
        var length: UInt64 = 0
        for k in 0..<8 { length |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        guard length <= SafetensorsArchive.maximumHeaderLength else {
            throw SafetensorsError.headerTooLarge(path: path, headerLength: length)
        }
        guard UInt64(bytes.count) - 8 >= length else {
            throw SafetensorsError.truncatedHeader(path: path, headerLength: length, fileSize: bytes.count)
        }
        let headerEnd = 8 + Int(length)
        let headerBytes = Data(bytes[8..<headerEnd])
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw SafetensorsError.invalidHeader(path: path, reason: "does not start with '{'")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw SafetensorsError.invalidHeader(path: path, reason: "not valid JSON (\(error.localizedDescription))")
        }
        guard let object = json as? [String: Any] else {
            throw SafetensorsError.invalidHeader(path: path, reason: "not a JSON object")
        }
        return (object, headerEnd)
    }

    /// Parses a safetensors image held in memory (`path` only names it in errors).
    public init(bytes: UnsafeRawBufferPointer, path: String = "<memory>") throws {
        precondition(1.littleEndian == 1, "safetensors: big-endian hosts are not supported")
        let (object, headerEnd) = try Self.header(bytes: bytes, path: path)
        var metadata: [String: String] = [:]
        struct Raw { let name: String; let dtype: SafetensorsDType; let shape: [Int]; let begin: Int; let end: Int }
        var raws: [Raw] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else {
                    throw SafetensorsError.invalidHeader(path: path, reason: "__metadata__ is not an object")
                }
                for (k, v) in map {
                    guard let s = v as? String else { throw SafetensorsError.invalidMetadata(path: path, key: k) }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else {
                throw SafetensorsError.invalidEntry(path: path, tensor: name, reason: "entry is not an object")
            }
            guard let dtypeName = info["dtype"] as? String else {
                throw SafetensorsError.invalidEntry(path: path, tensor: name, reason: "missing or non-string 'dtype'")
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: dtypeName)
            }
            guard let shape = SafetensorsArchive.integers(info["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw SafetensorsError.invalidEntry(path: path, tensor: name, reason: "'shape' must be a list of non-negative integers")
            }
            guard let offsets = SafetensorsArchive.integers(info["data_offsets"]), offsets.count == 2,
                  offsets[0] >= 0, offsets[1] >= offsets[0] else {
                throw SafetensorsError.invalidEntry(path: path, tensor: name, reason: "'data_offsets' must be [begin, end] with 0 <= begin <= end")
            }
            var elements = 1
            for s in shape {
                let (p, o) = elements.multipliedReportingOverflow(by: s)
                guard !o else { throw SafetensorsError.invalidEntry(path: path, tensor: name, reason: "shape \(shape) overflows") }
                elements = p
            }
            let (bytesNeeded, o) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !o, offsets[1] - offsets[0] == bytesNeeded else {
                throw SafetensorsError.sizeMismatch(path: path, tensor: name, shape: shape, dtype: dtypeName,
                                                    begin: offsets[0], end: offsets[1])
            }
            raws.append(Raw(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }
        raws.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        let dataBytes = bytes.count - headerEnd
        var expected = 0
        var entries: [SafetensorsEntry] = []
        for r in raws {
            guard r.begin == expected else {
                throw SafetensorsError.notContiguous(path: path, tensor: r.name, begin: r.begin, expected: expected)
            }
            guard r.end <= dataBytes else {
                throw SafetensorsError.dataLengthMismatch(path: path, dataBytes: dataBytes, coveredBytes: r.end)
            }
            let data = Array(bytes[(headerEnd + r.begin)..<(headerEnd + r.end)])
            entries.append(SafetensorsEntry(name: r.name, dtype: r.dtype, shape: r.shape, data: data))
            expected = r.end
        }
        guard expected == dataBytes else {
            throw SafetensorsError.dataLengthMismatch(path: path, dataBytes: dataBytes, coveredBytes: expected)
        }
        self.init(entries: entries, metadata: metadata)
    }

    /// The file image: header length, space-padded JSON header (entries in order, metadata first), data.
    /// - Throws: `SafetensorsError.duplicateName` / `.reservedName`.
    public func serialized() throws -> [UInt8] {
        precondition(1.littleEndian == 1, "safetensors: big-endian hosts are not supported")
        var seen = Set<String>()
        for e in entries {
            if e.name == "__metadata__" { throw SafetensorsError.reservedName(e.name) }
            if !seen.insert(e.name).inserted { throw SafetensorsError.duplicateName(e.name) }
        }
        var parts: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(JSONText.string($0)):\(JSONText.string(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        var offset = 0
        for e in entries {
            let shape = e.shape.map(String.init).joined(separator: ",")
            parts.append("\(JSONText.string(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + e.data.count)]}")
            offset += e.data.count
        }
        var header = Array("{\(parts.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        let length = UInt64(header.count)
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(k)))) }
        out += header
        for e in entries { out += e.data }
        return out
    }

    /// Writes the archive to `path` atomically (temporary file in the same folder, fsync, rename).
    public func write(to path: String) throws {
        try AtomicFile.write(to: path, bytes: try serialized())
    }

    /// A JSON array of non-fractional numbers as Ints (nil otherwise).
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int] = []
        for v in array {
            if let n = v as? NSNumber {
                let d = n.doubleValue
                guard d == d.rounded(), abs(d) < 9.0e15 else { return nil }
                out.append(n.intValue)
            } else {
                return nil
            }
        }
        return out
    }
}
