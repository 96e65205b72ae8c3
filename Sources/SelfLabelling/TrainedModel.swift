import DataPipeline
import Foundation
import Interop
import NeuralNetworks
import Tensors

/// A network restored from what `selflabel train` writes: a training checkpoint (`checkpoints/*.safetensors`,
/// which also holds the pseudo-labels and settings) or the final weights (`model_final.safetensors`, whose
/// metadata names the architecture and heads), or a PyTorch `.pth` (`loadPyTorch`).
public struct TrainedModel {
    public var network: MultiHeadNetwork
    public var architecture: Architecture
    /// The input the network was trained on (shape and normalisation; `NetworkInput.legacy` for files written
    /// before inputs were recorded).
    public var input: NetworkInput
    /// The run's settings, when the file is a training checkpoint.
    public var configuration: TrainingConfiguration?
    /// The last Sinkhorn-Knopp labels, when the file is a training checkpoint.
    public var labels: PseudoLabels?

    /// Loads `path`; throws `TrainingError.notACheckpoint` for a file that is neither kind.
    public static func load(_ path: String) throws -> TrainedModel {
        // A PyTorch file (zip or legacy torch.save): official SeLa, torchvision-named or exported by us.
        if TorchFile.format(of: path) != nil { return try loadPyTorch(path).model }
        let archive = try SafetensorsArchive(contentsOf: path)
        if archive.metadata[TrainingCheckpoint.stateKey] != nil {
            let c = try TrainingCheckpoint(contentsOf: path)
            let arch = c.state.configuration.architecture
            let input = c.state.configuration.networkInput
            if let problem = input.problem { throw TrainingError.unreadableState(path: path, reason: problem) }
            // The label heads, then a --rotnet run's rotation head.
            let heads = c.labels.clusters + (c.state.configuration.hasRotationHead ? [RotNet.rotations] : [])
            try checkHeads(heads, against: c.modelState, path: path)
            let network = try build(arch, heads: heads, input: input, state: c.modelState, path: path)
            return TrainedModel(network: network, architecture: arch, input: input, configuration: c.state.configuration,
                                labels: c.labels)
        }
        guard let name = archive.metadata["arch"], let arch = Architecture(rawValue: name),
              let headsText = archive.metadata["heads"] else {
            throw TrainingError.notACheckpoint(path: path)
        }
        let heads = try parseHeads(headsText, path: path)
        let input = try NetworkInput(metadata: archive.metadata, path: path) ?? .legacy(arch)
        let state: StateDict = try archive.entries.map { (name: $0.name, tensor: try $0.tensor()) }
        try checkHeads(heads, against: state, path: path)
        return TrainedModel(network: try build(arch, heads: heads, input: input, state: state, path: path),
                            architecture: arch, input: input, configuration: nil, labels: nil)
    }

    private static func build(_ arch: Architecture, heads: [Int], input: NetworkInput, state: StateDict,
                              path: String) throws -> MultiHeadNetwork {
        do { try arch.check(input.shape) } catch {
            throw TrainingError.checkpointMismatch(path: path, reason: "\(error)")
        }
        var rng = Xoshiro256(seed: 0)
        let network = arch.build(heads: heads, input: input.shape, generator: &rng)
        do { try network.load(stateDict: state) } catch {
            throw TrainingError.checkpointMismatch(path: path, reason: "\(error)")
        }
        network.setTraining(false)
        return network
    }

    /// The evaluation transform for this network's input: Resize + CenterCrop to its side (the identity on
    /// images of that size), its channels, its normalisation.
    public var evaluationTransform: TransformPipeline { input.evaluationTransform }
}
