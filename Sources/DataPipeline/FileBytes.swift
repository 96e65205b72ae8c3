#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads with plain POSIX calls (no Foundation on the hot path of the loader).
public enum FileBytes {
    /// The contents of the file at `path`. Throws `DataPipelineError.cannotOpen` naming the path.
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw DataPipelineError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            throw DataPipelineError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw DataPipelineError.cannotOpen(path: path, reason: "is a folder") }
        var size = Int(st.st_size)
        var bytes = [UInt8](repeating: 0, count: max(size, 0))
        var done = 0
        while true {
            if done == bytes.count {
                // Size unknown or file grew: read on in chunks until end of file.
                bytes.append(contentsOf: [UInt8](repeating: 0, count: max(65_536, bytes.count)))
            }
            let n = bytes.withUnsafeMutableBytes { buf in posixRead(fd, buf.baseAddress! + done, buf.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DataPipelineError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            done += n
        }
        size = done
        bytes.removeSubrange(size...)
        return bytes
    }

    /// True when `path` exists and is a regular file.
    public static func isFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// The (device, inode) pair of `path` after following links, or nil when it cannot be read: the identity of a
    /// folder, so a scan can tell that two paths (a link and its target) are the same folder.
    public static func identity(_ path: String) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// True when `path` exists and is a folder.
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}

/// A file's identity on this machine: its device and inode numbers.
public struct FileIdentity: Hashable, Sendable {
    /// `st_dev`.
    public var device: UInt64
    /// `st_ino`.
    public var inode: UInt64
}

/// `read(2)` under a name that does not clash with `FileBytes.read`.
@inline(__always)
private func posixRead(_ fd: Int32, _ buf: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buf, count)
}
