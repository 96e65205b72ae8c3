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
        handle.write(Data((JSONText.object(fields) + "\n").utf8))
    }
}
