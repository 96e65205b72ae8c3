import NeuralNetworks

extension PyTorchCheckpoint {
    /// The architecture the key names and shapes identify, when exactly one fits:
    /// - `features.0.weight` + `classifier.*`: AlexNet by its first conv — 96×3×11×11 `alexnet`, 64×3×11×11
    ///   `alexnet_small`, 96×3×5×5 `alexnet_cifar`, 32×3×3×3 `convnet_tiny`;
    /// - `features.1.running_mean` (BN after the stem) with blocks under `features.4…7`: ResNet v1 —
    ///   bottlenecks ×[3, 4, 6, 3] `resnet50`, basic blocks ×[2, 2, 2, 2] `resnet18`;
    /// - pre-activation blocks under `features.2…5` ×[3, 4, 6, 3]: `resnetv2`;
    /// - the CIFAR ResNet-18 layout: `resnet18_cifar`.
    /// Throws `PyTorchImportError.unknownArchitecture` (asking for `--arch`) otherwise.
    public func inferArchitecture() throws -> Architecture {
        let shapes = Dictionary(tensors.map { ($0.name, $0.tensor.shape) }, uniquingKeysWith: { a, _ in a })
        let names = Set(shapes.keys)
        func blocks(_ stage: Int) -> Int {
            Set(names.compactMap { k -> Int? in
                let parts = k.split(separator: ".")
                guard parts.count > 3, parts[0] == "features", parts[1] == Substring(String(stage)) else { return nil }
                return Int(parts[2])
            }).count
        }
        let unknown = { (why: String) in PyTorchImportError.unknownArchitecture(path: path, reason: why) }
        switch layout {
        case .cifarResNet:
            return .resnet18CIFAR
        case .official, .torchvision:
            if names.contains("classifier.1.weight") || names.contains("classifier.0.weight") {
                switch shapes["features.0.weight"] ?? [] {
                case [96, 3, 11, 11]: return .alexnet
                case [64, 3, 11, 11]: return .alexnetSmall
                case [96, 3, 5, 5]: return .alexnetCIFAR
                case [32, 3, 3, 3]: return .convnetTiny
                case let s: throw unknown("an AlexNet-like network whose first conv has shape \(s) matches no known configuration")
                }
            }
            if names.contains("features.1.running_mean") {
                let counts = (4...7).map(blocks)
                let bottleneck = names.contains("features.4.0.conv3.weight")
                let width = shapes["features.0.weight"]?.first
                if bottleneck && counts == [3, 4, 6, 3] && width == 64 { return .resnet50 }
                if !bottleneck && counts == [2, 2, 2, 2] && width == 64 { return .resnet18 }
                throw unknown("a ResNet v1 with \(bottleneck ? "bottleneck" : "basic") blocks \(counts) and stem width \(width ?? 0) is not resnet50 or resnet18")
            }
            if names.contains("features.2.0.bn1.weight") {
                let counts = (2...5).map(blocks)
                if counts == [3, 4, 6, 3] && shapes["features.0.weight"]?.first == 64 { return .resnetv2 }
                throw unknown("a pre-activation ResNet with blocks \(counts) is not resnetv2 (ResNet-50)")
            }
            throw unknown("the key names fit no known architecture")
        }
    }
}
