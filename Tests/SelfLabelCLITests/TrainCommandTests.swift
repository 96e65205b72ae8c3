import Foundation
import TestSupport
import Testing

@Suite struct TrainCommandTests {
    /// Each invalid option fails at parse time with one line naming it, and a non-zero exit.
    @Test(arguments: [
        (["--epochs", "0"], "--epochs 0 must be at least 1"),
        (["--ncl", "1"], "--ncl 1 must be at least 2"),
        (["--lamb=-2"], "--lamb -2.0 must be a positive number"),
        (["--augs", "5"], "--augs 5 must be 0, 1, 2, 3, crop or cifar"),
        (["--channels", "2"], "--channels 2 must be 1 (grey), 3 (RGB) or 0 (from the data)"),
        (["--normalization", "0.5/0"], "--normalization 0.5/0 must be auto, dataset, cifar, imagenet, mnist or"),
        (["--sk-storage", "f8"], "--sk-storage f8 must be f32, bf16 or f16"),
        (["--dtype", "f16"], "--dtype f16 must be f32 or f64"),
        (["--arch", "vgg"], "--arch vgg must be alexnet, alexnet_small, alexnet_cifar,"),
        (["--schedule", "cubic"], "--schedule cubic must be quadratic or linear"),
        (["--preset", "mnist"], "--preset mnist must be cifar, imagenet or rotnet"),
        (["--dtype", "f64", "--sk-storage", "bf16"], "--sk-storage bf16 needs --dtype f32"),
        (["--momentum", "1"], "--momentum 1.0 must be in [0, 1)"),
        (["--lr", "nan"], "--lr nan must be a finite number"),
    ])
    func invalidOption(_ arguments: [String], _ message: String) throws {
        let r = try runSelflabel(["train"] + arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
    }

    @Test func ncLargerThanTheDataSetIsRefused() throws {
        let exp = try temporaryFolder("cli-ncl")
        let r = try runSelflabel(["train", "--exp", exp, "--ncl", "6000", "--epochs", "1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--ncl 6000 is larger than the number of training images (5000)"), "stderr: \(r.stderr)")
    }

    @Test func unrecognisedDataFolderListsWhatWasLookedFor() throws {
        let dir = try temporaryFolder("cli-empty")
        let r = try runSelflabel(["train", "--data", dir, "--exp", dir + "/exp"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("no data set recognised") && r.stderr.contains("data_batch_1.bin"), "stderr: \(r.stderr)")
    }

    @Test func resumeWithoutCheckpointSaysSo() throws {
        let exp = try temporaryFolder("cli-resume")
        let r = try runSelflabel(["train", "--exp", exp, "--resume"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("no checkpoint found"), "stderr: \(r.stderr)")
    }
}

/// A fresh temporary folder `root` holding `root/data`, a `writeTinyCIFAR10` data set (20 records per file).
func tinyDataRoot(_ tag: String) throws -> (root: String, data: String) {
    let root = try temporaryFolder(tag)
    let data = root + "/data"
    try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
    try writeTinyCIFAR10(data)
    return (root, data)
}

/// A tiny CIFAR-10-binary data set of random pixels (or, with `constantPixels`, every pixel 128: identical
/// images): 5 training files of `perFile` records and a test file.
func writeTinyCIFAR10(_ dir: String, perFile: Int = 20, seed: UInt64 = 1, constantPixels: Bool = false) throws {
    var state = seed
    func byte() -> UInt8 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
    for name in (1...5).map({ "data_batch_\($0).bin" }) + ["test_batch.bin"] {
        var bytes: [UInt8] = []
        for r in 0..<perFile {
            bytes.append(UInt8(r % 10))
            for _ in 0..<3072 { bytes.append(constantPixels ? 128 : byte()) }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
    }
}

@Suite struct TrainSignalTests {
    /// SIGINT during training writes a checkpoint, says how to resume and exits with 128 + 2; `--resume` then
    /// finishes the run, and a changed setting on resume is refused. The signal arrives while the run is held
    /// at iteration 2 by the `SELFLABEL_DEBUG_PAUSE` knob, so nothing depends on timing.
    @Test func interruptThenResume() throws {
        let data = try temporaryFolder("cli-data")
        try writeTinyCIFAR10(data)
        let exp = try temporaryFolder("cli-sigint")
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: exp) }
        let run = try TrainingProcess(["train", "--data", data, "--exp", exp, "--epochs", "3"] + TrainingProcess.tiny,
                                      pause: "iteration:2", log: exp + "-stderr.txt")
        defer { try? FileManager.default.removeItem(atPath: exp + "-stderr.txt") }
        let seen = try run.signalAtPause(SIGINT)
        #expect(run.process.terminationStatus == 128 + SIGINT, "exit status \(run.process.terminationStatus); stderr: \(seen)")
        #expect(seen.contains("selflabel train --data \(data) --exp \(exp) --resume"), "stderr: \(seen)")
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: exp + "/checkpoints")
        #expect(checkpoints.contains("checkpoint-e0000-b000003.safetensors"), "checkpoints: \(checkpoints)")
        #expect(!FileManager.default.fileExists(atPath: exp + "/labels.npy"))

        let changed = try runSelflabel(["train", "--data", data, "--exp", exp, "--resume", "--lr", "0.5"])
        #expect(changed.status != 0)
        #expect(changed.stderr.contains("--lr 0.5 differs from the resumed run's 0.08: the finished epochs were trained with it"),
                "stderr: \(changed.stderr)")

        let resumed = try runSelflabel(["train", "--data", data, "--exp", exp, "--resume", "--workers", "2"])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        #expect(FileManager.default.fileExists(atPath: exp + "/labels.npy"))
        #expect(FileManager.default.fileExists(atPath: exp + "/labels.csv"))
    }
}
