import Foundation
import Interop
import TestSupport
import Testing

/// The stored state of the checkpoint at `path` (its `selflabel.state` JSON).
func checkpointState(_ path: String) throws -> [String: Any] {
    let state = try #require(try SafetensorsArchive(contentsOf: path).metadata["selflabel.state"])
    return try #require(try JSONSerialization.jsonObject(with: Data(state.utf8)) as? [String: Any])
}

/// Every file under `dir` whose name holds ".tmp-" (a temporary file of an atomic write).
func temporaryFiles(under dir: String) -> [String] {
    (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).filter { $0.contains(".tmp-") }
}

/// A temporary folder with tiny CIFAR data in `data/`, the arguments of a 3-epoch tiny run on it (no `--exp`),
/// and the final weights and labels of that run uninterrupted (in `reference/`).
func uninterruptedTinyRun(_ tag: String) throws -> (root: String, arguments: [String], reference: (weights: Data, labels: Data)) {
    let root = try temporaryFolder(tag)
    let data = root + "/data"
    try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
    try writeTinyCIFAR10(data)
    let arguments = ["train", "--data", data, "--epochs", "3"] + TrainingProcess.tiny
    return (root, arguments, try referenceOutputs(arguments, exp: root + "/reference"))
}

extension TrainSignalTests {
    /// SIGINT and SIGTERM mid-epoch (held after step 13 of 30), during a label optimisation (held in the
    /// network pass of optimisation 2) and after an epoch's last step (step 9: the checkpoint is at batch 10 of
    /// 10, which a resume refused as out of range before): the run writes a checkpoint and exits with 128 + the
    /// signal; `--resume` then ends with final weights and labels byte-identical to an uninterrupted run's.
    @Test(arguments: [(SIGINT, "iteration:13"), (SIGTERM, "iteration:13"), (SIGINT, "label-pass:2"),
                      (SIGTERM, "label-pass:2"), (SIGINT, "iteration:9")])
    func signalThenExactResume(_ signal: Int32, _ pause: String) throws {
        let (root, arguments, reference) = try uninterruptedTinyRun("signal-exact")
        defer { try? FileManager.default.removeItem(atPath: root) }

        let exp = root + "/exp"
        let run = try TrainingProcess(arguments + ["--exp", exp], pause: pause, log: root + "/stderr.txt")
        let seen = try run.signalAtPause(signal)
        #expect(run.process.terminationReason == .exit && run.process.terminationStatus == 128 + signal,
                "\(pause): exit \(run.process.terminationStatus); stderr: \(seen)")
        let folder = exp + "/checkpoints"
        let stopped = try #require(seen.split(separator: "\n").last { $0.hasPrefix("stopped at") }, "stderr: \(seen)")
        let path = try #require(try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasPrefix("checkpoint-e") }.sorted().last.map { folder + "/" + $0 })
        #expect(stopped.contains(path), "\(stopped)")
        let state = try checkpointState(path)
        #expect(state["reason"] as? String == "interrupted")
        if pause.hasPrefix("label-pass") {
            // The pass was cut short: the state from before the optimisation, which is still due.
            #expect(state["labelOptimisations"] as? Int == 1, "\(state)")
        }
        #expect(!FileManager.default.fileExists(atPath: exp + "/model_final.safetensors"))

        let resumed = try runSelflabel(["train", "--exp", exp, "--resume"])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        let outputs = try finalOutputs(exp)
        #expect(outputs.weights == reference.weights, "\(pause): final weights differ from the uninterrupted run's")
        #expect(outputs.labels == reference.labels, "\(pause): labels differ from the uninterrupted run's")
    }
}

/// Faults while checkpoints are written (issue 12 §3): a kill in the middle of the write, and a full disk.
@Suite struct TrainFaultTests {
    /// SIGKILL while the checkpoint of epoch 2 is half written (held there by `SELFLABEL_DEBUG_PAUSE`): the
    /// previous checkpoint is intact and is what `--resume` loads; the temporary file is removed; the final
    /// weights and labels are byte-identical to an uninterrupted run's.
    @Test func killDuringCheckpointWrite() throws {
        let (root, arguments, reference) = try uninterruptedTinyRun("kill-write")
        defer { try? FileManager.default.removeItem(atPath: root) }

        let exp = root + "/exp", folder = exp + "/checkpoints"
        let run = try TrainingProcess(arguments + ["--exp", exp], pause: "write:checkpoint-e0002",
                                      log: root + "/stderr.txt")
        _ = try run.signalAtPause(SIGKILL)
        #expect(run.process.terminationReason == .uncaughtSignal && run.process.terminationStatus == SIGKILL)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(!names.contains("checkpoint-e0002-b000000.safetensors"), "\(names)")
        #expect(temporaryFiles(under: folder).count == 1, "\(names)")
        let previous = folder + "/checkpoint-e0001-b000000.safetensors"
        let state = try checkpointState(previous)
        #expect(state["epoch"] as? Int == 1 && state["batch"] as? Int == 0, "\(state)")

        let resumed = try runSelflabel(["train", "--exp", exp, "--resume"])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming from \(previous)") && resumed.stderr.contains("a temporary file left"),
                "stderr: \(resumed.stderr)")
        #expect(temporaryFiles(under: exp).isEmpty)
        let outputs = try finalOutputs(exp)
        #expect(outputs.weights == reference.weights && outputs.labels == reference.labels,
                "the resumed run's final weights or labels differ from the uninterrupted run's")
    }

    /// A full disk, as a file-size limit (`ulimit -f`, 3 MB: the 2.5 MB weights fit, a 5 MB checkpoint does
    /// not; SIGXFSZ is ignored so the write fails with EFBIG): the resumed run stops with one line naming the
    /// checkpoint, exit 1, no signal; the earlier checkpoints are unchanged and no temporary file is left; a
    /// later `--resume` with room finishes byte-identical to an uninterrupted run.
    @Test func diskFullDuringCheckpointWrite() throws {
        let (root, arguments, reference) = try uninterruptedTinyRun("disk-full")
        defer { try? FileManager.default.removeItem(atPath: root) }

        let exp = root + "/exp", folder = exp + "/checkpoints"
        let first = try TrainingProcess(arguments + ["--exp", exp], pause: "iteration:12", log: root + "/first.txt")
        _ = try first.signalAtPause(SIGINT)
        #expect(first.process.terminationStatus == 128 + SIGINT, "stderr: \(first.stderr)")
        let before = fileSnapshot(folder)
        #expect(before.keys.contains("checkpoint-e0001-b000003.safetensors"), "\(before.keys.sorted())")

        let full = try TrainingProcess(["train", "--exp", exp, "--resume"], fileSizeLimitKiB: 3000,
                                       log: root + "/full.txt")
        let seen = full.finish()
        #expect(full.process.terminationReason == .exit && full.process.terminationStatus == 1, "stderr: \(seen)")
        let last = seen.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last == "Error: cannot write '\(folder)/checkpoint-e0002-b000000.safetensors': File too large",
                "stderr: \(seen)")
        #expect(fileSnapshot(folder) == before, "the checkpoints changed")
        #expect(temporaryFiles(under: exp).isEmpty, "\(temporaryFiles(under: exp))")

        let resumed = try runSelflabel(["train", "--exp", exp, "--resume"])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        let outputs = try finalOutputs(exp)
        #expect(outputs.weights == reference.weights && outputs.labels == reference.labels,
                "the resumed run's final weights or labels differ from the uninterrupted run's")
    }
}
