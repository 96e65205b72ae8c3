import DataPipeline
import Foundation
import Interop
import NeuralNetworks
import SelfLabelling
import Tensors
import TestSupport
import Testing

/// A tiny but real run: 240 embedded CIFAR-10 images, convnet_tiny, 2 heads x 8 clusters, 2 epochs, 3 label
/// optimisations.
private func tinyConfiguration(exp: String) -> TrainingConfiguration {
    var c = TrainingConfiguration()
    c.arch = .convnetTiny; c.hc = 2; c.ncl = 8; c.epochs = 2; c.batchSize = 64; c.lr = 0.05
    c.nopts = 3; c.schedule = .linear; c.lamb = 10; c.dtype = .f32; c.wd = -4; c.lrSchedule = .cifar
    c.exp = exp; c.comment = "test"; c.logIter = 1; c.workers = 2; c.seed = 7
    return c
}

private func makeTrainer(_ c: TrainingConfiguration, resume: Bool = false, kernels: Kernels = .reference) throws -> Trainer {
    let data = SubsetDataset(base: try EmbeddedCIFAR10.train, indices: Array(stride(from: 0, to: 4800, by: 20)))
    var rng = Xoshiro256(seed: c.seed, 0x4D4F_4445_4C)
    let net = Architecture.convnetTiny.build(heads: [c.ncl, c.ncl], generator: &rng)
    let t = c.transforms
    return try Trainer(configuration: c, network: net, dataset: data, trainTransform: t.train,
                       pseudoTransform: t.pseudo, kernels: kernels,
                       resumeFrom: resume ? try Trainer.ResumePoint.latest(experiment: c.exp) : nil)
}

private func trainLosses(_ exp: String) throws -> [String] {
    let text = try String(contentsOfFile: exp + "/metrics.jsonl", encoding: .utf8)
    return text.split(separator: "\n").filter { $0.contains("\"kind\": \"train\"") }.map { line in
        // The loss field only (images/s differs between runs).
        String(line.split(separator: ",").first { $0.contains("\"loss\":") }!)
    }
}

@Suite(.serialized) struct TrainerTests {
    @Test func tinyEndToEndRun() throws {
        let exp = try temporaryFolder("train")
        let trainer = try makeTrainer(tinyConfiguration(exp: exp))
        trainer.log = { _ in }
        guard case .completed(let summary) = try trainer.run() else { Issue.record("run did not complete"); return }
        #expect(summary.iterations == 8 && summary.labelOptimisations == 2)
        #expect(summary.finalLoss.isFinite)
        // Outputs present and loadable.
        let labels = try NpyArray(contentsOf: exp + "/labels.npy")
        #expect(labels.shape == [2, 240])
        let values = try labels.int64s()
        for h in 0..<2 {
            var sizes = [Int](repeating: 0, count: 8)
            for v in values[(h * 240)..<((h + 1) * 240)] { sizes[Int(v)] += 1 }
            // Balanced, not degenerate: the transport plan has equal cluster masses (240/8 = 30); its argmax
            // rounding at λ = 10 after two optimisations spreads sizes (seen: 8…62), but never empties a
            // cluster or piles most images into one.
            #expect(sizes.min()! >= 1 && sizes.max()! <= 90, "cluster sizes \(sizes)")
        }
        let weights = try SafetensorsArchive(contentsOf: exp + "/model_final.safetensors")
        #expect(weights["top_layer0.weight"] != nil && weights["top_layer1.bias"] != nil)
        let csv = try String(contentsOfFile: exp + "/labels.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 241 && csv[0] == "index,path,head0,head1")
        let checkpoints = CheckpointFolder(experiment: exp)
        #expect(checkpoints.regular().count == 2)
        #expect(FileManager.default.fileExists(atPath: checkpoints.lowestPath))
        let last = try TrainingCheckpoint(contentsOf: checkpoints.latest!)
        #expect(last.state.progress.epoch == 2 && last.labels == trainer.pseudoLabels)
        #expect(try trainLosses(exp).count == 8)
        // The random initialisation is kept for comparisons, and rebuilds the same network.
        let initial = try TrainedModel.load(exp + "/model_init.safetensors")
        #expect(initial.architecture == .convnetTiny && initial.network.headClasses == [8, 8])
        // --log-intv 1: parameter norms after every epoch.
        let metrics = try String(contentsOfFile: exp + "/metrics.jsonl", encoding: .utf8)
        #expect(metrics.components(separatedBy: "\"kind\": \"weights\"").count - 1 == 2)
        #expect(metrics.contains("\"top_layer1.weight\": "))
        // TensorBoard: the event file reads back with one Loss scalar per logged iteration.
        let runs = exp + "/runs/test"
        let file = try FileManager.default.contentsOfDirectory(atPath: runs).first { $0.hasPrefix("events.out.tfevents.") }!
        let events = try TensorBoardEventReader.read(path: runs + "/" + file)
        #expect(events.first?.fileVersion == "brain.Event:2")
        let losses = events.flatMap { e in e.values.filter { $0.tag == "Loss" }.map { (e.step, $0.simpleValue!) } }
        #expect(losses.map(\.0) == Array(0..<8))
        #expect(losses.allSatisfy { $0.1.isFinite })
    }

    /// With the reference kernels and with oneDNN's.
    @Test(arguments: ["reference", "cpu"])
    func resumeIsIdenticalToAnUninterruptedRun(backend: String) throws {
        let kernels: Kernels = backend == "cpu" ? OneDNNBackend.kernels : .reference
        let full = try temporaryFolder("train"), split = try temporaryFolder("train")
        let a = try makeTrainer(tinyConfiguration(exp: full), kernels: kernels)
        a.log = { _ in }
        _ = try a.run()
        // Interrupt in the middle of epoch 0 (after 3 of 4 iterations), then again in epoch 1, then finish.
        let b1 = try makeTrainer(tinyConfiguration(exp: split), kernels: kernels)
        b1.log = { _ in }
        b1.stopAfterIterations = 3
        guard case .stopped = try b1.run() else { Issue.record("first part did not stop"); return }
        let b2 = try makeTrainer(tinyConfiguration(exp: split), resume: true, kernels: kernels)
        b2.log = { _ in }
        b2.stopAfterIterations = 2
        guard case .stopped = try b2.run() else { Issue.record("second part did not stop"); return }
        let b3 = try makeTrainer(tinyConfiguration(exp: split), resume: true, kernels: kernels)
        b3.log = { _ in }
        guard case .completed = try b3.run() else { Issue.record("resumed run did not complete"); return }
        #expect(b3.pseudoLabels == a.pseudoLabels)
        #expect(try trainLosses(split) == trainLosses(full))
        let wa = try SafetensorsArchive(contentsOf: full + "/model_final.safetensors")
        let wb = try SafetensorsArchive(contentsOf: split + "/model_final.safetensors")
        #expect(wa.entries == wb.entries)
    }

    /// A diverging run stops with the epoch, iteration and last good checkpoint instead of training on NaN.
    @Test func nonFiniteLossStopsTheRun() throws {
        var c = tinyConfiguration(exp: try temporaryFolder("train"))
        c.lr = 1e30
        let trainer = try makeTrainer(c)
        trainer.log = { _ in }
        #expect { try trainer.run() } throws: { error in
            guard case let .nonFiniteLoss(epoch, iteration, loss, last)? = error as? TrainingError else { return false }
            return epoch == 0 && iteration >= 1 && !loss.isFinite && last == nil
        }
    }

    @Test func invalidSettingsAreRejectedWithTheirOwnMessage() throws {
        var c = tinyConfiguration(exp: try temporaryFolder("train"))
        c.ncl = 500
        #expect(throws: TrainingConfigurationError(option: "--ncl", value: "500",
            rule: "is larger than the number of training images (240): equal-size clusters are impossible")) {
            _ = try makeTrainer(c)
        }
        c = tinyConfiguration(exp: try temporaryFolder("train"))
        #expect(throws: TrainingError.nothingToResume(folder: c.exp + "/checkpoints")) { _ = try makeTrainer(c, resume: true) }
        let cases: [(WritableKeyPath<TrainingConfiguration, Int>, Int, String)] = [
            (\.epochs, 0, "--epochs"), (\.batchSize, 0, "--batch-size"), (\.nopts, 0, "--nopts"),
            (\.channels, 2, "--channels"), (\.cropSize, -1, "--crop-size"), (\.hc, 0, "--hc"), (\.skMaxIters, 5, "--sk-max-iters"), (\.ncl, 1, "--ncl"),
        ]
        for (path, value, option) in cases {
            var bad = tinyConfiguration(exp: "x")
            bad[keyPath: path] = value
            #expect { try bad.validate() } throws: { ($0 as? TrainingConfigurationError)?.option == option }
        }
        var bad = tinyConfiguration(exp: "x")
        bad.lamb = -1
        #expect { try bad.validate() } throws: { ($0 as? TrainingConfigurationError)?.option == "--lamb" }
        // An unknown name for a typed setting is an error naming the option, never a silent default.
        #expect { try tinyConfiguration(exp: "x").applying(["skStorage": "f8"]) } throws: {
            ($0 as? TrainingConfigurationError)?.option == "--sk-storage"
        }
        #expect { try tinyConfiguration(exp: "x").applying(["augs": "4"]) } throws: {
            ($0 as? TrainingConfigurationError)?.option == "--augs"
        }
        for text in ["0.5/0", "0.5,0.5/0.2", "x/1", "0.5", "cifar10"] {
            bad = tinyConfiguration(exp: "x")
            bad.normalization = text
            #expect { try bad.validate() } throws: { ($0 as? TrainingConfigurationError)?.option == "--normalization" }
        }
    }
}
