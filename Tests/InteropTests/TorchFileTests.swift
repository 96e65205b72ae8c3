import Foundation
import Interop
import Tensors
import Testing

/// A fixture written by `scripts/fixtures/pytorch_interop.py` (real PyTorch).
func torchFixture(_ name: String) -> String {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures/pytorch/\(name)").path
}

@Suite struct TorchFileReadingTests {
    struct Expected: Decodable {
        var dtype: String, shape: [Int], stride: [Int], offset: Int, values: [Double]
    }

    static func expected() throws -> [String: Expected] {
        struct File: Decodable { var tensors: [String: Expected] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: torchFixture("tensors.json")))).tensors
    }

    @Test(arguments: ["tensors_zip.pth", "tensors_legacy.pth"])
    func everyDTypeViewAndPlainValue(_ file: String) throws {
        let value = try TorchFile.load(contentsOf: torchFixture(file))
        let expected = try Self.expected()
        let dtypeNames: [String: TorchDType] = ["float32": .float32, "float16": .float16, "bfloat16": .bfloat16,
                                                "float64": .float64, "int64": .int64, "int32": .int32, "uint8": .uint8, "bool": .bool]
        for (name, e) in expected {
            let t = try #require(value[name]?.tensor, "\(file): \(name)")
            #expect(t.dtype == dtypeNames[e.dtype], "\(name)")
            #expect(t.shape == e.shape && t.strides == e.stride && t.offset == e.offset, "\(name): \(t.shape) \(t.strides) \(t.offset)")
            if t.dtype == .int64 {
                #expect(t.int64s() == e.values.map { Int64($0) }, "\(name)")
            } else {
                #expect(t.floats() == e.values.map { Float($0) }, "\(name): \(t.floats()) vs \(e.values)")
            }
        }
        #expect(value["shared_a"]!.tensor!.storage === value["shared_b"]!.tensor!.storage)
        #expect(value["transposed"]!.tensor!.storage === value["strided"]!.tensor!.storage)
        let plain = try #require(value["plain"])
        #expect(plain["int"]?.int == 42 && plain["neg"]?.int == -5 && plain["str"]?.string == "héllo")
        if case .float(let f)? = plain["float"] { #expect(f == 0.25) } else { Issue.record("float") }
        if case .bigInt(let b)? = plain["big"] { #expect(b.count == 9 && b[8] == 0x40) } else { Issue.record("big int") }
        if case .none? = plain["none"] {} else { Issue.record("None") }
        if case .bool(true)? = plain["true"] {} else { Issue.record("True") }
        if case .tuple(let t)? = plain["tuple"], case .tuple(let inner) = t[1] { #expect(inner.count == 2) } else { Issue.record("tuple") }
        if case .list(let l)? = plain["list"] { #expect(l.count == 3 && l[2].string == "x") } else { Issue.record("list") }
    }

    /// `os.system('touch MARKER')` pickled through `__reduce__`, bare, in the legacy stream and inside a zip: each
    /// is refused by name, and the marker file proves the command never ran.
    @Test(arguments: ["malicious_pickle.pth", "malicious_legacy.pth", "malicious_zip.pth"])
    func maliciousPickleIsRefusedWithoutRunning(_ file: String) throws {
        let marker = "/tmp/selflabel-interop-fixture-was-executed"
        try? FileManager.default.removeItem(atPath: marker)
        #expect(throws: TorchFileError.refusedGlobal(path: torchFixture(file), module: "posix", name: "system")) {
            _ = try TorchFile.load(contentsOf: torchFixture(file))
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func notATorchFile() throws {
        let bytes: [UInt8] = Array("hello world, this is not a pickle".utf8)
        #expect(throws: TorchFileError.self) {
            _ = try bytes.withUnsafeBytes { try TorchFile.load(bytes: $0, path: "x") }
        }
    }
}

@Suite struct TorchFileWritingTests {
    /// Tensors, shared storages and plain values survive serialisation and reading back bit for bit.
    @Test func roundTripIsExact() throws {
        let w = TorchTensor(float32: [1.5, -2, .pi, 0, 1e-30, -.infinity], shape: [2, 3])
        let l = TorchTensor(int64: [0, -1, Int64.max, 5], shape: [4])
        let value = TorchValue.dict([(.string("w"), .tensor(w)), (.string("w_again"), .tensor(w)), (.string("L"), .tensor(l)),
                                     (.string("epoch"), .int(3)), (.string("arch"), .string("alexnet")),
                                     (.string("big"), .int(-70_000_000_000)), (.string("lr"), .float(0.05)),
                                     (.string("scalar"), .tensor(TorchTensor(float32: [7], shape: [])))])
        let bytes = try TorchFile.serialized(value)
        let back = try bytes.withUnsafeBytes { try TorchFile.load(bytes: $0, path: "round trip") }
        #expect(back["w"]?.tensor?.floats() == w.floats() && back["w"]?.tensor?.shape == [2, 3])
        #expect(back["w"]!.tensor!.storage === back["w_again"]!.tensor!.storage)
        #expect(back["L"]?.tensor?.int64s() == [0, -1, Int64.max, 5] && back["L"]?.tensor?.dtype == .int64)
        #expect(back["epoch"]?.int == 3 && back["arch"]?.string == "alexnet" && back["big"]?.int == -70_000_000_000)
        #expect(back["scalar"]?.tensor?.shape == [] && back["scalar"]?.tensor?.floats() == [7])
        // Writing what was read gives the same bytes again.
        #expect(try TorchFile.serialized(back) == bytes)
    }
}

/// Random truncations and byte flips of every fixture here (the model fixtures: `PyTorchFuzzTests`): the reader must throw `TorchFileError` or succeed, never
/// crash, hang or allocate what the file cannot hold.
@Suite struct TorchFileFuzzTests {
    @Test func truncationsAndByteFlipsNeverCrash() throws {
        let files = ["tensors_zip.pth", "tensors_legacy.pth", "malicious_zip.pth", "malicious_legacy.pth", "malicious_pickle.pth"]
        var rng = Xoshiro256(seed: 2024)
        var cases = 0, rejected = 0
        for file in files {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: torchFixture(file))))
            for trial in 0..<1500 {
                var bytes = original
                if trial % 3 == 0 {
                    bytes.removeSubrange(Int.random(in: 0..<bytes.count, using: &rng)...)
                } else {
                    for _ in 0..<(1 + trial % 4) {
                        bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                    }
                }
                cases += 1
                do {
                    let v = try bytes.withUnsafeBytes { try TorchFile.load(bytes: $0, path: file) }
                    _ = v.summary
                } catch is TorchFileError {
                    rejected += 1
                }
            }
        }
        #expect(cases == 7500)
        #expect(rejected > cases / 2, "only \(rejected) of \(cases) damaged files were rejected")
    }
}
