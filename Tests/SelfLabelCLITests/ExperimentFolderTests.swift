import Foundation
import TestSupport
import Testing

/// Where a run writes: `--exp` given now (a copied or moved experiment folder resumes in place and never
/// touches the original), never two runs mixed in one folder, one clear line for an unusable folder,
/// temporary files of a killed run removed at the next start.
@Suite struct ExperimentFolderTests {
    static let tiny = ["--arch", "convnet_tiny", "--epochs", "1", "--hc", "1", "--ncl", "3", "--batch-size", "20",
                       "--nopts", "1", "--workers", "1"]

    /// A finished tiny run in `<work>/runA` made with the relative `--exp runA` from `work`.
    static func trainedRun() throws -> (work: String, data: String) {
        let work = try temporaryFolder("exp-work")
        let data = work + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try writeTinyCIFAR10(data, perFile: 8)
        let r = try runSelflabel(["train", "--data", data, "--exp", "runA"] + tiny, directory: work)
        try #require(r.status == 0, "training failed: \(r.stderr)")
        return (work, data)
    }

    @Test("resuming a copied experiment folder writes only into the copy, from any working directory")
    func resumeWritesIntoTheGivenFolder() throws {
        let (work, data) = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let original = work + "/runA", copy = work + "/elsewhere/runB"
        try FileManager.default.createDirectory(atPath: work + "/elsewhere", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: original, toPath: copy)
        // A stale temporary file of a killed checkpoint write, to be removed at the next start.
        let stale = copy + "/checkpoints/checkpoint-e0001-b000000.safetensors.tmp-4242-17"
        try Data("half a checkpoint".utf8).write(to: URL(fileURLWithPath: stale))
        // Records written after the last checkpoint by a run that then crashed, the last one cut short.
        let metricsPath = copy + "/metrics.jsonl"
        let metrics = try String(contentsOfFile: metricsPath, encoding: .utf8)
        try (metrics + "{\"kind\":\"train\",\"epoch\":1,\"iteration\":999999,\"loss\":1.0}\n{\"kind\":\"epo")
            .write(toFile: metricsPath, atomically: true, encoding: .utf8)
        let before = fileSnapshot(original)
        let elsewhere = try temporaryFolder("exp-cwd")
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        let r = try runSelflabel(["train", "--data", data, "--exp", copy, "--resume"], directory: elsewhere)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fileSnapshot(original) == before, "the original experiment folder was modified")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty,
                "nothing is created relative to the working directory (the stored relative --exp)")
        #expect(!FileManager.default.fileExists(atPath: stale), "stale temporary file not removed")
        #expect(r.stderr.contains("removed \(stale)"), "\(r.stderr)")
        #expect(!r.stderr.contains("runA"), "output names the stored folder: \(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: copy + "/model_final.safetensors"))
        #expect(try String(contentsOfFile: metricsPath, encoding: .utf8) == metrics,
                "metrics.jsonl truncated to the checkpoint's position")
    }

    @Test("train into a folder holding a run: refused naming --resume; --overwrite moves the old run aside")
    func existingRunIsNeverMixed() throws {
        let (work, data) = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let exp = work + "/runA"
        let before = fileSnapshot(exp)
        let refused = try runSelflabel(["train", "--data", data, "--exp", exp] + Self.tiny)
        #expect(refused.status != 0)
        let errors = refused.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        #expect(errors.count == 1 && errors[0].contains(exp) && errors[0].contains("--resume"), "\(refused.stderr)")
        #expect(fileSnapshot(exp) == before, "the existing run was modified")
        let overwritten = try runSelflabel(["train", "--data", data, "--exp", exp, "--overwrite", "--seed", "7"] + Self.tiny)
        #expect(overwritten.status == 0, "\(overwritten.stderr)")
        #expect(fileSnapshot(exp + ".old-1") == before, "the earlier run is kept whole beside the new one")
        let metrics = try String(contentsOfFile: exp + "/metrics.jsonl", encoding: .utf8)
        let epochs = metrics.split(separator: "\n").filter {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["kind"] as? String == "epoch"
        }
        #expect(epochs.count == 1, "one run's records only: \(metrics)")
    }

    @Test("an --exp that is a file is one line naming it")
    func unusableFolder() throws {
        let work = try temporaryFolder("exp-file")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let file = work + "/not-a-folder"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        for exp in [file, file + "/inside"] {
            let r = try runSelflabel(["train", "--exp", exp] + Self.tiny)
            #expect(r.status != 0)
            let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
            #expect(lines.count == 1 && lines[0].hasPrefix("Error: experiment folder \(exp)"), "\(r.stderr)")
        }
    }
}
