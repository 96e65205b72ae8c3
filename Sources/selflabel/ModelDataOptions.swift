import ArgumentParser
import DataPipeline
import Evaluation
import Foundation
import SelfLabelling
import Tensors

/// `--checkpoint`, `--data`, `--threads`, `--workers`, `--batch-size`: shared by the evaluation commands.
struct ModelDataOptions: ParsableArguments {
    @Option(help: "A training checkpoint (exp/checkpoints/*.safetensors), final weights (exp/model_final.safetensors) or a PyTorch .pth (official SeLa, torchvision or exported).")
    var checkpoint: String
    @Option(help: "Data folder (image folder with train/ and val/ or test/, CIFAR binary, MNIST IDX); default: the embedded CIFAR-10 subset.")
    var data: String?
    @OptionGroup var imageLimit: ImageLimitOptions
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Option(help: "Data loader threads.") var workers: Int = 2
    @Option(name: .customLong("batch-size"), help: "Images per forward pass.") var batchSize: Int = 256
    @Option(help: "Kernels: cpu (oneDNN) or reference.") var backend: Kernels.Name = .cpu

    /// The kernels `--backend` names.
    var kernels: Kernels { Kernels(named: backend) }

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
        guard workers >= 0 else { throw ValidationError("--workers must be >= 0, got \(workers)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    }

    /// Sets the thread count and loads the model.
    func loadModel() throws -> TrainedModel {
        ComputeThreads.set(threads ?? ComputeThreads.defaultCount)
        imageLimit.apply()
        return try loadCheckpoint(checkpoint)
    }

    /// The train or evaluation split of `--data` (or of the embedded subset).
    func dataset(_ split: DatasetLocator.Split) throws -> any Dataset {
        if let data { return try DatasetLocator.open(data, split: split) }
        return split == .train ? try EmbeddedCIFAR10.train : try EmbeddedCIFAR10.test
    }

    /// The network's outputs on `split`, with a progress line.
    func outputs(_ model: TrainedModel, split: DatasetLocator.Split, tap: String? = nil) throws -> NetworkOutputs {
        let progress = ProgressLine()
        let ds = try dataset(split)
        let out = try NetworkOutputs.compute(network: model.network, dataset: ds, transform: model.evaluationTransform,
                                             batchSize: batchSize, workers: workers, kernels: kernels,
                                             tap: tap) { done, total in
            progress.show("\(split.rawValue): \(done)/\(total) images")
        }
        progress.show("", force: true)
        if !out.skipped.isEmpty { progress.log("warning: \(out.skipped.count) image(s) could not be decoded and were left out") }
        return out
    }
}

extension DatasetLocator.Split: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "train": self = .train
        case "val", "test", "evaluation": self = .evaluation
        default: return nil
        }
    }
}
