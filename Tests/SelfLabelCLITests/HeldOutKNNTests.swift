import Foundation
import TestSupport
import Testing

/// `train --knn-every N` (cifar.py's per-epoch kNN): held-out kNN and NMI logged, the best state kept, the
/// training itself untouched.
@Suite struct HeldOutKNNTests {
    @Test("--knn-every 1 logs each epoch's held-out kNN, keeps the best state (which eval knn scores the same) and changes no weight")
    func perEpochKNN() throws {
        let (root, data) = try tinyDataRoot("knn-every")
        let arguments = ["train", "--data", data, "--epochs", "3"] + TrainingProcess.tiny
        let plain = try runSelflabel(arguments + ["--exp", root + "/plain"])
        try #require(plain.status == 0, "\(plain.stderr)")
        let r = try runSelflabel(arguments + ["--exp", root + "/knn", "--knn-every", "1"])
        try #require(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("held-out after epoch 3: kNN top-1"), "\(r.stderr)")
        // Measuring changes nothing the run computes.
        #expect(try finalOutputs(root + "/knn") == finalOutputs(root + "/plain"))

        let metrics = try String(contentsOfFile: root + "/knn/metrics.jsonl", encoding: .utf8)
        let records = metrics.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }.filter { $0["kind"] as? String == "knn" }
        #expect(records.map { $0["epoch"] as? Int } == [1, 2, 3])
        let scores = records.compactMap { $0["top1"] as? Double }
        #expect(scores.count == 3 && scores.allSatisfy { (0...1).contains($0) })
        let best = try #require(scores.max())
        #expect(records.filter { $0["best"] as? Bool == true }.count >= 1)

        // The kept state scores the best value when evaluated on its own by eval knn (another code path).
        let kept = root + "/knn/checkpoints/best_knn.safetensors"
        let eval = try runSelflabel(["eval", "knn", "--checkpoint", kept, "--data", data, "--k", "10", "--sigma", "0.1", "--json",
                                     "--workers", "1"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let table = (try? JSONSerialization.jsonObject(with: Data(eval.stdout.utf8))) as? [[String: Any]]
        #expect(table?.first?["top1"] as? Double == best, "eval knn: \(eval.stdout), best logged \(best)")

        // The report charts them.
        let page = try String(contentsOfFile: root + "/knn/report.html", encoding: .utf8)
        #expect(page.contains("Held-out kNN top-1") && page.components(separatedBy: "<circle").count > 3)
    }

    @Test("--knn-every on data without a held-out split is refused before training, naming the option")
    func noHeldOutSplit() throws {
        let (root, data) = try tinyDataRoot("knn-every-none")
        try FileManager.default.removeItem(atPath: data + "/test_batch.bin")
        let r = try runSelflabel(["train", "--data", data, "--epochs", "1", "--exp", root + "/exp", "--knn-every", "1"]
                                 + TrainingProcess.tiny)
        #expect(r.status != 0)
        #expect(r.stderr.contains("--knn-every 1 needs a held-out split"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/exp/model_init.safetensors"))
    }
}
