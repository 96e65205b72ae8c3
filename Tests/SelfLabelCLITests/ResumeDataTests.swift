import Foundation
import Interop
import TestSupport
import Testing

/// `--resume` and the training data (issue 12 §2.8): the checkpoint's data set fingerprint refuses other data,
/// even of the same size, unless `--data-changed-ok`; without `--data` the run's stored data is used.
@Suite struct ResumeDataTests {
    static let tiny = ["--arch", "convnet_tiny", "--hc", "1", "--ncl", "4", "--batch-size", "10", "--workers", "1",
                       "--threads", "1", "--epochs", "1", "--nopts", "1", "--dtype", "f32"]

    @Test("other data of the same size is refused naming both; a copy, --data-changed-ok and no --data resume")
    func fingerprintGuardsResume() throws {
        let root = try temporaryFolder("resume-data")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data", other = root + "/other", copy = root + "/copy", exp = root + "/exp"
        for d in [data, other, copy] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try writeTinyCIFAR10(data, seed: 1)
        try writeTinyCIFAR10(other, seed: 2)  // same files, sizes and classes: other pixels
        try writeTinyCIFAR10(copy, seed: 1)   // a copy (other modification times) is the same data
        let first = try runSelflabel(["train", "--data", data, "--exp", exp] + Self.tiny)
        #expect(first.status == 0, "stderr: \(first.stderr)")

        let refused = try runSelflabel(["train", "--data", other, "--exp", exp, "--resume"])
        #expect(refused.status != 0 && !refused.signalled)
        let line = refused.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(line.contains("--data \(other) differs from \(data)") && line.contains("other contents")
                && line.contains("--data-changed-ok"), "stderr: \(refused.stderr)")

        let copied = try runSelflabel(["train", "--data", copy, "--exp", exp, "--resume"])
        #expect(copied.status == 0, "stderr: \(copied.stderr)")
        // Without --data: the stored data (was: the embedded 5,000 images, refused for their label count).
        let stored = try runSelflabel(["train", "--exp", exp, "--resume"])
        #expect(stored.status == 0, "stderr: \(stored.stderr)")
        let allowed = try runSelflabel(["train", "--data", other, "--exp", exp, "--resume", "--data-changed-ok"])
        #expect(allowed.status == 0 && allowed.stderr.contains("warning: --data-changed-ok"), "stderr: \(allowed.stderr)")
        let misplaced = try runSelflabel(["train", "--data", other, "--exp", root + "/fresh", "--data-changed-ok"])
        #expect(misplaced.status != 0 && misplaced.stderr.contains("--data-changed-ok applies only with --resume"))
    }

    @Test("a checkpoint written before fingerprints resumes, with one note that the data cannot be checked")
    func checkpointWithoutFingerprint() throws {
        let root = try temporaryFolder("resume-old")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data", other = root + "/other", exp = root + "/exp"
        for d in [data, other] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try writeTinyCIFAR10(data, seed: 1)
        try writeTinyCIFAR10(other, seed: 2)
        let first = try runSelflabel(["train", "--data", data, "--exp", exp] + Self.tiny)
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let folder = exp + "/checkpoints"
        let latest = try #require(try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasPrefix("checkpoint-e") }.sorted().last.map { folder + "/" + $0 })
        // Remove the fingerprint, as an earlier version wrote the state.
        var archive = try SafetensorsArchive(contentsOf: latest)
        let state = try #require(archive.metadata["selflabel.state"])
        var json = try #require(try JSONSerialization.jsonObject(with: Data(state.utf8)) as? [String: Any])
        #expect(json["dataset"] != nil)
        json["dataset"] = nil
        archive.metadata["selflabel.state"] = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        try archive.write(to: latest)
        let r = try runSelflabel(["train", "--data", other, "--exp", exp, "--resume"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.components(separatedBy: "holds no data set fingerprint").count == 2, "stderr: \(r.stderr)")
    }
}
