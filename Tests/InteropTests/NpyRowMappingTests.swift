import Foundation
import Interop
import TestSupport
import Testing

/// `NpyRowMapping`: the mapped rows read the file's values at their usual indices; the other rows' pages
/// cannot be read.
@Suite struct NpyRowMappingTests {
    /// Whether the kernel can read `count` bytes at `p` (a write from that address into a pipe fails with EFAULT
    /// instead of faulting the process when it cannot).
    static func readable(_ p: UnsafeRawPointer, count: Int) -> Bool {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return false }
        defer { close(fds[0]); close(fds[1]) }
        return Glibc.write(fds[1], p, count) == count
    }

    @Test("the given rows of each of 3 heads (8 KB rows: whole pages), at their row-major indices",
          arguments: [(1500..<2600), (0..<1), (4095..<4096), (0..<4096), (7..<7)])
    func mappedRows(rows: Range<Int>) throws {
        let (h, n, k) = (3, 4096, 2048)  // 8 KB per row: whole pages between rows
        let values = (0..<(h * n * k)).map { Float($0 % 1_000_003) }
        let path = try temporaryFolder("npyrows") + "/scores.npy"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try values.withUnsafeBytes { try Npy.write(raw: $0, dtype: .float32, shape: [h, n, k], to: path) }
        let mapping = try NpyRowMapping(try NpyArray(contentsOf: path), rows: rows)
        let f = mapping.floats
        #expect(f.count == h * n * k)
        for head in 0..<h {
            for row in [rows.lowerBound, (rows.lowerBound + rows.upperBound) / 2, rows.upperBound - 1]
            where rows.contains(row) {
                for col in [0, 1, k - 1] {
                    let i = (head * n + row) * k + col
                    #expect(f[i] == values[i], "head \(head) row \(row) col \(col)")
                }
            }
            // Two pages before the first row and two after the last are outside the mapping.
            let before = (head * n + rows.lowerBound) * k - 2048, after = (head * n + rows.upperBound) * k + 2048
            if rows.lowerBound >= 2 { #expect(!Self.readable(f.baseAddress! + before, count: 4)) }
            if rows.upperBound + 2 <= n { #expect(!Self.readable(f.baseAddress! + after, count: 4)) }
            if !rows.isEmpty { #expect(Self.readable(f.baseAddress! + (head * n + rows.lowerBound) * k, count: 4)) }
        }
    }

    @Test("a float64 file is refused with the dtype error")
    func wrongDType() throws {
        let path = try temporaryFolder("npyrows") + "/f8.npy"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try Npy.write([1.0, 2, 3, 4] as [Double], shape: [2, 2], to: path)
        #expect(throws: NpyError.self) { _ = try NpyRowMapping(try NpyArray(contentsOf: path), rows: 0..<1) }
    }
}
