import DataPipeline
import Foundation
import SelfLabelling
import selflabel
import TestSupport
import Testing

@Suite struct HueSettingTests {
    @Test("--hue sets the colour jitter's hue range of full at native and ImageNet sizes; unset it is the official 0.4")
    func hueReachesTheTransforms() throws {
        let (_, data) = try tinyDataRoot("hue-setting")
        let train = try DatasetLocator.open(data, split: .train)
        func jitterHues(_ extra: [String]) throws -> [Double] {
            var c = try TrainCommand.parse(["--data", data, "--arch", "convnet_tiny"] + extra).resolvedConfiguration()
            c = try c.resolvingInput(train: train, threads: 1)
            return c.transforms.train.steps.compactMap { step in
                if case let .colorJitter(_, _, _, hue) = step { return hue } else { return nil }
            }
        }
        #expect(try jitterHues([]) == [0.4])
        #expect(try jitterHues(["--hue", "0"]) == [0])
        #expect(try jitterHues(["--hue", "0.25", "--crop-size", "96"]) == [0.25])  // the ImageNet-style full
        #expect(try jitterHues(["--hue", "0", "--augs", "crop_flip"]) == [])
        // The pseudo-label and evaluation transforms never jitter.
        var c = try TrainCommand.parse(["--data", data, "--arch", "convnet_tiny", "--hue", "0.1", "--paugs", "full"])
            .resolvedConfiguration()
        c = try c.resolvingInput(train: train, threads: 1)
        #expect(c.transforms.pseudo.steps.contains(.colorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1)))
        #expect(!c.transforms.evaluation.steps.contains { if case .colorJitter = $0 { true } else { false } })
    }

    @Test("--hue outside torchvision's [0, 0.5] is refused naming the option")
    func hueOutOfRange() throws {
        var c = TrainingConfiguration()
        c.hue = 0.6
        #expect(throws: TrainingConfigurationError(option: "--hue", value: "0.6",
                                                    rule: "must be in [0, 0.5] (torchvision's range)")) { try c.validate() }
        c.hue = 0.5
        try c.validate()
    }
}

@Suite struct BenchSelaCommandTests {
    @Test("bench sela --data runs on a data folder and compares the trained network with its random initialisation on its held-out split")
    func folderRun() throws {
        let (root, data) = try tinyDataRoot("bench-sela-folder")
        let r = try runSelflabel(["bench", "sela", "--data", data, "--epochs", "1", "--hc", "2", "--ncl", "4",
                                  "--nopts", "2", "--batch-size", "25", "--threads", "1", "--workers", "1",
                                  "--hue", "0", "--augs", "full", "--exp", root + "/exp"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let line = try #require(r.stdout.split(separator: "\n").last.map(String.init))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(json["data"] as? String == "folder:" + data)
        #expect(json["hue"] as? Double == 0 && json["augs"] as? String == "full")
        #expect(json["hc"] as? Int == 2 && json["ncl"] as? Int == 4 && json["label_optimisations"] as? Int == 1)
        for key in ["nmi_head0", "knn_top1", "nmi_head0_random_init", "knn_top1_random_init"] {
            let v = try #require(json[key] as? Double, "\(key) missing in \(line)")
            #expect(v >= 0 && v <= 1, "\(key) = \(v)")
        }
        // The run's own record agrees: the folder's 20 held-out images were scored.
        let summary = try String(contentsOfFile: root + "/exp/summary.json", encoding: .utf8)
        #expect(summary.contains("\"random_init\"") && summary.contains("\"nmi\""), "summary.json: \(summary)")
    }

    @Test("bench sela refuses an unknown --augs and a --hue outside [0, 0.5] with one line")
    func refusals() throws {
        let a = try runSelflabel(["bench", "sela", "--augs", "sparkle"])
        #expect(a.status != 0 && a.stderr.contains("--augs sparkle"), "stderr: \(a.stderr)")
        let h = try runSelflabel(["bench", "sela", "--hue", "0.7", "--epochs", "1"])
        #expect(h.status != 0 && h.stderr.contains("--hue 0.7"), "stderr: \(h.stderr)")
    }
}
