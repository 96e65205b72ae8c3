#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors from reading or writing files, carrying the path and the system's reason.
public struct FileIOError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var operation: String
    public var reason: String
    public init(path: String, operation: String, reason: String) {
        self.path = path; self.operation = operation; self.reason = reason
    }
    public init(path: String, operation: String, errno code: Int32) {
        self.init(path: path, operation: operation, reason: String(cString: strerror(code)))
    }
    public var description: String { "cannot \(operation) '\(path)': \(reason)" }
}

/// Writes a file atomically: the bytes go to a temporary file in the same folder, are flushed to disk with
/// `fsync`, and the temporary file is renamed over the destination. A crash leaves either the old file or the
/// new one, never half a file; on error the temporary file is removed and the error names the destination.
public enum AtomicFile {
    /// Writes `chunks` in order to `path` atomically.
    public static func write(to path: String, chunks: [UnsafeRawBufferPointer]) throws {
        let tmp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError(path: tmp, operation: "create", errno: errno) }
        var ok = false
        defer {
            if !ok { close(fd); unlink(tmp) }
        }
        for (i, chunk) in chunks.enumerated() {
            guard i == 0 else { try writeAll(fd, chunk, path: path); continue }
            // The first chunk in two halves, with the testing knob's pause between them (half a file).
            let half = chunk.count / 2
            try writeAll(fd, UnsafeRawBufferPointer(rebasing: chunk[..<half]), path: path)
            DebugPause.at("write", path)
            try writeAll(fd, UnsafeRawBufferPointer(rebasing: chunk[half...]), path: path)
        }
        guard fsync(fd) == 0 else { throw FileIOError(path: path, operation: "fsync", errno: errno) }
        guard close(fd) == 0 else { throw FileIOError(path: path, operation: "close", errno: errno) }
        ok = true
        guard rename(tmp, path) == 0 else {
            let code = errno
            unlink(tmp)
            throw FileIOError(path: path, operation: "rename into place", errno: code)
        }
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(to path: String, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write(to: path, chunks: [$0]) }
    }

    /// Writes a UTF-8 string to `path` atomically.
    public static func write(to path: String, text: String) throws {
        try write(to: path, bytes: Array(text.utf8))
    }
}

/// Writes every byte of `bytes` to `fd`, retrying short writes and EINTR; errors name `path`.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    var done = 0
    while done < bytes.count {
        let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 {
            if errno == EINTR { continue }
            throw FileIOError(path: path, operation: "write", errno: errno)
        }
        done += n
    }
}

/// A read-only private memory mapping of a whole file (pages are loaded on demand, nothing is copied).
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// First byte (nil for an empty file).
    public let bytes: UnsafeMutableRawPointer?
    public let count: Int

    /// Maps `path` copy-on-write (writes through the mapping never reach the file).
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileIOError(path: path, operation: "stat", errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw FileIOError(path: path, operation: "read", reason: "not a regular file")
        }
        count = Int(st.st_size)
        if count == 0 { bytes = nil; return }
        let p = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw FileIOError(path: path, operation: "mmap", errno: errno) }
        bytes = p
    }

    deinit {
        if let bytes { munmap(bytes, count) }
    }
}
