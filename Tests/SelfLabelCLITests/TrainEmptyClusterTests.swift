import Foundation
import TestSupport
import Testing

/// Issue 14 §1: empty clusters after a label step in training are repaired by default (`--sk-empty-clusters
/// split`) or refused (`refuse`), never left silently. Identical images give identical score rows, which the
/// stopping rule accepts with every image in cluster 0.
@Suite struct TrainEmptyClusterTests {
    static let tiny = ["--arch", "convnet_tiny", "--hc", "1", "--ncl", "4", "--batch-size", "10", "--workers", "1",
                       "--threads", "1", "--epochs", "2", "--nopts", "3", "--schedule", "linear", "--paugs", "0"]

    @Test("default: the empty clusters are split, noted on the console and recorded; the labels are not degenerate")
    func splitByDefault() throws {
        let data = try temporaryFolder("empty-data"), exp = try temporaryFolder("empty-exp") + "/exp"
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: exp) }
        try writeTinyCIFAR10(data, constantPixels: true)
        let r = try runSelflabel(["train", "--data", data, "--exp", exp] + Self.tiny)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("empty clusters filled by splitting the largest cluster"), "stderr: \(r.stderr)")
        #expect(!r.stderr.contains("degenerate labels"), "stderr: \(r.stderr)")
        let metrics = try String(contentsOfFile: exp + "/metrics.jsonl", encoding: .utf8)
        let records = metrics.split(separator: "\n").filter { $0.contains("\"labels\"") }
        #expect(records.count == 2 && records.allSatisfy { $0.contains("\"repaired_empty_clusters\":3")
            || $0.contains("\"repaired_empty_clusters\": 3") }, "metrics: \(metrics)")
        let labels = try String(contentsOfFile: exp + "/labels.csv", encoding: .utf8)
        let counts = Dictionary(grouping: labels.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").last },
                                by: { $0 }).mapValues(\.count)
        #expect(counts.count == 4 && counts.values.allSatisfy { $0 == 25 }, "cluster sizes \(counts)")
    }

    @Test("--sk-empty-clusters refuse stops the run at that label step, non-zero exit, naming the empty clusters")
    func refuseStops() throws {
        let data = try temporaryFolder("refuse-data"), exp = try temporaryFolder("refuse-exp") + "/exp"
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: exp) }
        try writeTinyCIFAR10(data, constantPixels: true)
        let r = try runSelflabel(["train", "--data", data, "--exp", exp, "--sk-empty-clusters", "refuse"] + Self.tiny)
        #expect(r.status != 0 && !r.signalled, "stderr: \(r.stderr)")
        let line = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(line.contains("training stopped at label optimisation 1") && line.contains("clusters received no sample"), "last line: \(line)")
        #expect(!FileManager.default.fileExists(atPath: exp + "/labels.npy"))
    }
}
