import Interop
import NeuralNetworks
import Tensors

extension TrainedModel {
    /// Loads a PyTorch file (`torch.save`, zip or legacy format) holding an official SeLa, torchvision-named or
    /// SelfLabel network: `architecture` when given, otherwise the one `PyTorchCheckpoint.inferArchitecture()`
    /// finds. The file's labels become `labels` when they fit the heads (one row per head, labels in range);
    /// `file` is what was read; `report` says what was loaded and ignored.
    public static func loadPyTorch(_ path: String, architecture: Architecture? = nil,
                                   keepRotationHead: Bool = false) throws -> (model: TrainedModel, file: PyTorchCheckpoint, report: [String]) {
        let file = try PyTorchCheckpoint(contentsOf: path, keepRotationHead: keepRotationHead)
        let arch = try architecture ?? file.inferArchitecture()
        var rng = Xoshiro256(seed: 0)
        let network = arch.build(heads: file.heads, generator: &rng)
        try file.load(into: network)
        network.setTraining(false)
        var report = file.report
        report.append("loaded as \(arch.rawValue)")
        var labels: PseudoLabels?
        if let l = file.labels {
            let fits = l.rows == file.heads.count && l.values.indices.allSatisfy { i in
                let v = l.values[i]
                return v >= 0 && v < Int64(file.heads[i / max(l.count, 1)])
            }
            if fits {
                labels = PseudoLabels(clusters: file.heads, count: l.count, values: l.values.map { Int32($0) })
            } else {
                report.append("the labels (\(l.rows), \(l.count)) do not fit heads \(file.heads) and are not used as pseudo-labels")
            }
        }
        return (TrainedModel(network: network, architecture: arch, input: .legacy(arch), configuration: nil, labels: labels),
                file, report)
    }
}
