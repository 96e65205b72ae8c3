#if canImport(Glibc)
import Glibc
#endif

/// A `.npy` file written in parts (for arrays too large to hold at once, such as heads × N × K scores produced one
/// head at a time): the header first, then each part at its element offset, and `finish()` makes the file
/// appear atomically (temporary file, `fsync`, rename, as `AtomicFile`). Without `finish()` the temporary file is
/// removed and nothing appears.
public final class NpyFileWriter {
    public let path: String
    private let temporary: String
    private var fd: Int32
    private let dataOffset: Int
    private let dtype: NpyDType

    /// Starts `path` for an array of `dtype` and `shape`.
    public init(path: String, dtype: NpyDType, shape: [Int]) throws {
        self.path = path
        self.dtype = dtype
        temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError(path: temporary, operation: "create", errno: errno) }
        let header = NpyHeader.encode(dtype: dtype, shape: shape)
        dataOffset = header.count
        try header.withUnsafeBytes { try write($0, at: 0) }
        guard ftruncate(fd, off_t(header.count + shape.reduce(1, *) * dtype.size)) == 0 else {
            throw FileIOError(path: path, operation: "size", errno: errno)
        }
    }

    /// Writes `bytes` (whole elements) starting at element `element`.
    public func write(_ bytes: UnsafeRawBufferPointer, atElement element: Int) throws {
        try write(bytes, at: dataOffset + element * dtype.size)
    }

    private func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(path: path, operation: "write", errno: errno)
            }
            done += n
        }
    }

    /// Flushes the file and renames it into place.
    public func finish() throws {
        guard fsync(fd) == 0 else { throw FileIOError(path: path, operation: "fsync", errno: errno) }
        guard close(fd) == 0 else { fd = -1; throw FileIOError(path: path, operation: "close", errno: errno) }
        fd = -1
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw FileIOError(path: path, operation: "rename into place", errno: code)
        }
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(temporary)
        }
    }
}
