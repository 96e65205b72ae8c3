import Foundation
import Interop
import TestSupport
import Testing

/// `train --pl-mode official` (main.py's pseudo-label pass: training mode over the shuffled, augmented training
/// loader) next to the default `--pl-mode eval`.
@Suite struct PseudoLabelPassModeTests {
    /// An official-mode run completes, records its mode, and is not the eval-mode run: its passes update the
    /// batch-norm running statistics (so the final running mean differs even where labels might agree).
    @Test("--pl-mode official trains end to end, differs from --pl-mode eval and stores its mode")
    func officialRunsEndToEnd() throws {
        let (root, data) = try tinyDataRoot("pl-mode")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let arguments = ["train", "--data", data, "--epochs", "2"] + TrainingProcess.tiny + ["--hc", "2"]
        let official = try runSelflabel(arguments + ["--exp", root + "/official", "--pl-mode", "official"])
        try #require(official.status == 0, "\(official.stderr)")
        let eval = try runSelflabel(arguments + ["--exp", root + "/eval"])
        try #require(eval.status == 0, "\(eval.stderr)")
        let a = try finalOutputs(root + "/official"), b = try finalOutputs(root + "/eval")
        #expect(a.weights != b.weights, "the official pass changed nothing")
        let labels = try NpyArray(contentsOf: root + "/official/labels.npy")
        #expect(labels.shape == [2, 100])
        let folder = root + "/official/checkpoints"
        let last = try #require(try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasPrefix("checkpoint-e") }.sorted().last)
        let configuration = try #require(try checkpointState(folder + "/" + last)["configuration"] as? [String: Any])
        #expect(configuration["plMode"] as? String == "official")
    }

    /// A stop during an official pass (which updates running statistics as it goes) restores them: the resumed
    /// run ends byte-identical to the uninterrupted one (seeded shuffling and dropout make the pass repeatable).
    @Test("a stop in an official pass leaves the running statistics as before it: the resume is exact")
    func stopInOfficialPassResumesExactly() throws {
        let (root, data) = try tinyDataRoot("pl-mode-stop")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let arguments = ["train", "--data", data, "--epochs", "3", "--pl-mode", "official"] + TrainingProcess.tiny
        let reference = try referenceOutputs(arguments, exp: root + "/reference")
        let exp = root + "/exp"
        let run = try TrainingProcess(arguments + ["--exp", exp], pause: "label-pass:2", log: root + "/stderr.txt")
        let seen = try run.signalAtPause(SIGINT)
        #expect(run.process.terminationStatus == 128 + SIGINT, "\(seen)")
        let resumed = try runSelflabel(["train", "--exp", exp, "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let outputs = try finalOutputs(exp)
        #expect(outputs.weights == reference.weights, "final weights differ from the uninterrupted run's")
        #expect(outputs.labels == reference.labels, "labels differ from the uninterrupted run's")
    }

    @Test("--paugs with --pl-mode official is refused: that pass uses the training transform")
    func paugsOnlyInEvalMode() throws {
        let r = try runSelflabel(["train", "--pl-mode", "official", "--paugs", "1", "--exp", "/nonexistent/never"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--paugs") && r.stderr.contains("--pl-mode eval only"), "\(r.stderr)")
    }
}
