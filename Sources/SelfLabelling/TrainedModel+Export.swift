import Interop
import NeuralNetworks
import Tensors

/// Key layouts `selflabel export --format pth` can write.
public enum PyTorchExportLayout: String, CaseIterable, Sendable {
    /// The official SeLa classes' names (`models.alexnet`, `models.resnet`/`resnetv1`, `models.resnetv2`):
    /// `features.N…`, `classifier.N…`, `top_layer` / `top_layerN` (resnetv2's single head as `top_layer.0`).
    case official
    /// torchvision ResNet names (`conv1`, `bn1`, `layer1..4`, `fc`), for resnet50/resnet18 with one head.
    case torchvision
}

extension MultiHeadNetwork {
    /// The state dict as PyTorch holds it: float32 tensors under the names of `layout`, `num_batches_tracked`
    /// as int64 scalars — what `model.state_dict()` of the official class returns, ready for `TorchFile.write`.
    public func pytorchStateDict(layout: PyTorchExportLayout = .official) throws -> TorchValue {
        let arch = Architecture(rawValue: architecture)
        if layout == .torchvision {
            guard arch == .resnet50 || arch == .resnet18 else {
                throw PyTorchImportError.cannotExport(reason: "the torchvision layout exists for resnet50 and resnet18, not \(architecture)")
            }
            guard heads.count == 1 else {
                throw PyTorchImportError.cannotExport(reason: "torchvision's ResNet has one head (fc); this network has \(heads.count)")
            }
        }
        var items: [(key: TorchValue, value: TorchValue)] = []
        for (name, tensor) in stateDict() {
            let key = Self.exportName(name, layout: layout, sequentialSingleHead: arch == .resnetv2 && heads.count == 1)
            let value: TorchTensor
            if name.hasSuffix("num_batches_tracked") {
                value = TorchTensor(int64: [Int64(tensor.scalars.first ?? 0)], shape: [])
            } else {
                value = TorchTensor(float32: tensor.contiguous().scalars, shape: tensor.shape)
            }
            items.append((.string(key), .tensor(value)))
        }
        return .dict(items)
    }

    static func exportName(_ name: String, layout: PyTorchExportLayout, sequentialSingleHead: Bool) -> String {
        switch layout {
        case .official:
            if sequentialSingleHead, name.hasPrefix("top_layer.") { return "top_layer.0." + name.dropFirst("top_layer.".count) }
            return name
        case .torchvision:
            let map = ["features.0": "conv1", "features.1": "bn1", "features.4": "layer1", "features.5": "layer2",
                       "features.6": "layer3", "features.7": "layer4", "top_layer": "fc"]
            let parts = name.split(separator: ".", maxSplits: 2).map(String.init)
            if parts.count >= 2, let to = map[parts[0] + "." + parts[1]] { return to + "." + (parts.count > 2 ? parts[2] : "") }
            if let to = map[parts[0]] { return to + name.dropFirst(parts[0].count) }
            return name
        }
    }

    /// Writes the weights as a SelfLabel model file (safetensors, PyTorch names, metadata `arch`, `heads` and the
    /// `input`'s `NetworkInput.metadata`), which `TrainedModel.load` rebuilds.
    public func writeModelFile(architecture name: String, input: NetworkInput, to path: String) throws {
        var metadata = input.metadata
        metadata["format"] = "pt"
        metadata["arch"] = name
        metadata["heads"] = headClasses.map(String.init).joined(separator: ",")
        try SafetensorsArchive(entries: stateDict().map { SafetensorsEntry(name: $0.name, tensor: $0.tensor) },
                               metadata: metadata).write(to: path)
    }
}
