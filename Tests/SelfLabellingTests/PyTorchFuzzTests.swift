import Foundation
import Interop
import SelfLabelling
import Tensors
import Testing

/// Random truncations and byte flips of every model fixture, read and mapped onto our names: a typed error or
/// a successful read, never a crash (the tensor fixtures are fuzzed in `TorchFileFuzzTests`).
@Suite struct PyTorchFuzzTests {
    @Test func damagedModelFilesNeverCrash() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: PyTorchModelFixture.directory).filter { $0.hasSuffix(".pth") }.sorted()
        #expect(files.count >= 10)
        var rng = Xoshiro256(seed: 7)
        var cases = 0, rejected = 0
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("selflabel-fuzz-\(UUID().uuidString).pth").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for file in files {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: PyTorchModelFixture.directory + "/" + file)))
            for trial in 0..<200 {
                var bytes = original
                if trial % 4 == 0 {
                    bytes.removeSubrange(Int.random(in: 0..<bytes.count, using: &rng)...)
                } else {
                    for _ in 0..<(1 + trial % 3) { bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
                }
                cases += 1
                do {
                    if trial % 20 == 0 {  // through the file mapping as well
                        try Data(bytes).write(to: URL(fileURLWithPath: scratch))
                        _ = try PyTorchCheckpoint(contentsOf: scratch).stateDict
                    } else {
                        _ = try bytes.withUnsafeBytes { try TorchFile.load(bytes: $0, path: file) }
                    }
                } catch is TorchFileError {
                    rejected += 1
                } catch is PyTorchImportError {
                    rejected += 1
                }
            }
        }
        #expect(cases == files.count * 200 && rejected > 0)
    }
}
