import Foundation
import Interop
import Tensors
import TestSupport
import Testing

/// Path of a committed fixture written by `Fixtures/npy/make_npy_fixtures.py`.
private func fixture(_ name: String) -> String {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures/npy/\(name)").path
}

/// NumPy's `np.arange(n) - 3` as Doubles, the base of every valid fixture.
private func arange(_ n: Int) -> [Double] { (0..<n).map { Double($0 - 3) } }

private func temporaryPath(_ name: String) throws -> String { try temporaryFolder("npy") + "/" + name }

@Suite struct NpyReadingTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var file: String, dtype: NpyDType, shape: [Int], values: [Double]
        var testDescription: String { file }
    }

    static let cases: [Case] = [
        Case(file: "f4_2x3.npy", dtype: .float32, shape: [2, 3], values: arange(6).map { $0 * 0.5 }),
        Case(file: "f8_4.npy", dtype: .float64, shape: [4], values: arange(4).map { $0 / 3 }),
        Case(file: "i8_3x2.npy", dtype: .int64, shape: [3, 2], values: arange(6).map { $0 * 1_000_000_007 }),
        Case(file: "i4_5.npy", dtype: .int32, shape: [5], values: arange(5)),
        Case(file: "u1_2x2x2.npy", dtype: .uint8, shape: [2, 2, 2], values: (0..<8).map { Double($0 * 30) }),
        Case(file: "b1_3.npy", dtype: .bool, shape: [3], values: [1, 0, 1]),
        Case(file: "f4_scalar.npy", dtype: .float32, shape: [], values: [7.25]),
        Case(file: "f4_empty_0x3.npy", dtype: .float32, shape: [0, 3], values: []),
        Case(file: "f4_v2_2x2.npy", dtype: .float32, shape: [2, 2], values: arange(4)),
        Case(file: "f4_v3_3.npy", dtype: .float32, shape: [3], values: arange(3)),
    ]

    @Test(arguments: cases)
    func readsNumPyFile(_ c: Case) throws {
        let a = try NpyArray(contentsOf: fixture(c.file))
        #expect(a.dtype == c.dtype)
        #expect(a.shape == c.shape)
        #expect(a.doubles() == c.values)
        let t = a.tensor()
        #expect(t.shape == c.shape)
        #expect(t.scalars == c.values.map { Float($0) })
    }

    @Test func int64sOfIntegerFile() throws {
        let a = try NpyArray(contentsOf: fixture("i8_3x2.npy"))
        #expect(try a.int64s() == arange(6).map { Int64($0) * 1_000_000_007 })
        #expect(throws: NpyError.self) { try NpyArray(contentsOf: fixture("f8_4.npy")).int64s() }
    }

    @Test func float32TensorSharesTheMapping() throws {
        let a = try NpyArray(contentsOf: fixture("f4_2x3.npy"))
        var t = a.tensor()
        let before = t.storage.base
        a.withUnsafeRawData { raw in #expect(UnsafeRawPointer(before) == raw.baseAddress) }
        // Writing goes to a private copy-on-write page or a copy, never to the file.
        t[0, 0] = 99
        let again = try NpyArray(contentsOf: fixture("f4_2x3.npy")).tensor()
        #expect(again[0, 0] == -1.5)
    }
}

@Suite struct NpyErrorTests {
    @Test func fortranOrder() {
        #expect { try NpyArray(contentsOf: fixture("bad_fortran.npy")) } throws: { e in
            if case let .fortranOrder(_, header)? = e as? NpyError { return header.contains("'fortran_order': True") }
            return false
        }
    }

    @Test func bigEndian() {
        #expect { try NpyArray(contentsOf: fixture("bad_bigendian.npy")) } throws: { e in
            if case let .bigEndian(_, header)? = e as? NpyError { return header.contains(">f4") }
            return false
        }
    }

    @Test func objectArray() {
        #expect { try NpyArray(contentsOf: fixture("bad_object.npy")) } throws: { e in
            if case .objectArray? = e as? NpyError { return true }
            return false
        }
    }

    @Test func unsupportedDType() {
        #expect { try NpyArray(contentsOf: fixture("bad_complex.npy")) } throws: { e in
            if case let .unsupportedDType(_, descr, _)? = e as? NpyError { return descr == "<c8" }
            return false
        }
    }

    @Test func truncated() {
        #expect { try NpyArray(contentsOf: fixture("bad_truncated.npy")) } throws: { e in
            if case let .truncated(_, expected, actual)? = e as? NpyError { return expected == 24 && actual == 19 }
            return false
        }
    }

    @Test func notNpy() {
        #expect { try NpyArray(contentsOf: fixture("bad_magic.npy")) } throws: { e in
            if case .notNpy? = e as? NpyError { return true }
            return false
        }
    }

    @Test func missingFile() {
        #expect { try NpyArray(contentsOf: "/nonexistent/x.npy") } throws: { e in
            (e as? FileIOError)?.path == "/nonexistent/x.npy"
        }
    }

    @Test func requirements() throws {
        let a = try NpyArray(contentsOf: fixture("i4_5.npy"))
        #expect(throws: NpyError.wrongDType(path: a.path, expected: [.float32], actual: .int32)) {
            try a.require(dtype: .float32)
        }
        #expect(throws: NpyError.wrongRank(path: a.path, expected: [2, 3], shape: [5])) { try a.require(rank: 2, 3) }
    }
}

@Suite struct NpyWritingTests {
    @Test func roundTripEveryDType() throws {
        let p = try temporaryPath("x.npy")
        let t = Tensor(shape: [2, 3, 4], generator: { Float($0) * 0.25 - 1 })
        try Npy.write(t, to: p)
        #expect(try NpyArray(contentsOf: p).tensor().scalars == t.scalars)

        try Npy.write([1.5, -2, 1e300], shape: [3, 1], to: p)
        var a = try NpyArray(contentsOf: p)
        #expect(a.dtype == .float64 && a.shape == [3, 1] && a.doubles() == [1.5, -2, 1e300])

        try Npy.write([Int64.min, 0, Int64.max, 5], shape: [2, 2], to: p)
        a = try NpyArray(contentsOf: p)
        #expect(a.dtype == .int64 && a.shape == [2, 2])
        #expect(try a.int64s() == [Int64.min, 0, Int64.max, 5])

        try Npy.write([Int32(-7), 8], shape: [2], to: p)
        a = try NpyArray(contentsOf: p)
        #expect(a.dtype == .int32)
        #expect(try a.int64s() == [-7, 8])

        try Npy.write([UInt8(0), 255, 3], shape: [3], to: p)
        a = try NpyArray(contentsOf: p)
        #expect(a.dtype == .uint8)
        #expect(try a.int64s() == [0, 255, 3])

        try Npy.write([UInt8(1), 0], shape: [2], asBool: true, to: p)
        a = try NpyArray(contentsOf: p)
        #expect(a.dtype == .bool)
        #expect(try a.int64s() == [1, 0])

        try Npy.write(Tensor(scalar: 3), to: p)
        a = try NpyArray(contentsOf: p)
        #expect(a.shape == [] && a.doubles() == [3])

        try Npy.write(Tensor.zeros([0, 5]), to: p)
        a = try NpyArray(contentsOf: p)
        #expect(a.shape == [0, 5] && a.count == 0)
    }

    @Test func headerIsAlignedAndMatchesNumPy() throws {
        // NumPy writes exactly this header for a (2, 3) float32 array (compare the committed fixture).
        let p = try temporaryPath("y.npy")
        try Npy.write(Tensor(shape: [2, 3], generator: { (Float($0) - 3) * 0.5 }), to: p)
        let ours = try Data(contentsOf: URL(fileURLWithPath: p))
        let numpy = try Data(contentsOf: URL(fileURLWithPath: fixture("f4_2x3.npy")))
        #expect(ours == numpy)
    }

    @Test func failedWriteLeavesNothing() {
        #expect(throws: FileIOError.self) { try Npy.write(Tensor.zeros([2]), to: "/nonexistent-dir/z.npy") }
    }
}
