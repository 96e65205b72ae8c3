import Foundation
import Interop
import TestSupport
import Testing

/// `.npy` headers crafted so that the element count or byte count overflows `Int`: typed errors, never a trap.
@Suite struct NpyCraftedHeaderTests {
    /// A version-1.0 `.npy` with the given header dictionary and `dataBytes` zero bytes of data.
    static func file(_ dict: String, dataBytes: Int) throws -> String {
        var header = Array(dict.utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        let bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
            + header + [UInt8](repeating: 0, count: dataBytes)
        let path = try temporaryFolder("crafted") + "/crafted.npy"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("shapes whose byte count overflows Int", arguments: [
        "(4611686018427387904, 4)", "(9223372036854775807, 2)", "(3037000500, 3037000500)", "(2305843009213693952,)",
    ])
    func overflowingShape(shape: String) throws {
        let path = try Self.file("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }", dataBytes: 16)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect { try NpyArray(contentsOf: path) } throws: { e in
            guard let e = e as? NpyError else { return false }
            switch e {
            case .shapeOverflow(let p, _, let available): return p == path && available == 16
            case .truncated(let p, _, let available): return p == path && available == 16
            default: return false
            }
        }
    }

    @Test("a zero extent with a huge one is an empty array, not an overflow")
    func zeroTimesHuge() throws {
        let path = try Self.file("{'descr': '<i8', 'fortran_order': False, 'shape': (0, 4611686018427387904), }", dataBytes: 0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let a = try NpyArray(contentsOf: path)
        #expect(a.count == 0 && a.byteCount == 0)
    }
}
