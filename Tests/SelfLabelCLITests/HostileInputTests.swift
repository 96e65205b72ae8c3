import DataPipeline
import Foundation
import Interop
import TestSupport
import Testing

/// Every CLI command that reads files, run as a subprocess of the built binary on every applicable item of the
/// hostile corpus (Fixtures/hostile, made by scripts/fixtures/make_hostile_corpus.py) and on checkpoints made
/// inconsistent at test time from a freshly trained one. For each run: no signal death; a non-zero exit with one
/// line naming the file, or exit 0 where skipping is the documented behaviour (corrupt images); no pre-existing
/// output modified; no partial output left behind.
@Suite struct HostileInputTests {
    struct Item: Decodable { let file: String; let kind: String; let expect: String; let what: String; let uses: [String]? }
    struct Manifest: Decodable { let items: [Item] }

    enum Expect: String { case error, skip, ok }

    /// One command on one hostile file.
    struct Case {
        var command: String
        var arguments: [String]
        /// The hostile file (its name must appear in the message).
        var file: String
        var expect: Expect
        /// Folder holding every output path the command may write; pre-existing files in it are sentinels.
        var outputFolder: String
        /// Extra check on a successful run (nil: fine).
        var onSuccess: ((CommandResult) -> String?)? = nil
    }

    static let corpus = Bundle.module.resourcePath! + "/Fixtures/hostile"
    static let sentinel = Data("pre-existing output: must not change\n".utf8)

    static func items() throws -> [Item] {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: corpus + "/manifest.json"))).items
    }

    /// A fresh output folder holding sentinel files at the given names.
    static func outputs(_ names: [String]) -> String {
        let dir = try! temporaryFolder("hostile-out")
        for n in names {
            let p = dir + "/" + n
            try! FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent,
                                                     withIntermediateDirectories: true)
            try! sentinel.write(to: URL(fileURLWithPath: p))
        }
        return dir
    }

    /// Runs one case; returns its outcome class, or a problem description.
    static func run(_ c: Case) -> Result<String, Failure> {
        let before = fileSnapshot(c.outputFolder)
        let r: CommandResult
        do { r = try runSelflabel(c.arguments) } catch { return .failure(Failure("could not start: \(error)")) }
        let name = (c.file as NSString).lastPathComponent
        let where_ = "\(c.arguments.joined(separator: " ")): "
        if r.signalled { return .failure(Failure(where_ + "killed by signal \(r.status)\n\(r.stderr.suffix(600))")) }
        let after = fileSnapshot(c.outputFolder)
        let lines = r.stderr.split(separator: "\n").map(String.init).filter {
            !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See '") && !$0.trimmingCharacters(in: .whitespaces).isEmpty
        }
        switch c.expect {
        case .error:
            guard r.status != 0 else { return .failure(Failure(where_ + "exit 0 on a bad file\n\(r.stderr)")) }
            // Progress lines ("resuming from …") may precede it; the error itself is one line.
            let errors = lines.filter { $0.hasPrefix("Error:") }
            guard errors.count == 1, errors[0].contains(name) else {
                return .failure(Failure(where_ + "expected one line naming \(name), got:\n\(r.stderr)"))
            }
            guard after == before else {
                let changed = Set(after.keys).symmetricDifference(before.keys).union(before.keys.filter { after[$0] != before[$0] })
                return .failure(Failure(where_ + "outputs changed or left behind: \(changed.sorted())"))
            }
            return .success("error: exit \(r.status), one line naming the file")
        case .skip, .ok:
            guard r.status == 0 else { return .failure(Failure(where_ + "exit \(r.status)\n\(r.stderr)")) }
            let naming = lines.filter { $0.contains(name) }
            if c.expect == .skip, naming.isEmpty {
                return .failure(Failure(where_ + "the skipped file \(name) is not named:\n\(r.stderr)"))
            }
            if c.expect == .ok, !naming.isEmpty {
                return .failure(Failure(where_ + "a good file \(name) was warned about:\n\(r.stderr)"))
            }
            if let problem = c.onSuccess?(r) { return .failure(Failure(where_ + problem)) }
            return .success(c.expect == .skip ? "exit 0, file skipped with a warning naming it" : "exit 0, file decoded")
        }
    }

    struct Failure: Error { let text: String; init(_ t: String) { text = t } }

    /// Work queue and tallies shared by the runner threads.
    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private let cases: [Case]
        private var position = 0
        var outcomes: [String: Int] = [:], failures: [String] = [], perCommand: [String: Int] = [:]
        init(_ cases: [Case]) { self.cases = cases }
        func next() -> Case? {
            lock.lock(); defer { lock.unlock() }
            guard position < cases.count else { return nil }
            position += 1
            return cases[position - 1]
        }
        func record(_ command: String, _ result: Result<String, Failure>) {
            lock.lock(); defer { lock.unlock() }
            perCommand[command, default: 0] += 1
            switch result {
            case .success(let s): outcomes[s, default: 0] += 1
            case .failure(let f): failures.append(f.text)
            }
        }
    }

    /// The number of rows of a features `.npy` written by a case.
    static func rows(_ path: String) -> Int? { (try? NpyArray(contentsOf: path))?.shape.first }

    /// An image folder root/train/a with `good` CIFAR JPEGs plus `extra` (named as in the corpus), and root/val/a.
    static func imageFolder(good: Int, extra: [String]) throws -> String {
        let root = try temporaryFolder("hostile-images")
        let pack = try EmbeddedCIFAR10.train
        for split in ["train", "val"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(split)/a", withIntermediateDirectories: true)
            for i in 0..<(split == "train" ? good : 2) {
                try Data(pack.encodedBytes(at: i * 7)).write(to: URL(fileURLWithPath: "\(root)/\(split)/a/good\(i).jpg"))
            }
        }
        for f in extra { try FileManager.default.copyItem(atPath: corpus + "/" + f, toPath: "\(root)/train/a/\(f)") }
        return root
    }

    /// Cases for the committed corpus.
    static func corpusCases(model: String, data: String) throws -> [Case] {
        let good = try temporaryFolder("hostile-good")
        let goodLabels = good + "/labels.npy", goodTargets = good + "/targets.npy"
        try Npy.write((0..<20).map { Int64($0 % 5) }, shape: [20], to: goodLabels)
        try Npy.write((0..<20).map { Int64($0 % 4) }, shape: [20], to: goodTargets)
        var cases: [Case] = []
        for item in try items() {
            let f = corpus + "/" + item.file
            let expect = Expect(rawValue: item.expect)!
            switch item.kind {
            case "npy":
                let uses = Set(item.uses ?? ["logits", "labels", "targets"])
                if uses.contains("logits") {
                    let o = outputs(["labels.npy", "report.json"])
                    cases.append(Case(command: "label", arguments: ["label", "--logits", f, "--out", o + "/labels.npy",
                                                                    "--report", o + "/report.json"],
                                      file: f, expect: expect, outputFolder: o))
                }
                if uses.contains("labels") {
                    cases.append(Case(command: "eval cluster --labels", arguments: ["eval", "cluster", "--labels", f, "--targets", goodTargets],
                                      file: f, expect: expect, outputFolder: outputs([])))
                    let o = outputs(["vis/index.html"])
                    cases.append(Case(command: "visualize --labels", arguments: ["visualize", "--labels", f, "--data", data, "--out", o + "/vis"],
                                      file: f, expect: expect, outputFolder: o))
                }
                if uses.contains("targets") {
                    cases.append(Case(command: "eval cluster --targets", arguments: ["eval", "cluster", "--labels", goodLabels, "--targets", f],
                                      file: f, expect: expect, outputFolder: outputs([])))
                }
            case "image":
                let root = try imageFolder(good: 6, extra: [item.file])
                let o = outputs([])
                // Documented: a skipped image keeps its (zero) feature row and gets target -1.
                let wantSkipped = expect == .skip ? 1 : 0
                cases.append(Case(command: "features (image folder)", arguments: [
                    "features", "--checkpoint", model, "--data", root, "--split", "train", "--workers", "1",
                    "--out", o + "/f.npy"], file: f, expect: expect, outputFolder: o, onSuccess: { _ in
                        let n = rows(o + "/f.npy")
                        let targets = (try? NpyArray(contentsOf: o + "/f-targets.npy").int64s()) ?? []
                        let skipped = targets.filter { $0 == -1 }.count
                        return n == 7 && targets.count == 7 && skipped == wantSkipped ? nil
                            : "features has \(n.map(String.init) ?? "no") rows and \(skipped) of \(targets.count) targets -1, "
                            + "expected 7 rows and \(wantSkipped)"
                    }))
                cases.append(Case(command: "bench data (image folder)", arguments: [
                    "bench", "data", "--data", root, "--workers", "1", "--augs", "32", "--batch", "4"],
                    file: f, expect: expect, outputFolder: outputs([]), onSuccess: { r in
                        let want = expect == .skip ? "\"skipped\":1" : "\"skipped\":0"
                        return r.stdout.replacingOccurrences(of: " ", with: "").contains(want) ? nil : "expected \(want): \(r.stdout)"
                    }))
            case "safetensors":
                cases += checkpointCases(f, expect: expect, data: data, commands: ["features", "eval knn", "eval cluster",
                                                                                   "export-labels", "visualize", "resume"])
            default:
                Issue.record("unknown corpus kind \(item.kind)")
            }
        }
        return cases
    }

    /// The commands that read a checkpoint, on `file`.
    static func checkpointCases(_ f: String, expect: Expect, data: String, commands: [String]) -> [Case] {
        commands.map { command in
            switch command {
            case "features":
                let o = outputs(["f.npy", "f-targets.npy"])
                return Case(command: command, arguments: ["features", "--checkpoint", f, "--data", data, "--out", o + "/f.npy"],
                            file: f, expect: expect, outputFolder: o)
            case "eval knn", "eval cluster":
                return Case(command: command, arguments: command.split(separator: " ").map(String.init)
                            + ["--checkpoint", f, "--data", data], file: f, expect: expect, outputFolder: outputs([]))
            case "eval cluster --from-training":
                return Case(command: command, arguments: ["eval", "cluster", "--checkpoint", f, "--data", data, "--from-training"],
                            file: f, expect: expect, outputFolder: outputs([]))
            case "export-labels":
                let o = outputs(["labels.npy", "labels.csv"])
                return Case(command: command, arguments: ["export-labels", "--checkpoint", f, "--data", data, "--out", o + "/labels"],
                            file: f, expect: expect, outputFolder: o)
            case "visualize":
                let o = outputs(["vis/index.html"])
                return Case(command: command, arguments: ["visualize", "--checkpoint", f, "--data", data, "--out", o + "/vis"],
                            file: f, expect: expect, outputFolder: o)
            default:  // "resume": the file as the only checkpoint of an experiment folder
                let o = try! temporaryFolder("hostile-exp")
                try! FileManager.default.createDirectory(atPath: o + "/checkpoints", withIntermediateDirectories: true)
                let name = (f as NSString).lastPathComponent
                let inside = o + "/checkpoints/checkpoint-e0000-b000000-" + name
                try! FileManager.default.copyItem(atPath: f, toPath: inside)
                return Case(command: "train --resume", arguments: ["train", "--exp", o, "--data", data, "--resume"],
                            file: inside, expect: expect, outputFolder: o)
            }
        }
    }

    /// Checkpoints made inconsistent from a real one: each (name, edit of the archive, commands that read it).
    static func derivedCases(experiment: String, data: String) throws -> [Case] {
        let dir = try temporaryFolder("hostile-derived")
        let checkpoint = try FileManager.default.contentsOfDirectory(atPath: experiment + "/checkpoints")
            .filter { $0.hasPrefix("checkpoint-") }.sorted().last!
        let trained = try SafetensorsArchive(contentsOf: experiment + "/checkpoints/" + checkpoint)
        let final = try SafetensorsArchive(contentsOf: experiment + "/model_final.safetensors")
        func replacing(_ a: SafetensorsArchive, _ name: String, with entry: SafetensorsEntry) -> SafetensorsArchive {
            var a = a
            a.entries = a.entries.map { $0.name == name ? entry : $0 }
            return a
        }
        let labels = trained["labels"]!
        var labelValues = try labels.int32s()
        func labelsWith(_ v: Int32) -> SafetensorsArchive {
            labelValues[3] = v
            return replacing(trained, "labels", with: SafetensorsEntry(name: "labels", int32s: labelValues, shape: labels.shape))
        }
        func nanWeight(_ a: SafetensorsArchive, _ name: String) throws -> SafetensorsArchive {
            var t = try a[name]!.tensor()
            var s = t.scalars
            s[2] = .nan
            t = .init(shape: t.shape, scalars: s)
            return replacing(a, name, with: SafetensorsEntry(name: name, tensor: t))
        }
        func state(_ edit: (inout [String: Any]) -> Void) throws -> SafetensorsArchive {
            var a = trained
            var json = try JSONSerialization.jsonObject(with: Data(a.metadata["selflabel.state"]!.utf8)) as! [String: Any]
            edit(&json)
            a.metadata["selflabel.state"] = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
            return a
        }
        func heads(_ text: String) -> SafetensorsArchive { var a = final; a.metadata["heads"] = text; return a }
        let fromTraining = ["features", "eval cluster --from-training", "export-labels", "resume"]
        let weights = ["features", "eval knn", "eval cluster", "export-labels", "visualize"]
        let variants: [(String, SafetensorsArchive, [String])] = [
            ("ck_label_out_of_range", labelsWith(1_000_000), fromTraining),
            ("ck_label_negative", labelsWith(-1), fromTraining),
            ("ck_clusters_huge", replacing(trained, "clusters", with: SafetensorsEntry(
                name: "clusters", int64s: [Int64](repeating: 100_000_000_000, count: labels.shape[0]), shape: [labels.shape[0]])),
             fromTraining),
            ("ck_labels_no_images", replacing(trained, "labels", with: SafetensorsEntry(name: "labels", int32s: [],
                                                                                      shape: [labels.shape[0], 0])), fromTraining),
            ("ck_nan_weight", try nanWeight(trained, "model.features.0.weight"), fromTraining),
            ("ck_state_batch_99999", try state { $0["batch"] = 99999 }, ["resume"]),
            ("ck_state_epoch_minus5", try state { $0["epoch"] = -5 }, ["resume"]),
            ("ck_state_iteration_minus1", try state { $0["iteration"] = -1 }, ["resume"]),
            ("final_heads_0", heads("0"), weights),
            ("final_heads_abc", heads("abc"), weights),
            ("final_heads_1e11", heads("1e11"), weights),
            ("final_heads_wrong", heads("3,3"), weights),
            ("final_nan_weight", try nanWeight(final, "top_layer0.weight"), weights),
        ]
        var cases: [Case] = []
        for (name, archive, commands) in variants {
            let path = dir + "/" + name + ".safetensors"
            try archive.write(to: path)
            cases += checkpointCases(path, expect: .error, data: data, commands: commands)
        }
        return cases
    }

    @Test("every file-reading command on every hostile input: no signal, one clear line or a documented skip, no output touched")
    func everyCommandOnEveryHostileInput() throws {
        // A run of its own (not shared with other suites: the resume cases continue it).
        let data = try temporaryFolder("hostile-data")
        try writeTinyCIFAR10(data, perFile: 12)
        let exp = try temporaryFolder("hostile-trained")
        let trained = try runSelflabel(["train", "--data", data, "--exp", exp, "--arch", "convnet_tiny", "--epochs", "1",
                                        "--hc", "2", "--ncl", "5", "--batch-size", "20", "--nopts", "1", "--dtype", "f32"])
        try #require(trained.status == 0, "training failed: \(trained.stderr)")
        let model = exp + "/model_final.safetensors"
        var cases = try Self.corpusCases(model: model, data: data)
        cases += try Self.derivedCases(experiment: exp, data: data)
        // One training run over a folder holding every bad image at once: each is named, the run completes.
        let images = try Self.items().filter { $0.kind == "image" }
        let all = try Self.imageFolder(good: 12, extra: images.map(\.file))
        let trainOut = try temporaryFolder("hostile-train")
        let skipped = images.filter { $0.expect == "skip" }.map(\.file), decoded = images.filter { $0.expect == "ok" }.map(\.file)
        cases.append(Case(command: "train (image folder)", arguments: [
            "train", "--data", all, "--exp", trainOut + "/exp", "--arch", "convnet_tiny", "--epochs", "1", "--hc", "1",
            "--ncl", "3", "--batch-size", "8", "--nopts", "1", "--workers", "1"],
            file: "every corrupt image", expect: .ok, outputFolder: trainOut, onSuccess: { r in
                let missing = skipped.filter { !r.stderr.contains($0) }
                let wrongly = decoded.filter { r.stderr.contains($0) }
                return missing.isEmpty && wrongly.isEmpty ? nil : "not named: \(missing); wrongly named: \(wrongly)\n\(r.stderr)"
            }))

        let results = Results(cases)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            while let c = results.next() { results.record(c.command, Self.run(c)) }
        }
        let (outcomes, failures, perCommand) = (results.outcomes, results.failures, results.perCommand)
        let fileCount = try Self.items().count
        print("hostile inputs: \(cases.count) runs (\(fileCount) corpus files + derived checkpoints); per command: "
              + perCommand.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("hostile inputs: outcomes: " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
              .joined(separator: "; ") + "; failures: \(failures.count)")
        for f in failures.sorted() { Issue.record(Comment(rawValue: f)) }
    }
}
