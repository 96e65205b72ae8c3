import DataPipeline
import Evaluation
import Foundation
import Interop
import NeuralNetworks
import SelfLabelling
import Tensors
import TestSupport
import Testing

/// A 28×28 grey image folder made from CIFAR-10 (the embedded subset, converted with Pillow's luma and resized)
/// trains end to end at its native input: a 1-channel convnet_tiny at 28×28 with statistics computed over the
/// folder, recorded in the checkpoint and the model file so evaluation rebuilds the same network.
@Suite(.serialized) struct NativeInputTrainingTests {
    /// `root/train/<class>/<i>.png` (48 images) and `root/val/<class>/<i>.png` (16), grey 28×28 PNGs.
    static func greyFolder() throws -> String {
        let root = try temporaryFolder("grey-digits")
        let cifar = try EmbeddedCIFAR10.train
        for (split, indices) in [("train", Array(stride(from: 0, to: 4800, by: 100))), ("val", Array(stride(from: 50, to: 4850, by: 300)))] {
            for i in indices {
                let s = try cifar.sample(at: i)
                let grey = Resample.resize(s.image.converted(toChannels: 1), width: 28, height: 28)
                let folder = "\(root)/\(split)/\(EmbeddedCIFAR10.classNames[s.target!])"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try Data(try PNGEncoder.encode(grey)).write(to: URL(fileURLWithPath: "\(folder)/\(i).png"))
            }
        }
        return root
    }

    @Test func greyFolderTrainsOneEpochAtItsNativeInput() throws {
        let data = try Self.greyFolder()
        var c = TrainingConfiguration()
        c.data = data; c.exp = try temporaryFolder("grey-run")
        c.arch = .convnetTiny; c.hc = 2; c.ncl = 4; c.epochs = 1; c.batchSize = 16; c.nopts = 2; c.lr = 0.05
        c.lamb = 10; c.dtype = .f32; c.workers = 1; c.threads = 2; c.logIter = 1
        var run = TrainingRun(configuration: c, resume: false)
        var lines: [String] = []
        run.log = { lines.append($0) }
        guard case .completed(let summary, _) = try run.execute() else { Issue.record("run did not complete"); return }
        #expect(summary.iterations == 3 && summary.finalLoss.isFinite)
        #expect(lines.contains { $0.hasPrefix("input 1×28×28 (data: grey, 28×28)") }, "\(lines)")

        // The statistics used: a plain mean / population std over every pixel of the training PNGs.
        let train = try ImageFolderDataset(directory: data + "/train")
        var values: [Double] = []
        for i in 0..<train.count { values += try train.sample(at: i).image.converted(toChannels: 1).pixels.map { Double($0) / 255 } }
        let mean = values.reduce(0, +) / Double(values.count)
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()

        for file in ["model_final.safetensors", "checkpoints/" + (try FileManager.default.contentsOfDirectory(atPath: c.exp + "/checkpoints").sorted().last!)] {
            let model = try TrainedModel.load(c.exp + "/" + file)
            #expect(model.input.shape == InputShape(channels: 1, size: 28), "\(file)")
            expectClose(model.input.mean.map(Double.init), [mean], rtol: 1e-6, "\(file) mean")
            expectClose(model.input.std.map(Double.init), [std], rtol: 1e-6, "\(file) std")
            #expect(model.network.stateDict().first { $0.name == "features.0.weight" }?.tensor.shape == [32, 1, 3, 3])
            #expect(model.network.stateDict().first { $0.name == "classifier.0.weight" }?.tensor.shape == [256, 1152])
            let out = try NetworkOutputs.compute(network: model.network, dataset: try ImageFolderDataset(directory: data + "/val"),
                                                 transform: model.evaluationTransform, workers: 0, kernels: .reference)
            #expect(out.features.shape == [16, 256] && out.features.scalars.allSatisfy(\.isFinite))
        }
        // The stored settings hold the resolved input, so a resume rebuilds the same network.
        let checkpoint = try TrainingCheckpoint(contentsOf: try Trainer.ResumePoint.latest(experiment: c.exp).path)
        #expect(checkpoint.state.configuration.channels == 1 && checkpoint.state.configuration.cropSize == 28)
        #expect(checkpoint.state.configuration.augs == .full)
        #expect(run.configuration.normalization == "auto")
    }

    /// A model file written before inputs were recorded (no `channels`/`input_size`/`mean`/`std` metadata)
    /// loads with the input every such run used: 3×32×32 and the CIFAR statistics for convnet_tiny.
    @Test func modelFilesWithoutInputMetadataLoadAsBefore() throws {
        var rng = Xoshiro256(seed: 2)
        let net = Architecture.convnetTiny.build(heads: [5], generator: &rng)
        let path = try temporaryFolder("legacy-model") + "/model_final.safetensors"
        try SafetensorsArchive(entries: net.stateDict().map { SafetensorsEntry(name: $0.name, tensor: $0.tensor) },
                               metadata: ["format": "pt", "arch": "convnet_tiny", "heads": "5"]).write(to: path)
        let model = try TrainedModel.load(path)
        #expect(model.input == NetworkInput(shape: InputShape(channels: 3, size: 32), mean: TransformPipeline.cifarMean,
                                            std: TransformPipeline.cifarStd))
        // Settings stored by such runs (cropSize and channels 0, normalization auto; or no such keys at all) give
        // the same input: 3×32×32 CIFAR for the CPU-sized networks, 3×224×224 ImageNet for the others.
        #expect(TrainingConfiguration.embeddedDemo.networkInput == model.input)
        #expect(TrainingConfiguration().networkInput == NetworkInput(shape: InputShape(channels: 3, size: 224),
            mean: TransformPipeline.imageNetMean, std: TransformPipeline.imageNetStd))
        #expect(model.evaluationTransform == TransformPipeline([.resize(32), .centerCrop(32)], mean: TransformPipeline.cifarMean,
                                                               std: TransformPipeline.cifarStd, channels: 3))
    }

    /// Given statistics must fit the channel count; `--channels 3` on a grey folder replicates it to RGB.
    @Test func givenNormalizationAndChannels() throws {
        let data = try Self.greyFolder()
        var c = TrainingConfiguration()
        c.arch = .convnetTiny
        c.normalization = "cifar"
        let train = try ImageFolderDataset(directory: data + "/train")
        #expect { try c.resolvingInput(train: train, threads: 1) } throws: {
            ($0 as? TrainingConfigurationError)?.option == "--normalization"
        }
        c.channels = 3
        let r = try c.resolvingInput(train: train, threads: 1)
        #expect(r.networkInput == NetworkInput(shape: InputShape(channels: 3, size: 28), mean: TransformPipeline.cifarMean,
                                               std: TransformPipeline.cifarStd))
        c.normalization = "0.5/0.25"; c.channels = 0; c.cropSize = 4
        #expect { try c.resolvingInput(train: train, threads: 1) } throws: {
            ($0 as? TrainingConfigurationError)?.option == "--crop-size"
        }
        c.cropSize = 0
        #expect(try c.resolvingInput(train: train, threads: 1).normalization == "0.5/0.25")
        // RGB data keeps the official statistics (CIFAR's for the embedded data); `dataset` computes them.
        var demo = TrainingConfiguration.embeddedDemo
        demo = try demo.resolvingInput(train: try EmbeddedCIFAR10.train, threads: 1)
        #expect(demo.networkInput == NetworkInput.legacy(.convnetTiny))
        demo.normalization = "dataset"
        let subset = SubsetDataset(base: try EmbeddedCIFAR10.train, indices: Array(0..<50))
        demo = try demo.resolvingInput(train: subset, threads: 1)
        #expect(demo.networkInput.mean.count == 3 && demo.networkInput.mean != TransformPipeline.cifarMean)
    }
}

extension NativeInputTrainingTests {
    /// Crafted input metadata is an error naming the file, never a trap in the transform.
    @Test(arguments: [["channels": "1", "input_size": "28", "mean": "0.1,0.2,0.3", "std": "0.2,0.2,0.2"],
                      ["channels": "2", "input_size": "28", "mean": "0.1", "std": "0.2"],
                      ["channels": "1", "input_size": "28", "mean": "0.1", "std": "0"],
                      ["channels": "1", "input_size": "x", "mean": "0.1", "std": "0.2"]])
    func craftedInputMetadataIsAnError(_ metadata: [String: String]) throws {
        var rng = Xoshiro256(seed: 2)
        let net = Architecture.convnetTiny.build(heads: [5], input: InputShape(channels: 1, size: 28), generator: &rng)
        let path = try temporaryFolder("crafted-input") + "/model.safetensors"
        try SafetensorsArchive(entries: net.stateDict().map { SafetensorsEntry(name: $0.name, tensor: $0.tensor) },
                               metadata: metadata.merging(["arch": "convnet_tiny", "heads": "5"]) { a, _ in a }).write(to: path)
        #expect { try TrainedModel.load(path) } throws: { "\($0)".contains(path) }
    }
}
