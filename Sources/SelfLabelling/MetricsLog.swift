import Foundation
import Interop

/// Appends one JSON object per line to `<exp>/metrics.jsonl` (flushed after every record, so a crash loses
/// at most the line being written). Keys keep the order given.
public final class MetricsLog {
    private let handle: FileHandle
    public let path: String

    /// Opens (creating if needed) `path` for appending.
    public init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        self.path = path
    }

    deinit { try? handle.close() }

    /// Writes one record.
    public func write(_ fields: KeyValuePairs<String, Any>) { write(record: fields.map { ($0.key, $0.value) }) }

    /// Writes one record from ordered fields.
    public func write(record fields: [(String, Any)]) {
        handle.write(Data((MetricsLog.encode(fields) + "\n").utf8))
    }

    /// One JSON object from ordered fields: String, Bool, integers, Double/Float (non-finite → null), arrays.
    public static func encode(_ fields: [(String, Any)]) -> String {
        "{" + fields.map { "\(value($0.0)): \(value($0.1))" }.joined(separator: ", ") + "}"
    }

    static func value(_ v: Any) -> String {
        switch v {
        case let s as String: return JSONText.string(s)
        case let b as Bool: return b ? "true" : "false"
        case let i as Int: return String(i)
        case let i as Int64: return String(i)
        case let i as UInt64: return String(i)
        case let d as Double: return d.isFinite ? "\(d)" : "null"
        case let f as Float: return f.isFinite ? "\(f)" : "null"
        case let a as [Any]: return "[" + a.map(value).joined(separator: ", ") + "]"
        case let o as [(String, Any)]: return encode(o)
        default: return value(String(describing: v))
        }
    }
}
