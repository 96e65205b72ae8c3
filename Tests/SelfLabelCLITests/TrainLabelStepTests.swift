import Foundation
import Interop
import TestSupport
import Testing

/// What training does with labels that cannot serve (issue 12 §2.5 and §2.8): a numerical breakdown is solved
/// again on logarithms, one that remains stops the run with the state before it saved; degenerate labels are
/// warned about and recorded.
@Suite struct TrainLabelStepTests {
    static let tiny = ["--arch", "convnet_tiny", "--hc", "1", "--ncl", "4", "--batch-size", "10", "--workers", "1",
                       "--threads", "1"]

    @Test("train --lamb 10000 (float64 breaks down): solved on logarithms, usable labels (was: all in cluster 0)")
    func hugeLambdaTrains() throws {
        let data = try temporaryFolder("lamb-data"), exp = try temporaryFolder("lamb-exp") + "/exp"
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: exp) }
        try writeTinyCIFAR10(data)
        // The official loop from the reference's start: with Anderson's balanced start
        // (`SinkhornOptions.startsBalanced`) float64 solves the first label step here, and the float32
        // truncated method the second, so the log domain is never needed.
        let r = try runSelflabel(["train", "--data", data, "--exp", exp, "--epochs", "3", "--nopts", "3",
                                  "--dtype", "f64", "--lamb", "10000", "--sk-acceleration", "off"] + Self.tiny)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("solved again by the official loop on logarithms"), "stderr: \(r.stderr)")
        let records = try String(contentsOfFile: exp + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["kind"] as? String == "labels" }
        #expect(records.count == 2 && records.contains { $0["log_domain"] as? Bool == true }, "\(records)")
        for record in records {  // 100 images in 4 clusters: none empty, none far above its share of 25
            let smallest = record["cluster_size_min"] as? Int ?? 0, largest = record["cluster_size_max"] as? Int ?? 100
            #expect(smallest >= 12 && largest <= 50, "\(record)")
        }
    }

    @Test("a breakdown that remains (λ = 1.7e308: every λ log P overflows) stops with a checkpoint, non-zero exit, the cause")
    func breakdownStopsTraining() throws {
        let data = try temporaryFolder("lamb-data"), exp = try temporaryFolder("lamb-exp") + "/exp"
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: exp) }
        try writeTinyCIFAR10(data)
        let r = try runSelflabel(["train", "--data", data, "--exp", exp, "--epochs", "3", "--nopts", "3",
                                  "--dtype", "f64", "--lamb", "1.7e308"] + Self.tiny)
        #expect(r.status != 0 && !r.signalled, "stderr: \(r.stderr)")
        let line = r.stderr.split(separator: "\n").last { $0.contains("training stopped") }.map(String.init) ?? ""
        #expect(line.contains("training stopped at label optimisation 1") && line.contains("broke down numerically")
                && !line.contains("f32 precision"), "last line: \(line)")
        #expect(!FileManager.default.fileExists(atPath: exp + "/model_final.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: exp + "/labels.npy"))
        // The named checkpoint holds the state just before the failed optimisation: still due, none done.
        let path = try #require(line.range(of: "saved in ").map { String(line[$0.upperBound...]) })
        let state = try #require(try SafetensorsArchive(contentsOf: path).metadata["selflabel.state"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(state.utf8)) as? [String: Any])
        #expect(json["labelOptimisations"] as? Int == 0 && json["reason"] as? String == "labels-unusable", "\(json)")
        #expect(json["iteration"] as? Int == 0 && (json["scheduleRemaining"] as? [Double])?.first == 0, "\(json)")
    }

    @Test("identical images give degenerate labels: warned once per label step, in metrics.jsonl and at the end")
    func degenerateLabelsAreWarned() throws {
        let data = try temporaryFolder("degenerate-data"), exp = try temporaryFolder("degenerate-exp") + "/exp"
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: exp) }
        try writeTinyCIFAR10(data, constantPixels: true)
        // --sk-empty-clusters report: the default (split) repairs the empty clusters (TrainEmptyClusterTests).
        let r = try runSelflabel(["train", "--data", data, "--exp", exp, "--epochs", "3", "--nopts", "4",
                                  "--schedule", "linear", "--paugs", "0", "--sk-empty-clusters", "report"] + Self.tiny)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let warnings = r.stderr.split(separator: "\n").filter { $0.contains("degenerate labels") }
        #expect(warnings.count == 3 + 1, "stderr: \(r.stderr)")  // one per label step, one at the end
        #expect(r.stderr.contains("3 of 3 label optimisations gave degenerate labels"), "stderr: \(r.stderr)")
        let metrics = try String(contentsOfFile: exp + "/metrics.jsonl", encoding: .utf8)
        let labelRecords = metrics.split(separator: "\n").filter { $0.contains("\"kind\":\"labels\"") || $0.contains("\"kind\": \"labels\"") }
        #expect(labelRecords.count == 3 && labelRecords.allSatisfy { $0.contains("degenerate_labels\":true") || $0.contains("degenerate_labels\": true") },
                "metrics: \(metrics)")
    }
}
