import Foundation
import Interop
import Tensors
import TestSupport
import Testing

/// Path of a committed fixture in `Fixtures/safetensors/` (see `safetensors_make_fixtures.py` there).
private func safetensorsFixture(_ name: String) -> String {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures/safetensors/\(name)").path
}

/// A file image from a header text and data bytes (header length computed, no padding).
private func image(_ header: String, _ data: [UInt8]) -> [UInt8] {
    let h = Array(header.utf8)
    var out: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(h.count) >> (8 * UInt64($0))) }
    out += h
    out += data
    return out
}

private func parse(_ bytes: [UInt8]) throws -> SafetensorsArchive {
    try bytes.withUnsafeBytes { try SafetensorsArchive(bytes: $0, path: "mem") }
}

/// The archive the Swift writer must turn into `safetensors_swift_written.safetensors`, byte for byte.
private let swiftWritten = SafetensorsArchive(entries: [
    SafetensorsEntry(name: "weight", tensor: Tensor(shape: [2, 3], scalars: (0..<6).map { Float($0) - 2.5 })),
    SafetensorsEntry(name: "labels", int64s: [-1, 0, 1, 2, 3, 4], shape: [2, 3]),
    SafetensorsEntry(name: "mask", bools: [true, false], shape: [2]),
    SafetensorsEntry(name: "scalar", tensor: Tensor(scalar: -1.25)),
], metadata: ["epoch": "3", "quote \"and\" newline\n": "ü"])

@Suite struct SafetensorsTests {
    @Test func readsFileWrittenByPythonSafetensors() throws {
        let a = try SafetensorsArchive(contentsOf: safetensorsFixture("safetensors_python_written.safetensors"))
        #expect(a.metadata["format"] == "pt")
        #expect(a.metadata["note"]?.hasPrefix("written by safetensors") == true)
        #expect(Set(a.entries.map(\.name)) == ["conv1.weight", "stats.f64", "labels", "counts.i32", "pixels", "mask", "scalar", "empty"])
        let w = try a.entry("conv1.weight").tensor()
        #expect(w.shape == [2, 3, 4] && w.scalars == (0..<24).map { Float($0) / 8 - 1 })
        #expect(try a.entry("stats.f64").float64s() == [0.1, -2.5, 1e300, 3.0])
        let labels = try a.entry("labels")
        #expect(labels.dtype == .int64 && labels.shape == [2, 5])
        #expect(try labels.int64s() == (0..<10).map { Int64($0) * 1_000_000_007 - 3 })
        #expect(try a.entry("counts.i32").int32s() == [-7, 0, Int32.max])
        #expect(try a.entry("pixels").uint8s() == [0, 1, 255] && a["pixels"]?.shape == [1, 3])
        #expect(try a.entry("mask").bools() == [true, false, true, true])
        let s = try a.entry("scalar").tensor()
        #expect(s.shape == [] && s.scalar == 2.5)
        #expect(try a.entry("empty").tensor().shape == [0, 3])
        #expect(throws: SafetensorsError.wrongDType(tensor: "labels", expected: [.float32], actual: .int64)) {
            try labels.tensor()
        }
    }

    @Test func writerOutputIsStableAndReadableByTheReference() throws {
        // The committed file was checked with the Python `safetensors` loader (safetensors_make_fixtures.py).
        let bytes = try swiftWritten.serialized()
        let path = safetensorsFixture("safetensors_swift_written.safetensors")
        let committed = try? Array(Data(contentsOf: URL(fileURLWithPath: path)))
        if committed != bytes {
            let out = try temporaryFolder("safetensors") + "/safetensors_swift_written.safetensors"
            try swiftWritten.write(to: out)
            Issue.record("writer output differs from the committed fixture; new output at \(out)")
        }
        let header = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(header % 8 == 0, "header padded to a multiple of 8, got \(header)")
    }

    @Test func roundTripThroughAFile() throws {
        let dir = try temporaryFolder("safetensors")
        let path = dir + "/model.safetensors"
        var entries: [SafetensorsEntry] = []
        // Non-contiguous (transposed) tensor: written in logical row-major order.
        let t = Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0) * 0.25 }).transposed()
        entries.append(SafetensorsEntry(name: "transposed", tensor: t))
        entries.append(SafetensorsEntry(name: "f64", float64s: [.pi, -0.0, .infinity], shape: [3]))
        entries.append(SafetensorsEntry(name: "i32", int32s: [1, -2], shape: [1, 2]))
        entries.append(SafetensorsEntry(name: "u8", uint8s: [9], shape: [1]))
        entries.append(SafetensorsEntry(name: "empty", tensor: Tensor.zeros([0])))
        entries.append(SafetensorsEntry(name: "z-last", int64s: [Int64.min, Int64.max], shape: [2]))
        let archive = SafetensorsArchive(entries: entries, metadata: ["k": "v"])
        try archive.write(to: path)
        let back = try SafetensorsArchive(contentsOf: path)
        #expect(back == archive, "entries and order survive a round trip")
        #expect(try back.entry("transposed").tensor().scalars == t.scalars)
        #expect(try back.entry("transposed").tensor().shape == [4, 3])
        // Overwriting is atomic: no temporary files left behind.
        try SafetensorsArchive(entries: [entries[1]]).write(to: path)
        #expect(try SafetensorsArchive(contentsOf: path).entries.map(\.name) == ["f64"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["model.safetensors"])
    }

    @Test func stateDictConvenience() throws {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), b = Tensor([5, 6, 7])
        let archive = SafetensorsArchive(tensors: [("layer.weight", a), ("layer.bias", b)], metadata: ["arch": "x"])
        let back = try archive.serialized().withUnsafeBytes { try SafetensorsArchive(bytes: $0) }.tensors()
        #expect(back.map(\.name) == ["layer.weight", "layer.bias"])
        #expect(back[0].tensor.shape == [2, 2] && back[0].tensor.scalars == [1, 2, 3, 4] && back[1].tensor.scalars == [5, 6, 7])
        let mixed = SafetensorsArchive(entries: [SafetensorsEntry(name: "n", int64s: [1], shape: [1])])
        #expect(throws: SafetensorsError.wrongDType(tensor: "n", expected: [.float32], actual: .int64)) { try mixed.tensors() }
    }

    @Test func writerRejectsDuplicateAndReservedNames() {
        let e = SafetensorsEntry(name: "a", uint8s: [1], shape: [1])
        #expect(throws: SafetensorsError.duplicateName("a")) { try SafetensorsArchive(entries: [e, e]).serialized() }
        let m = SafetensorsEntry(name: "__metadata__", uint8s: [1], shape: [1])
        #expect(throws: SafetensorsError.reservedName("__metadata__")) { try SafetensorsArchive(entries: [m]).serialized() }
    }

    struct Malformed: CustomTestStringConvertible, Sendable {
        let name: String, bytes: [UInt8], error: SafetensorsError
        var testDescription: String { name }
    }

    static let malformed: [Malformed] = [
        Malformed(name: "shorter than 8 bytes", bytes: [1, 0, 0],
                  error: .truncatedHeader(path: "mem", headerLength: 0, fileSize: 3)),
        Malformed(name: "header longer than file", bytes: [100, 0, 0, 0, 0, 0, 0, 0, 123, 125],
                  error: .truncatedHeader(path: "mem", headerLength: 100, fileSize: 10)),
        Malformed(name: "header over 100 MB", bytes: [0, 0, 0, 0, 1, 0, 0, 0, 123, 125],
                  error: .headerTooLarge(path: "mem", headerLength: 1 << 32)),
        Malformed(name: "not an object", bytes: image("[1]", []),
                  error: .invalidHeader(path: "mem", reason: "does not start with '{'")),
        Malformed(name: "unsupported dtype", bytes: image(#"{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#, [0, 0]),
                  error: .unsupportedDType(path: "mem", tensor: "h", dtype: "F16")),
        Malformed(name: "missing dtype", bytes: image(#"{"h":{"shape":[1],"data_offsets":[0,4]}}"#, [0, 0, 0, 0]),
                  error: .invalidEntry(path: "mem", tensor: "h", reason: "missing or non-string 'dtype'")),
        Malformed(name: "negative extent", bytes: image(#"{"h":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}"#, []),
                  error: .invalidEntry(path: "mem", tensor: "h", reason: "'shape' must be a list of non-negative integers")),
        Malformed(name: "reversed offsets", bytes: image(#"{"h":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}}"#, [0]),
                  error: .invalidEntry(path: "mem", tensor: "h", reason: "'data_offsets' must be [begin, end] with 0 <= begin <= end")),
        Malformed(name: "size mismatch", bytes: image(#"{"h":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, [0, 0, 0, 0]),
                  error: .sizeMismatch(path: "mem", tensor: "h", shape: [2], dtype: "F32", begin: 0, end: 4)),
        Malformed(name: "gap", bytes: image(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}"#, [1, 2, 3]),
                  error: .notContiguous(path: "mem", tensor: "b", begin: 2, expected: 1)),
        Malformed(name: "overlap", bytes: image(#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#, [1, 2, 3]),
                  error: .notContiguous(path: "mem", tensor: "b", begin: 1, expected: 2)),
        Malformed(name: "trailing bytes", bytes: image(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, [1, 2]),
                  error: .dataLengthMismatch(path: "mem", dataBytes: 2, coveredBytes: 1)),
        Malformed(name: "truncated data", bytes: image(#"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, [1, 2]),
                  error: .dataLengthMismatch(path: "mem", dataBytes: 2, coveredBytes: 8)),
        Malformed(name: "non-string metadata", bytes: image(#"{"__metadata__":{"epoch":3}}"#, []),
                  error: .invalidMetadata(path: "mem", key: "epoch")),
    ]

    @Test(arguments: malformed)
    func rejectsMalformedFile(_ m: Malformed) {
        #expect(throws: m.error) { try parse(m.bytes) }
    }

    @Test func invalidJSONIsReported() {
        #expect {
            try parse(image(#"{"a": nope}"#, []))
        } throws: { error in
            guard case .invalidHeader(let path, let reason)? = error as? SafetensorsError else { return false }
            return path == "mem" && reason.hasPrefix("not valid JSON")
        }
    }

    @Test func missingFileIsAFileError() {
        #expect(throws: FileIOError.self) { try SafetensorsArchive(contentsOf: "/nonexistent/x.safetensors") }
    }
}
