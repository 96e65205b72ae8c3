import Foundation
import Interop
#if canImport(Glibc)
import Glibc
#endif

/// A writable shared memory mapping of a new file (the pseudo-label pass's spill: features or one head's scores
/// when RAM is short). The file is created in `folder` and unlinked at once, so its disk space is given back when
/// the mapping closes, also after a crash; pages are written back by the kernel and can be dropped from memory
/// with `release` (`MADV_DONTNEED`: a shared file mapping re-reads them from the file).
final class SpillFile: @unchecked Sendable {
    /// First byte of the mapping.
    let bytes: UnsafeMutableRawPointer
    /// Length in bytes.
    let count: Int
    /// Where the (unlinked) file was created.
    let path: String

    /// Maps a new file of `count` bytes (zeros) in `folder`; throws `FileIOError` naming it.
    init(folder: String, name: String, count: Int) throws {
        let path = (folder as NSString).appendingPathComponent(name + ".spill-\(getpid())")
        self.path = path
        self.count = count
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileIOError(path: path, operation: "create", errno: errno) }
        defer { close(fd) }
        unlink(path)
        guard ftruncate(fd, off_t(max(count, 1))) == 0 else {
            throw FileIOError(path: path, operation: "size to \(count) bytes", errno: errno)
        }
        let p = mmap(nil, max(count, 1), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { throw FileIOError(path: path, operation: "mmap", errno: errno) }
        bytes = p
    }

    /// Drops the whole pages inside `[offset, offset + length)` from memory (they stay in the file).
    func release(offset: Int, length: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (offset + page - 1) / page * page, end = min(count, offset + length) / page * page
        if end > start { _ = madvise(bytes + start, end - start, Int32(MADV_DONTNEED)) }
    }

    deinit { munmap(bytes, max(count, 1)) }

    /// Free bytes for an unprivileged user on the file system holding `folder` (nil where unknown).
    static func freeDiskBytes(folder: String) -> Int? {
        var s = statvfs()
        guard statvfs(folder, &s) == 0 else { return nil }
        return Int(s.f_bavail) * Int(s.f_frsize)
    }
}
