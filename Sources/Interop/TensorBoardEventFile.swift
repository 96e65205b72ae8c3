#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors reading TensorBoard event files (TFRecord framing or Event decoding), with the byte offset.
public enum TensorBoardError: Error, Equatable, CustomStringConvertible {
    /// The file ends inside a record.
    case truncatedRecord(path: String, offset: Int)
    /// The masked CRC-32C of the length field does not match.
    case lengthChecksumMismatch(path: String, offset: Int, stored: UInt32, computed: UInt32)
    /// The masked CRC-32C of the record data does not match.
    case dataChecksumMismatch(path: String, offset: Int, stored: UInt32, computed: UInt32)
    /// The record's data is not a valid Event protobuf.
    case malformedEvent(path: String, offset: Int, reason: String)

    /// One line for users, naming the offending values.
    public var description: String {
        switch self {
        case let .truncatedRecord(p, o): "'\(p)': event file ends inside the record at byte \(o)"
        case let .lengthChecksumMismatch(p, o, s, c):
            "'\(p)': record at byte \(o): length checksum \(String(s, radix: 16)) != computed \(String(c, radix: 16))"
        case let .dataChecksumMismatch(p, o, s, c):
            "'\(p)': record at byte \(o): data checksum \(String(s, radix: 16)) != computed \(String(c, radix: 16))"
        case let .malformedEvent(p, o, r): "'\(p)': record at byte \(o) is not an Event: \(r)"
        }
    }
}

/// TFRecord framing: each record is `uint64 length (LE) · uint32 masked CRC-32C of those 8 bytes ·
/// data · uint32 masked CRC-32C of data` (tensorflow/core/lib/io/record_writer.cc).
public enum TFRecord {
    /// The framed record for `data`.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 16)
        let length = UInt64(data.count)
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(k)))) }
        let lengthCRC = out.withUnsafeBytes { CRC32C.maskedChecksum($0) }
        for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: lengthCRC >> (8 * UInt32(k)))) }
        out += data
        let dataCRC = data.withUnsafeBytes { CRC32C.maskedChecksum($0) }
        for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: dataCRC >> (8 * UInt32(k)))) }
        return out
    }

    /// Splits a byte image into records, verifying both checksums of each.
    /// - Returns: each record's data and the byte offset where its frame starts.
    /// - Throws: `TensorBoardError.truncatedRecord` / `.lengthChecksumMismatch` / `.dataChecksumMismatch`.
    public static func records(in bytes: [UInt8], path: String = "<memory>") throws -> [(offset: Int, data: [UInt8])] {
        var out: [(Int, [UInt8])] = []
        var at = 0
        func u32(_ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[i + $1]) << (8 * UInt32($1)) } }
        while at < bytes.count {
            guard bytes.count - at >= 12 else { throw TensorBoardError.truncatedRecord(path: path, offset: at) }
            let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
            let computed = bytes[at..<(at + 8)].withUnsafeBytes { CRC32C.maskedChecksum($0) }
            let stored = u32(at + 8)
            guard computed == stored else {
                throw TensorBoardError.lengthChecksumMismatch(path: path, offset: at, stored: stored, computed: computed)
            }
            guard UInt64(bytes.count - at - 12) >= length, UInt64(bytes.count - at - 12) - length >= 4 else {
                throw TensorBoardError.truncatedRecord(path: path, offset: at)
            }
            let n = Int(length)
            let data = Array(bytes[(at + 12)..<(at + 12 + n)])
            let dataComputed = data.withUnsafeBytes { CRC32C.maskedChecksum($0) }
            let dataStored = u32(at + 12 + n)
            guard dataComputed == dataStored else {
                throw TensorBoardError.dataChecksumMismatch(path: path, offset: at, stored: dataStored, computed: dataComputed)
            }
            out.append((at, data))
            at += 16 + n
        }
        return out
    }
}

/// Reads every event of a TensorBoard event file.
public enum TensorBoardEventReader {
    /// The events of the file at `path`, in order, checksums verified.
    /// - Throws: `FileIOError`, `TensorBoardError`.
    public static func read(path: String) throws -> [TensorBoardEvent] {
        let file = try MappedFile(path: path)
        let bytes = file.bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: file.count)) } ?? []
        return try events(in: bytes, path: path)
    }

    /// The events of an in-memory event file image.
    public static func events(in bytes: [UInt8], path: String = "<memory>") throws -> [TensorBoardEvent] {
        try TFRecord.records(in: bytes, path: path).map { record in
            do {
                return try TensorBoardEvent(decoding: record.data)
            } catch let e as ProtobufWire.DecodingError {
                throw TensorBoardError.malformedEvent(path: path, offset: record.offset, reason: e.description)
            }
        }
    }
}

/// Writes a TensorBoard event file the way TensorFlow's `EventFileWriter` does: a file named
/// `events.out.tfevents.<unix seconds>.<hostname>` in `directory` (created if missing), starting with an
/// event whose `file_version` is "brain.Event:2", then one event per call, each a TFRecord.
///
/// Each event is written with one `write(2)` call as soon as it is added (so TensorBoard sees it while the
/// run goes on, and a crash loses at most the event being written); `flush()` also fsyncs. Not thread-safe:
/// use it from one thread.
public final class TensorBoardEventWriter {
    /// The file being written.
    public let path: String
    private var fd: Int32

    /// The `file_version` of TensorFlow 1.x/2.x event files.
    public static let fileVersion = "brain.Event:2"

    /// Creates the folder (with parents) and the event file, and writes the version event.
    /// - Parameters:
    ///   - wallTime: the creation time used in the name and first event (default: now).
    ///   - hostname: the host part of the name (default: `gethostname`).
    /// - Throws: `FileIOError`.
    public init(directory: String, wallTime: Double? = nil, hostname: String? = nil) throws {
        try TensorBoardEventWriter.makeDirectories(directory)
        let now = wallTime ?? TensorBoardEventWriter.now()
        let host = hostname ?? TensorBoardEventWriter.hostName()
        let base = directory + "/events.out.tfevents.\(Int(now)).\(host)"
        var candidate = base
        var fd: Int32 = -1
        var k = 0
        while true {
            fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 { break }
            if errno != EEXIST { throw FileIOError(path: candidate, operation: "create", errno: errno) }
            k += 1
            candidate = base + ".\(k)"
        }
        self.fd = fd
        path = candidate
        try write(TensorBoardEvent(wallTime: now, fileVersion: TensorBoardEventWriter.fileVersion))
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    /// Appends one scalar summary (`add_scalar(tag, value, step)`).
    public func addScalar(_ tag: String, _ value: Float, step: Int, wallTime: Double? = nil) throws {
        try addScalars([(tag, value)], step: step, wallTime: wallTime)
    }

    /// Appends one event holding several scalars at the same step.
    public func addScalars(_ values: [(tag: String, value: Float)], step: Int, wallTime: Double? = nil) throws {
        try write(TensorBoardEvent(wallTime: wallTime ?? TensorBoardEventWriter.now(), step: Int64(step),
                                   values: values.map { .init(tag: $0.tag, simpleValue: $0.value) }))
    }

    /// Appends an arbitrary event.
    public func write(_ event: TensorBoardEvent) throws {
        precondition(fd >= 0, "TensorBoardEventWriter: write after close (\(path))")
        let record = TFRecord.frame(event.encoded())
        try record.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    /// Forces written events to disk (`fsync`).
    public func flush() throws {
        guard fd >= 0 else { return }
        guard fsync(fd) == 0 else { throw FileIOError(path: path, operation: "fsync", errno: errno) }
    }

    /// Flushes and closes the file; later writes are programmer errors.
    public func close() throws {
        guard fd >= 0 else { return }
        try flush()
        let result = Glibc.close(fd)
        fd = -1
        guard result == 0 else { throw FileIOError(path: path, operation: "close", errno: errno) }
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    private static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw FileIOError(path: prefix, operation: "create folder", errno: errno)
            }
        }
    }
}
