import Foundation
import Interop
import TestSupport
import Testing

/// `train --rotnet` (`retrain_with_rotnet.py`) end to end: in SeLa training and on fixed labels, with the
/// rotation head in the weights, its scores in the metrics, and exact resume.
@Suite struct RotNetTrainingTests {
    static func arguments(_ data: String) -> [String] {
        ["train", "--data", data, "--rotnet", "--epochs", "2", "--arch", "convnet_tiny", "--hc", "1", "--ncl", "5",
         "--batch-size", "10", "--nopts", "3", "--dtype", "f32", "--log-iter", "1", "--workers", "1", "--threads", "1"]
    }

    /// The `"kind": "train"` records of a run's metrics log.
    static func trainRecords(_ exp: String) throws -> [[String: Any]] {
        try String(contentsOfFile: exp + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }.filter { $0["kind"] as? String == "train" }
    }

    @Test("SeLa training with --rotnet: the 4-way head top_layer<hc> is trained and saved, its loss and accuracy logged, the run resumes exactly")
    func selaWithRotation() throws {
        let (root, data) = try tinyDataRoot("rotnet")
        let exp = root + "/exp"
        let reference = try referenceOutputs(Self.arguments(data), exp: exp)
        // One head (hc 1): as the official, the label head becomes top_layer0 and the rotation head top_layer1.
        let weights = try SafetensorsArchive(contentsOf: exp + "/model_final.safetensors")
        let rotation = try #require(weights["top_layer1.weight"]), labelHead = try #require(weights["top_layer0.weight"])
        #expect(rotation.shape[0] == 4 && labelHead.shape[0] == 5 && rotation.shape[1] == labelHead.shape[1])
        #expect(weights.metadata["heads"] == "5,4")
        #expect(try NpyArray(contentsOf: exp + "/labels.npy").shape == [1, 100])
        let records = try Self.trainRecords(exp)
        #expect(records.count == 20)
        for r in records {
            let loss = try #require(r["loss"] as? Double), labels = try #require(r["label_loss"] as? Double)
            let turns = try #require(r["rotation_loss"] as? Double), accuracy = try #require(r["rotation_accuracy"] as? Double)
            #expect(abs(loss - (labels + turns)) < 1e-5 * max(1, loss) && (0...1).contains(accuracy), "\(r)")
        }
        let metrics = try String(contentsOfFile: exp + "/metrics.jsonl", encoding: .utf8)
        #expect(metrics.contains("\"kind\": \"labels\""))
        // A checkpoint of the run loads with its rotation head (evaluation reads it).
        let knn = try runSelflabel(["eval", "knn", "--checkpoint", exp + "/checkpoints/checkpoint-e0002-b000000.safetensors",
                                    "--data", data, "--k", "10", "--workers", "1"])
        #expect(knn.status == 0, "\(knn.stderr)")

        // Stopped at iteration 12 and resumed: the same final weights and labels.
        let resumed = root + "/resumed"
        let run = try TrainingProcess(Self.arguments(data) + ["--exp", resumed], pause: "iteration:12", log: root + "/stderr.txt")
        _ = try run.signalAtPause(SIGINT)
        #expect(run.process.terminationStatus == 130)
        let more = try runSelflabel(["train", "--data", data, "--exp", resumed, "--resume", "--workers", "1", "--threads", "1"])
        #expect(more.status == 0, "\(more.stderr)")
        #expect(try finalOutputs(resumed) == reference)
    }

    @Test("--rotnet with --labels (retrain_with_rotnet.py's workflow): the labels stay fixed, the rotation loss changes the network")
    func fixedLabelsWithRotation() throws {
        let (root, data) = try tinyDataRoot("rotnet-labels")
        var labels: [Int64] = (0..<100).map { Int64($0 % 5) }
        labels.swapAt(3, 97)
        try Npy.write(labels, shape: [100], to: root + "/labels.npy")
        let common = ["train", "--data", data, "--labels", root + "/labels.npy", "--epochs", "1", "--arch", "convnet_tiny",
                      "--batch-size", "10", "--workers", "1", "--threads", "1", "--log-iter", "1"]
        let r = try runSelflabel(common + ["--rotnet", "--exp", root + "/rot"])
        try #require(r.status == 0, "\(r.stderr)")
        #expect(try NpyArray(contentsOf: root + "/rot/labels.npy").int64s() == labels)
        let weights = try SafetensorsArchive(contentsOf: root + "/rot/model_final.safetensors")
        #expect(weights.metadata["heads"] == "5,4")
        #expect(try Self.trainRecords(root + "/rot").allSatisfy { $0["rotation_accuracy"] != nil })
        let plain = try runSelflabel(common + ["--exp", root + "/plain"])
        try #require(plain.status == 0, "\(plain.stderr)")
        let plainWeights = try SafetensorsArchive(contentsOf: root + "/plain/model_final.safetensors")
        #expect(plainWeights.metadata["heads"] == "5" && plainWeights["top_layer.weight"] != nil)
        #expect(plainWeights["features.0.weight"]?.data != nil && plainWeights["features.0.weight"]?.data != weights["features.0.weight"]?.data)

        // --onlyrot: the rotation loss alone; the label head keeps its initial weights (no gradient, so no decay).
        let only = try runSelflabel(common + ["--rotnet", "--onlyrot", "--exp", root + "/only"])
        try #require(only.status == 0, "\(only.stderr)")
        let initial = try SafetensorsArchive(contentsOf: root + "/only/model_init.safetensors")
        let final = try SafetensorsArchive(contentsOf: root + "/only/model_final.safetensors")
        #expect(final["top_layer0.weight"]?.data != nil && final["top_layer0.weight"]?.data == initial["top_layer0.weight"]?.data)
        #expect(final["top_layer1.weight"]?.data != initial["top_layer1.weight"]?.data)
        #expect(try Self.trainRecords(root + "/only").allSatisfy { $0["label_loss"] as? Double == 0 })
        let refused = try runSelflabel(common + ["--onlyrot", "--exp", root + "/refused"])
        #expect(refused.status != 0 && refused.stderr.contains("--onlyrot true needs --rotnet"), "\(refused.stderr)")
    }
}
