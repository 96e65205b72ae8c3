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

    /// Side of the square input image the architecture is built for by default (224, or 32 for the CPU-sized
    /// networks).
    public var inputSize: Int {
        switch self {
        case .alexnet, .alexnetSmall, .resnet50, .resnet18, .resnetv2: return 224
        case .alexnetCIFAR, .resnet18CIFAR, .convnetTiny: return 32
        }
    }

    /// The default input, 3×`inputSize`×`inputSize` (what every checkpoint written before input shapes were
    /// recorded was trained on).
    public var defaultInput: InputShape { InputShape(channels: 3, size: inputSize) }

    /// True for the CPU-sized networks (alexnet_cifar, resnet18_cifar, convnet_tiny), which take small images
    /// (up to 64×64) at their native size instead of resizing them to `inputSize`.
    public var takesNativeSmallInput: Bool { inputSize <= 64 }

    /// Throws when the network cannot be built for `input`: a channel count other than 1 or 3, a side too small
    /// for its windows, or (resnet50, resnet18, whose final AvgPool2d(7) needs a 7×7 map) a side that does not
    /// end at 7×7.
    public func check(_ input: InputShape) throws(UnsupportedInputError) {
        func fail(_ reason: String) -> UnsupportedInputError {
            UnsupportedInputError(architecture: rawValue, input: input, reason: reason)
        }
        guard input.channels == 1 || input.channels == 3 else { throw fail("images have 1 (grey) or 3 (RGB) channels") }
        guard input.size >= 1 && input.size <= 4096 else { throw fail("the side must be between 1 and 4096") }
        switch self {
        case .alexnet, .alexnetSmall, .alexnetCIFAR:
            if AlexNetTrunk.flatDimension(configuration: alexNetConfiguration, input: input) == 0 {
                let smallest = (1...4096).first {
                    AlexNetTrunk.flatDimension(configuration: alexNetConfiguration, input: InputShape(channels: 1, size: $0)) > 0
                } ?? 0
                throw fail("its poolings need a side of at least \(smallest)")
            }
        case .convnetTiny:
            if ConvNetTinyTrunk.flatDimension(for: input) == 0 { throw fail("its three 2×2 max-pools need a side of at least 8") }
        case .resnet50, .resnet18:
            var side = InputShape.windowOutput(input.size, kernel: 7, stride: 2, padding: 3)
            side = InputShape.windowOutput(side, kernel: 3, stride: 2, padding: 1)
            for _ in 0..<3 { side = InputShape.windowOutput(side, kernel: 3, stride: 2, padding: 1) }
            if side != 7 { throw fail("its final 7×7 average pool needs a 7×7 map (a side of 193 to 224), not \(side)×\(side)") }
        case .resnetv2, .resnet18CIFAR:
            break  // global average pooling: any side of at least 1 works
        }
    }

    /// The feature configuration of the AlexNet variants (empty for the others).
    var alexNetConfiguration: [AlexNetTrunk.Stage] {
        switch self {
        case .alexnet: return AlexNetTrunk.bigConfiguration
        case .alexnetSmall: return AlexNetTrunk.smallConfiguration
        case .alexnetCIFAR: return AlexNetTrunk.cifarConfiguration
        default: return []
        }
    }

    /// Builds the network for `input` (default `defaultInput`; it must pass `check(_:)`) with one linear head per
    /// entry of `heads` (K clusters each), initialised from `generator` as the reference code does:
    /// - AlexNet variants and convnet_tiny: `Initialization.alexNetStyle` on everything (heads included);
    /// - resnet50, resnet18: `Initialization.resNetStyle` on the trunk, PyTorch default Linear init for the heads;
    /// - resnetv2, resnet18_cifar: PyTorch default initialisation everywhere (BN weight 1, bias 0).
    public func build(heads: [Int], input: InputShape? = nil,
                      generator: inout some RandomNumberGenerator) -> MultiHeadNetwork {
        precondition(!heads.isEmpty && heads.allSatisfy { $0 >= 1 }, "\(rawValue): heads \(heads) must be non-empty and >= 1")
        let input = input ?? defaultInput
        do { try check(input) } catch { preconditionFailure("\(error) (call Architecture.check first)") }
        let trunk: any FeatureExtractor
        let c = input.channels
        switch self {
        case .alexnet, .alexnetSmall, .alexnetCIFAR:
            trunk = AlexNetTrunk(configuration: alexNetConfiguration,
                                 flatDimension: AlexNetTrunk.flatDimension(configuration: alexNetConfiguration, input: input),
                                 inputChannels: c, generator: &generator)
        case .resnet18CIFAR: trunk = ResNet18CIFARTrunk(inputChannels: c, generator: &generator)
        case .resnet50: trunk = ResNetV1Trunk(inputChannels: c, generator: &generator)
        case .resnet18: trunk = ResNetV1Trunk(blocks: [2, 2, 2, 2], block: .basic, inputChannels: c, generator: &generator)
        case .resnetv2: trunk = PreActResNetTrunk(inputChannels: c, generator: &generator)
        case .convnetTiny: trunk = ConvNetTinyTrunk(input: input, generator: &generator)
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
