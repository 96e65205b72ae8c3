import Foundation
import TestSupport
import Testing

/// The evaluation commands, end to end on a network trained for one epoch on a tiny CIFAR-binary data set.
@Suite(.serialized) struct EvaluationCommandTests {
    static let workspace: (data: String, exp: String) = {
        let data = try! temporaryFolder("eval-data")
        try! writeTinyCIFAR10(data, perFile: 12)
        let exp = try! temporaryFolder("eval-exp")
        let r = try! runSelflabel(["train", "--data", data, "--exp", exp, "--arch", "convnet_tiny", "--epochs", "1",
                                   "--hc", "2", "--ncl", "5", "--batch-size", "20", "--nopts", "1", "--dtype", "f32"])
        precondition(r.status == 0, "training failed: \(r.stderr)")
        return (data, exp)
    }()

    @Test func featuresCommandWritesOneRowPerImage() throws {
        let (data, exp) = Self.workspace
        let out = exp + "/feat.npy"
        let r = try runSelflabel(["features", "--checkpoint", exp + "/model_final.safetensors", "--data", data,
                                  "--split", "val", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let header = try String(decoding: Data(contentsOf: URL(fileURLWithPath: out)).prefix(128), as: UTF8.self)
        #expect(header.contains("'shape': (12, "), "\(header)")
        #expect(FileManager.default.fileExists(atPath: exp + "/feat-targets.npy"))
        let bad = try runSelflabel(["features", "--checkpoint", exp + "/model_final.safetensors", "--data", data,
                                    "--layer", "nope"])
        #expect(bad.status != 0 && bad.stderr.contains("--layer nope is not one of"), "\(bad.stderr)")
    }

    @Test func knnTableForEveryKAndSigma() throws {
        let (data, exp) = Self.workspace
        let r = try runSelflabel(["eval", "knn", "--checkpoint", exp + "/model_final.safetensors", "--data", data,
                                  "--k", "1", "5", "--sigma", "0.1", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        #expect(rows.count == 4)
        #expect(rows.allSatisfy { ($0["n"] as! Int) == 12 && ($0["top1"] as! Double) <= ($0["top5"] as! Double) })
    }

    @Test func exportLabelsFromTrainingAndFromArgmax() throws {
        let (data, exp) = Self.workspace
        let checkpoint = try FileManager.default.contentsOfDirectory(atPath: exp + "/checkpoints")
            .first { $0.hasPrefix("checkpoint-") }!
        let out = exp + "/exported"
        var r = try runSelflabel(["export-labels", "--checkpoint", exp + "/checkpoints/" + checkpoint, "--data", data,
                                  "--from-training", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        // The stored Sinkhorn-Knopp labels equal the training run's final labels.
        let exported = try Data(contentsOf: URL(fileURLWithPath: out + ".npy"))
        let final = try Data(contentsOf: URL(fileURLWithPath: exp + "/labels.npy"))
        #expect(exported == final)
        let csv = try String(contentsOfFile: out + ".csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 61 && csv[0] == "path,head0,head1")
        r = try runSelflabel(["export-labels", "--checkpoint", exp + "/model_final.safetensors", "--data", data,
                              "--from-training", "--out", out])
        #expect(r.status != 0 && r.stderr.contains("needs a training checkpoint"), "\(r.stderr)")
        r = try runSelflabel(["export-labels", "--checkpoint", exp + "/model_final.safetensors", "--data", data, "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test func visualizeWritesAPageThatReferencesOnlyItsOwnFiles() throws {
        let (data, exp) = Self.workspace
        let out = exp + "/gallery"
        let r = try runSelflabel(["visualize", "--labels", exp + "/labels.npy", "--head", "1", "--data", data,
                                  "--out", out, "--clusters", "3", "--per-cluster", "4"])
        #expect(r.status == 0, "\(r.stderr)")
        let png = try Data(contentsOf: URL(fileURLWithPath: out + "/clusters.png"))
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let html = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        let sources = html.components(separatedBy: "src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(sources.count == 1 + 3 * 4)
        for s in sources {
            #expect(!s.contains("://") && FileManager.default.fileExists(atPath: out + "/" + s), "\(s)")
        }
    }

    @Test func linearProbesReportEveryTap() throws {
        let (data, exp) = Self.workspace
        let r = try runSelflabel(["eval", "linear", "--checkpoint", exp + "/model_final.safetensors", "--data", data,
                                  "--epochs", "1", "--probe-batch-size", "20", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        #expect(rows.map { $0["tap"] as! String }.last == "features")
        #expect(rows.allSatisfy { ($0["top1"] as! Double) <= ($0["top5"] as! Double) })
        let bad = try runSelflabel(["eval", "linear", "--checkpoint", exp + "/model_final.safetensors", "--data", data,
                                    "--taps", "conv9"])
        #expect(bad.status != 0 && bad.stderr.contains("--taps conv9 is not one of"), "\(bad.stderr)")
    }

    @Test func clusterMetricsFromACheckpointEqualThoseFromExportedLabels() throws {
        let (data, exp) = Self.workspace
        let model = exp + "/model_final.safetensors"
        let direct = try runSelflabel(["eval", "cluster", "--checkpoint", model, "--data", data, "--split", "train", "--json"])
        #expect(direct.status == 0, "\(direct.stderr)")
        // The same through files: argmax labels exported, true classes from the feature export.
        _ = try runSelflabel(["export-labels", "--checkpoint", model, "--data", data, "--out", exp + "/argmax"])
        _ = try runSelflabel(["features", "--checkpoint", model, "--data", data, "--split", "train", "--out", exp + "/f.npy"])
        let viaFiles = try runSelflabel(["eval", "cluster", "--labels", exp + "/argmax.npy", "--targets",
                                         exp + "/f-targets.npy", "--json"])
        #expect(viaFiles.status == 0 && viaFiles.stdout == direct.stdout, "\(viaFiles.stderr)")
        let both = try runSelflabel(["eval", "cluster", "--checkpoint", model, "--labels", exp + "/argmax.npy"])
        #expect(both.status != 0 && both.stderr.contains("give either --labels (with --targets, or with the train split of --data as the truth), or --checkpoint"))
    }
}
