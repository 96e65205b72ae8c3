import Foundation
import TestSupport
import Testing

/// The memory-bounded label pass from the command line: `bench label-pass` and `train --pl-memory`.
@Suite struct LabelPassCommandTests {
    @Test("bench label-pass spills features and scores under a small budget into an --exp it creates, solves every head and leaves no file")
    func benchSpills() throws {
        let root = try temporaryFolder("bench-label-pass")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let exp = root + "/spill/new"  // missing: created as train creates its --exp
        let r = try runSelflabel(["bench", "label-pass", "--n", "3000", "--dim", "64", "--hc", "2", "--ncl", "40",
                                  "--memory", "0.0007", "--exp", exp, "--threads", "1"])
        try #require(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        #expect(lines.map { $0["what"] as? String } == ["label-pass-plan", "label-pass-head", "label-pass-head", "label-pass"])
        #expect(lines[0]["features_spilled"] as? Bool == true && lines[0]["scores_spilled"] as? Bool == true)
        #expect(lines[3]["spill_bytes"] as? Int == 3000 * 64 * 4 + 3000 * 40 * 4)
        #expect(lines[1...2].allSatisfy { ($0["iterations"] as? Int ?? 0) >= 1 })
        #expect(try FileManager.default.contentsOfDirectory(atPath: exp).isEmpty)
    }

    @Test("train refuses a label pass that fits nowhere, with the plan's numbers, before training")
    func trainRefusesWithNumbers() throws {
        let (root, data) = try tinyDataRoot("pl-memory")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try runSelflabel(["train", "--data", data, "--epochs", "1", "--exp", root + "/exp", "--pl-memory", "1e-7"]
                                 + TrainingProcess.tiny)
        #expect(r.status != 0)
        #expect(r.stderr.contains("does not fit in memory or on disk") && r.stderr.contains("100 × 256 bf16")
                && r.stderr.contains("MB budget"), "\(r.stderr)")
    }
}
