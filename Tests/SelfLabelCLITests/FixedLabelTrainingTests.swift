import Foundation
import Interop
import TestSupport
import Testing

/// `train --labels FILE`: plain cross-entropy on given pseudo-labels (the official "train a network on our
/// labels"), with checkpoints, exact resume and the usual outputs; the file checked against the data.
@Suite struct FixedLabelTrainingTests {
    /// A tiny data set and a short SeLa run on it whose labels (.npy and an export-labels CSV) are retrained on.
    static func labelledData() throws -> (root: String, data: String, npy: String, csv: String) {
        let (root, data) = try tinyDataRoot("fixed-labels")
        let sela = try runSelflabel(["train", "--data", data, "--exp", root + "/sela", "--epochs", "1", "--arch", "convnet_tiny",
                                     "--hc", "2", "--ncl", "4", "--batch-size", "10", "--nopts", "3", "--dtype", "f32",
                                     "--workers", "1", "--threads", "1"])
        try #require(sela.status == 0, "SeLa run: \(sela.stderr)")
        // The labels as CSV rows in reverse order: rows are matched by name, never by position.
        let export = try runSelflabel(["export-labels", "--checkpoint", root + "/sela/checkpoints/checkpoint-e0001-b000000.safetensors", "--data", data,
                                       "--from-training", "--out", root + "/exported"])
        try #require(export.status == 0, "export: \(export.stderr)")
        let lines = try String(contentsOfFile: root + "/exported.csv", encoding: .utf8).split(separator: "\n")
        try ([String(lines[0])] + lines.dropFirst().reversed().map(String.init)).joined(separator: "\n")
            .write(toFile: root + "/reversed.csv", atomically: true, encoding: .utf8)
        return (root, data, root + "/sela/labels.npy", root + "/reversed.csv")
    }

    static func arguments(_ data: String, _ labels: String, epochs: Int = 3) -> [String] {
        ["train", "--data", data, "--labels", labels, "--epochs", "\(epochs)", "--arch", "convnet_tiny", "--batch-size", "10",
         "--lr", "0.05", "--log-iter", "1", "--workers", "1", "--threads", "1"]
    }

    @Test("retraining on a run's labels (npy or name-matched CSV) keeps them fixed as the targets and resumes exactly; --save-every keeps permanent checkpoints")
    func retrainAndResume() throws {
        let (root, data, npy, csv) = try Self.labelledData()
        let given = try Data(contentsOf: URL(fileURLWithPath: npy))
        var finals: [String: Data] = [:]
        for (name, file) in [("npy", npy), ("csv", csv)] {
            let exp = root + "/retrain-" + name
            // --save-every 2 on one of the two runs: permanent checkpoints do not change the results.
            let r = try runSelflabel(Self.arguments(data, file) + ["--exp", exp] + (name == "npy" ? ["--save-every", "2"] : []))
            try #require(r.status == 0, "\(name): \(r.stderr)")
            #expect(r.stderr.contains("training on the fixed labels of \(file): 2 head(s) × 4 clusters"), "\(r.stderr)")
            // The labels never change, and no label optimisation is logged.
            #expect(try Data(contentsOf: URL(fileURLWithPath: exp + "/labels.npy")) == given, "\(name): labels changed")
            let metrics = try String(contentsOfFile: exp + "/metrics.jsonl", encoding: .utf8)
            #expect(!metrics.contains("\"kind\": \"labels\""))
            let epochs = metrics.split(separator: "\n").filter { $0.contains("\"kind\": \"epoch\"") }
            #expect(epochs.count == 3)
            finals[name] = try Data(contentsOf: URL(fileURLWithPath: exp + "/model_final.safetensors"))
            let kept = try FileManager.default.contentsOfDirectory(atPath: exp + "/checkpoints").filter { $0.hasPrefix("ckpt-") }
            #expect(kept == (name == "npy" ? ["ckpt-e0002.safetensors"] : []), "\(name): \(kept)")
        }
        // The same labels in either format train the same network.
        #expect(finals["npy"] == finals["csv"])
        // They are the targets: the same labels moved by one image train another network.
        let values = try NpyArray(contentsOf: npy).int64s()
        try Npy.write(Array(values.suffix(1) + values.dropLast()), shape: [2, values.count / 2], to: root + "/moved.npy")
        let moved = try runSelflabel(Self.arguments(data, root + "/moved.npy") + ["--exp", root + "/retrain-moved"])
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/retrain-moved/model_final.safetensors")) != finals["npy"])

        // Interrupted mid-run and resumed (without --labels: the checkpoint holds them): the same final weights.
        let exp = root + "/retrain-resumed"
        let run = try TrainingProcess(Self.arguments(data, npy) + ["--exp", exp], pause: "iteration:12", log: root + "/stderr.txt")
        let stopped = try run.signalAtPause(SIGINT)
        #expect(run.process.terminationStatus == 130, "\(stopped)")
        let resumed = try runSelflabel(["train", "--data", data, "--exp", exp, "--resume", "--workers", "1", "--threads", "1"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: exp + "/model_final.safetensors")) == finals["npy"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: exp + "/labels.npy")) == given)
    }

    @Test("a labels file that does not fit the data or the settings is one line naming it, before any output")
    func badFiles() throws {
        let (root, data) = try tinyDataRoot("fixed-labels-bad")
        let n = 100
        try Npy.write((0..<(n - 1)).map { Int64($0 % 4) }, shape: [n - 1], to: root + "/short.npy")
        try Npy.write((0..<n).map { $0 == 7 ? -1 : Int64($0 % 4) }, shape: [n], to: root + "/negative.npy")
        try Npy.write((0..<(2 * n)).map { Int64($0 % 4) }, shape: [2, n], to: root + "/two-heads.npy")
        try "path,head0\nCIFAR record 0,1\n".write(toFile: root + "/few.csv", atomically: true, encoding: .utf8)
        for (file, extra, words) in [
            ("short.npy", [String](), "99 labels per head for a data set of 100 images"),
            ("negative.npy", [], "label -1 (head 0, image 7) is negative"),
            ("two-heads.npy", ["--hc", "3"], "has 2 head(s) but --hc 3 was given"),
            ("two-heads.npy", ["--ncl", "3"], "has label 3, which --ncl 3 cannot hold"),
            ("few.csv", [], "no row for 99 of the 100 images"),
        ] {
            let exp = root + "/exp-" + file + extra.joined()
            let r = try runSelflabel(Self.arguments(data, root + "/" + file) + extra + ["--exp", exp])
            #expect(r.status != 0)
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && r.stderr.contains(root + "/" + file) && r.stderr.contains(words), "\(file): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: exp + "/model_init.safetensors"))
        }
    }
}

extension FixedLabelTrainingTests {
    /// `--preset rotnet --labels L` is retrain_with_rotnet.py's run: the heads and clusters still follow the labels
    /// file (a preset is not a typed `--hc`/`--ncl`; before, any preset made the defaults' 3000 clusters stick), the
    /// rotation head trains, and the script's learning rate and batch size are used.
    @Test func rotnetPresetRetrainsOnTheFilesHeads() throws {
        let (root, data, npy, _) = try Self.labelledData()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let exp = root + "/rotnet"
        let r = try runSelflabel(["train", "--preset", "rotnet", "--data", data, "--labels", npy, "--exp", exp,
                                  "--arch", "convnet_tiny", "--epochs", "1", "--log-iter", "1", "--workers", "1", "--threads", "1"])
        try #require(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("training on the fixed labels of \(npy): 2 head(s) × 4 clusters"), "\(r.stderr)")
        let records = try String(contentsOfFile: exp + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["kind"] as? String == "train" }
        // 100 images in batches of 64: two steps at lr 0.05, each with a rotation loss.
        #expect(records.count == 2)
        #expect(records.allSatisfy { abs(($0["lr"] as? Double ?? 0) - 0.05) < 1e-6 && $0["rotation_loss"] != nil }, "\(records)")
    }
}
