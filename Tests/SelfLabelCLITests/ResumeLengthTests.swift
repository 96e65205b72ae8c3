import Foundation
import TestSupport
import Testing

/// `--resume` with a new `--epochs`, `--resume PATH`, and what `--epochs` counts.
@Suite struct ResumeLengthTests {
    /// The tiny run with 6 label optimisations (quadratic spacing: N = 100, batches of 10, 10 per epoch).
    static let arguments = TrainingProcess.tiny.replacing(["--nopts", "3"], with: ["--nopts", "6"])

    /// A finished tiny run of `epochs` epochs in `root/exp`, on the tiny data set in `root/data`.
    static func finishedRun(_ tag: String, epochs: Int) throws -> (root: String, data: String, exp: String) {
        let (root, data) = try tinyDataRoot(tag)
        let r = try runSelflabel(["train", "--data", data, "--exp", root + "/exp", "--epochs", "\(epochs)"] + arguments)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        return (root, data, root + "/exp")
    }

    /// `exp`'s summary.json.
    static func summary(_ exp: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: exp + "/summary.json"))) as? [String: Any])
    }

    /// The records of `exp`'s metrics.jsonl.
    static func metrics(_ exp: String) throws -> [[String: Any]] {
        try String(contentsOfFile: exp + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static func values(_ records: [[String: Any]], kind: String, _ key: String) -> [Int] {
        records.filter { $0["kind"] as? String == kind && ($0["head"] as? Int ?? 0) == 0 }.compactMap { $0[key] as? Int }
    }

    /// The official quadratic times (main.py: `(E + 1.01) · N · linspace(0, 1, nopts)²`), written out plainly.
    static func officialTimes(epochs: Int, samples: Int, nopts: Int) -> [Double] {
        (0..<nopts).map { i in
            let x = i == nopts - 1 ? 1.0 : Double(i) * (1.0 / Double(nopts - 1))
            return (Double(epochs) + 1.01) * Double(samples) * x * x
        }
    }

    /// The iterations at which an uninterrupted official loop over `iterations` takes `times` (main.py: before
    /// iteration `niter`, pop the next time when `niter · batch_size ≥` it; at most one per iteration).
    static func firings(_ times: [Double], iterations: Range<Int>, batchSize: Int) -> [Int] {
        var queue = times, fired: [Int] = []
        for niter in iterations where !queue.isEmpty && Double(niter * batchSize) >= queue[0] {
            queue.removeFirst()
            fired.append(niter)
        }
        return fired
    }

    /// A finished 2-epoch run resumed with `--epochs 5` runs epochs 2…4 only; its label optimisations before
    /// iteration 20 are the 2-epoch schedule's, and after it the 5-epoch schedule's times no earlier iteration
    /// reached — computed here from main.py's formula, not from the program's schedule. The metrics continue
    /// without gaps or repeats.
    @Test func aLargerEpochsContinuesToTheNewEnd() throws {
        let (root, data, exp) = try Self.finishedRun("cli-extend", epochs: 2)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let before = try Self.metrics(exp)
        let extended = try runSelflabel(["train", "--data", data, "--exp", exp, "--epochs", "5", "--resume"])
        #expect(extended.status == 0, "stderr: \(extended.stderr)")
        #expect(extended.stderr.contains("--epochs 5: the run now ends after epoch 4 (was 1)"), "stderr: \(extended.stderr)")

        let records = try Self.metrics(exp)
        #expect(Self.values(records, kind: "epoch", "epoch") == [0, 1, 2, 3, 4])
        #expect(Self.values(records, kind: "train", "iteration") == Array(0..<50))
        let firstPart = Self.firings(Self.officialTimes(epochs: 2, samples: 100, nopts: 6), iterations: 0..<20, batchSize: 10)
        let resumed = Self.officialTimes(epochs: 5, samples: 100, nopts: 6).filter { $0 > Double((20 - 1) * 10) }
        let secondPart = Self.firings(resumed, iterations: 20..<50, batchSize: 10)
        #expect(firstPart == [0, 2, 5, 11] && secondPart == [22, 39], "the reference itself: \(firstPart) \(secondPart)")
        #expect(Self.values(records, kind: "labels", "iteration") == firstPart + secondPart)
        #expect(Self.values(records, kind: "labels", "optimisation") == Array(0..<6))
        // The finished part's records are kept as they were.
        #expect(NSArray(array: Array(records.prefix(before.count))).isEqual(to: before))
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: exp + "/checkpoints")
        #expect(checkpoints.contains("checkpoint-e0005-b000000.safetensors"), "\(checkpoints)")
        let summary = try Self.summary(exp)
        #expect(summary["epochs"] as? Int == 5 && summary["iterations"] as? Int == 50, "\(summary)")
    }

    /// Settings that would change the finished part are refused, each saying why; so is an end before the
    /// epochs already trained. A refused resume changes nothing in the folder.
    @Test func refusals() throws {
        let (root, data, exp) = try Self.finishedRun("cli-extend-refused", epochs: 2)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = fileSnapshot(exp)
        for (arguments, message) in [
            (["--epochs", "1"], "--epochs 1 is fewer than the 2 epochs the resumed run ("),
            (["--batch-size", "20"], "--batch-size 20 differs from the resumed run's 10: the finished iterations, the checkpoint's position and the label schedule count batches of that size"),
            (["--nopts", "9"], "--nopts 9 differs from the resumed run's 6: the label optimisations done so far were placed by it"),
            (["--seed", "7"], "--seed 7 differs from the resumed run's 42: the initial weights and labels"),
            (["--ncl", "5"], "--ncl 5 differs from the resumed run's 4: the checkpoint's network and labels were built for it"),
        ] {
            let r = try runSelflabel(["train", "--data", data, "--resume", exp] + arguments)  // the folder as PATH
            #expect(r.status != 0)
            #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
        }
        #expect(fileSnapshot(exp) == files)
    }

    /// `--resume PATH`: an experiment's checkpoints folder (relative, without `--exp`); an earlier checkpoint file
    /// of the folder (the later regular checkpoints are moved aside, and the result is the same bit for bit);
    /// a copied checkpoint file, which needs `--exp` naming a folder without a run.
    @Test func resumeFromAPath() throws {
        let (root, _, exp) = try Self.finishedRun("cli-resume-path", epochs: 2)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let endOfEpoch1 = exp + "/checkpoints/checkpoint-e0002-b000000.safetensors"
        let copy = root + "/copied.safetensors"
        try FileManager.default.copyItem(atPath: endOfEpoch1, toPath: copy)

        let byFolder = try runSelflabel(["train", "--resume", "exp/checkpoints", "--epochs", "3"], directory: root)
        #expect(byFolder.status == 0, "stderr: \(byFolder.stderr)")
        #expect(byFolder.stderr.contains("resuming from exp/checkpoints/checkpoint-e0002-b000000.safetensors"),
                "stderr: \(byFolder.stderr)")
        let extended = try finalOutputs(exp)

        // Again from the end of epoch 1: a refused resume moves nothing; a good one moves the later regular
        // checkpoint aside, runs epoch 2 again and gives the same weights and labels.
        let files = fileSnapshot(exp)
        for refusal in [["--lr", "0.5"], ["--epochs", "1"]] {
            let refused = try runSelflabel(["train", "--resume", endOfEpoch1] + refusal)
            #expect(refused.status != 0, "stderr: \(refused.stderr)")
            #expect(fileSnapshot(exp) == files, "\(refusal) changed the folder")
        }
        try FileManager.default.removeItem(atPath: exp + "/model_final.safetensors")
        let byFile = try runSelflabel(["train", "--resume", endOfEpoch1, "--epochs", "3"])
        #expect(byFile.status == 0, "stderr: \(byFile.stderr)")
        #expect(byFile.stderr.contains("moved the regular checkpoints after \(endOfEpoch1) to \(exp)/checkpoints/superseded-1"),
                "stderr: \(byFile.stderr)")
        #expect(FileManager.default.fileExists(atPath: exp + "/checkpoints/superseded-1/checkpoint-e0003-b000000.safetensors"))
        #expect(try finalOutputs(exp) == extended)

        // A checkpoint outside any experiment folder: --exp names where to continue.
        let outside = try runSelflabel(["train", "--resume", copy, "--epochs", "3"])
        #expect(outside.status != 0)
        #expect(outside.stderr.contains("--resume \(copy): lies outside an experiment's checkpoints/ folder"), "stderr: \(outside.stderr)")
        let branched = try runSelflabel(["train", "--resume", copy, "--epochs", "3", "--exp", root + "/branch"])
        #expect(branched.status == 0, "stderr: \(branched.stderr)")
        #expect(try finalOutputs(root + "/branch") == extended)
        // Into a folder that holds a run: refused as for a fresh run; --overwrite only means something there.
        let occupied = try runSelflabel(["train", "--resume", copy, "--exp", exp])
        #expect(occupied.status != 0 && occupied.stderr.contains("already holds a training run"), "stderr: \(occupied.stderr)")
        let own = try runSelflabel(["train", "--resume", endOfEpoch1, "--overwrite"])
        #expect(own.status != 0 && own.stderr.contains("--overwrite applies only when continuing into another --exp"),
                "stderr: \(own.stderr)")
        let bare = try runSelflabel(["train", "--exp", exp, "--resume", "--overwrite"])
        #expect(bare.status != 0 && bare.stderr.contains("cannot be combined with a bare --resume"), "stderr: \(bare.stderr)")
    }

    /// A `--resume PATH` that is neither a checkpoint nor an experiment folder: one line naming it and what it is.
    @Test func resumePathThatIsNeither() throws {
        let root = try temporaryFolder("cli-resume-neither")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "not a checkpoint".write(toFile: root + "/notes.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/plain", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/exp/checkpoints", withIntermediateDirectories: true)
        for (path, message) in [
            (root + "/missing", "no such file or folder"),
            (root + "/notes.txt", "is neither a SelfLabel checkpoint nor an experiment folder"),
            (root + "/plain", "is a folder but not an experiment folder (no checkpoints/ in it)"),
        ] {
            let r = try runSelflabel(["train", "--resume", path])
            #expect(r.status != 0)
            #expect(r.stderr.contains("--resume \(path): \(message)"), "stderr: \(r.stderr)")
        }
        let empty = try runSelflabel(["train", "--resume", root + "/exp"])
        #expect(empty.status != 0 && empty.stderr.contains("--resume: no checkpoint found in \(root)/exp/checkpoints"),
                "stderr: \(empty.stderr)")
    }

    /// `--epochs E` trains exactly E epochs, 0…E−1, as cifar.py (main.py's loop runs one more, epoch E; see
    /// docs/OFFICIAL.md): the epoch records, the iterations, the last checkpoint and summary.json say so.
    @Test func epochsCountsTheEpochsTrained() throws {
        let (root, _, exp) = try Self.finishedRun("cli-epoch-count", epochs: 2)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let records = try Self.metrics(exp)
        #expect(Self.values(records, kind: "epoch", "epoch") == [0, 1])
        #expect(Self.values(records, kind: "train", "iteration") == Array(0..<20))
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: exp + "/checkpoints").filter { $0.hasPrefix("checkpoint-") }
        #expect(checkpoints.sorted().last == "checkpoint-e0002-b000000.safetensors", "\(checkpoints)")
        let summary = try Self.summary(exp)
        #expect(summary["epochs"] as? Int == 2 && summary["iterations"] as? Int == 20, "\(summary)")
    }
}
