#if canImport(Glibc)
import Glibc
#endif

/// A float32 `.npy` of shape (N, K) or (H, N, K) laid out at its usual addresses, but with only the rows
/// `rows` of every head mapped from the file: the rest of the address range is reserved and unreadable
/// (`PROT_NONE`), so a reader that strays outside its rows faults at once instead of silently paging in
/// another process's share. For one rank of a distributed job (`selflabel label` under MPI), which reads
/// only its own rows.
///
/// The mappings are private and read-only in use (`MappedFile`'s flags), so
/// `SinkhornOptions.releaseFileBackedScores` may return their pages.
public final class NpyRowMapping: @unchecked Sendable {
    /// Every element of the array, at its row-major index; only the mapped rows may be read.
    public let floats: UnsafeBufferPointer<Float>
    private let reservation: UnsafeMutableRawPointer
    private let reservedBytes: Int

    /// Maps rows `rows` of every head of `array` (float32, rank 2 or 3) from its file.
    public init(_ array: NpyArray, rows: Range<Int>) throws {
        try array.require(dtype: .float32)
        try array.require(rank: 2, 3)
        let s = array.shape
        let (h, n, k) = s.count == 3 ? (s[0], s[1], s[2]) : (1, s[0], s[1])
        precondition(rows.lowerBound >= 0 && rows.upperBound <= n, "NpyRowMapping: rows \(rows) of \(n)")
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let head = array.dataOffset % page, firstPage = array.dataOffset - head
        reservedBytes = max(page, (head + array.byteCount + page - 1) / page * page)
        guard let r = mmap(nil, reservedBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              r != MAP_FAILED else {
            throw FileIOError(path: array.path, operation: "reserve address space for", errno: errno)
        }
        reservation = r
        floats = UnsafeBufferPointer(start: (r + head).assumingMemoryBound(to: Float.self), count: array.count)
        guard !rows.isEmpty else { return }
        let fd = open(array.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            munmap(r, reservedBytes)
            throw FileIOError(path: array.path, operation: "open", errno: errno)
        }
        defer { close(fd) }
        for hh in 0..<h {
            // File bytes [start, end) of these rows, widened to whole pages, placed at the same offset from
            // the reservation as from the data's first page.
            let start = array.dataOffset + (hh * n + rows.lowerBound) * k * 4
            let end = array.dataOffset + (hh * n + rows.upperBound) * k * 4
            let from = start / page * page, to = (end + page - 1) / page * page
            let at = r + (from - firstPage)
            let length = min(to - from, reservedBytes - (from - firstPage))
            guard let m = mmap(at, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, off_t(from)),
                  m != MAP_FAILED else {
                let e = errno
                munmap(r, reservedBytes)
                throw FileIOError(path: array.path, operation: "mmap rows \(rows) of", errno: e)
            }
        }
    }

    deinit { munmap(reservation, reservedBytes) }
}
