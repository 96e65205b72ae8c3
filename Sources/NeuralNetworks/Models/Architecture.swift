import Tensors

/// The network architectures SelfLabel can build, by the names the CLI uses (`--arch`).
public enum Architecture: String, CaseIterable, Codable, Sendable {
    /// Official SeLa AlexNet, 'big' configuration (224×224 input).
    case alexnet
    /// Official SeLa AlexNet, 'small' configuration (`--archspec small`, 224×224 input).
    case alexnetSmall = "alexnet_small"
    /// CPU-sized AlexNet for 32×32 input.
    case alexnetCIFAR = "alexnet_cifar"
    /// Standard CIFAR ResNet-18 (32×32 input).
    case resnet18CIFAR = "resnet18_cifar"
    /// Official SeLa ResNet-50 v1 (224×224 input).
    case resnet50
    /// ImageNet ResNet-18 (torchvision's structure, official `resnetv1.resnet18` key names; 224×224 input).
    case resnet18
    /// Official SeLa pre-activation ResNet-50 (224×224 input).
    case resnetv2
    /// The small demo network (32×32 input).
    case convnetTiny = "convnet_tiny"

    /// Other names the official code uses for our architectures: its `--arch resnetv1` is ResNet-50 v1.
    public static let officialAliases = ["resnetv1": Architecture.resnet50]

    /// The architecture for the official command-line pair `--arch NAME --archspec big|small` (`archspec` only
    /// matters for `alexnet`; `NAME` may be an official alias); nil for an unknown name or spec.
    public static func named(_ name: String, archspec: String = "big") -> Architecture? {
        switch (name, archspec) {
        case ("alexnet", "big"): return .alexnet
        case ("alexnet", "small"): return .alexnetSmall
        case (_, "big"), (_, "small"): return officialAliases[name] ?? Architecture(rawValue: name)
        default: return nil
        }
    }

    /// Side of the square input image the architecture is built for.
    public var inputSize: Int {
        switch self {
        case .alexnet, .alexnetSmall, .resnet50, .resnet18, .resnetv2: return 224
        case .alexnetCIFAR, .resnet18CIFAR, .convnetTiny: return 32
        }
    }

    /// Builds the network with one linear head per entry of `heads` (K clusters each), initialised from
    /// `generator` as the reference code does:
    /// - AlexNet variants and convnet_tiny: `Initialization.alexNetStyle` on everything (heads included);
    /// - resnet50, resnet18: `Initialization.resNetStyle` on the trunk, PyTorch default Linear init for the heads;
    /// - resnetv2, resnet18_cifar: PyTorch default initialisation everywhere (BN weight 1, bias 0).
    public func build(heads: [Int], generator: inout some RandomNumberGenerator) -> MultiHeadNetwork {
        precondition(!heads.isEmpty && heads.allSatisfy { $0 >= 1 }, "\(rawValue): heads \(heads) must be non-empty and >= 1")
        let trunk: any FeatureExtractor
        switch self {
        case .alexnet:
            trunk = AlexNetTrunk(configuration: AlexNetTrunk.bigConfiguration, flatDimension: 256 * 6 * 6, generator: &generator)
        case .alexnetSmall:
            trunk = AlexNetTrunk(configuration: AlexNetTrunk.smallConfiguration, flatDimension: 256 * 6 * 6, generator: &generator)
        case .alexnetCIFAR:
            trunk = AlexNetTrunk(configuration: AlexNetTrunk.cifarConfiguration, flatDimension: 256 * 3 * 3, generator: &generator)
        case .resnet18CIFAR: trunk = ResNet18CIFARTrunk(generator: &generator)
        case .resnet50: trunk = ResNetV1Trunk(generator: &generator)
        case .resnet18: trunk = ResNetV1Trunk(blocks: [2, 2, 2, 2], block: .basic, generator: &generator)
        case .resnetv2: trunk = PreActResNetTrunk(generator: &generator)
        case .convnetTiny: trunk = ConvNetTinyTrunk(generator: &generator)
        }
        let linears = heads.map { Linear(trunk.featureDimension, $0, generator: &generator) }
        let net = MultiHeadNetwork(architecture: rawValue, trunk: trunk, heads: linears)
        switch self {
        case .alexnet, .alexnetSmall, .alexnetCIFAR, .convnetTiny:
            Initialization.alexNetStyle(net, generator: &generator)
        case .resnet50, .resnet18:
            Initialization.resNetStyle(trunk, generator: &generator)
        case .resnetv2, .resnet18CIFAR:
            break
        }
        return net
    }
}
