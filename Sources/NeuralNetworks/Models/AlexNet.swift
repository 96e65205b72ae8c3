import Autograd
import Tensors

/// The AlexNet trunk of DeepCluster/SeLa (`models/alexnet.py`): `features` (each conv = Conv2d with bias → BN →
/// ReLU, 'M' = MaxPool2d(3, 2)), flatten, `classifier` = Dropout(0.5), Linear(flat, 4096), ReLU, Dropout(0.5),
/// Linear(4096, 4096), ReLU. The pre-head feature is fc7 after its ReLU (4096-d).
///
/// Taps: `conv1` … `conv5` (each conv's output after BN and ReLU, (N, C, H, W)), `pool5` (the last max-pool
/// output), `fc6` (after its ReLU), `fc7` (= the features).
public final class AlexNetTrunk: FeatureExtractor {
    public var isTraining = true
    public let features: Sequential
    public let classifier: Sequential
    let convTaps: [Int: String]
    let classifierTaps: [Int: String]
    /// Length of the pre-head feature (fc7): `hidden`, 4096 in every official configuration.
    public let featureDimension: Int

    /// One entry of the feature configuration: a conv (out channels, kernel, stride, padding) or a max-pool.
    public enum Stage: Equatable, Sendable {
        case conv(Int, kernel: Int, stride: Int, padding: Int)
        case maxPool
    }

    /// Official 'big': 96 k11 s4 p2, M, 256 k5 p2, M, 384 k3 p1, 384 k3 p1, 256 k3 p1, M (224 → 256×6×6).
    public static let bigConfiguration: [Stage] = [.conv(96, kernel: 11, stride: 4, padding: 2), .maxPool,
        .conv(256, kernel: 5, stride: 1, padding: 2), .maxPool, .conv(384, kernel: 3, stride: 1, padding: 1),
        .conv(384, kernel: 3, stride: 1, padding: 1), .conv(256, kernel: 3, stride: 1, padding: 1), .maxPool]
    /// Official 'small': 64, 192, 384, 256, 256 channels, otherwise as 'big'.
    public static let smallConfiguration: [Stage] = [.conv(64, kernel: 11, stride: 4, padding: 2), .maxPool,
        .conv(192, kernel: 5, stride: 1, padding: 2), .maxPool, .conv(384, kernel: 3, stride: 1, padding: 1),
        .conv(256, kernel: 3, stride: 1, padding: 1), .conv(256, kernel: 3, stride: 1, padding: 1), .maxPool]
    /// CPU-sized AlexNet for 32×32 input: 96 k5 p2, M, 256 k5 p2, M, 384 k3 p1, 384 k3 p1, 256 k3 p1, M
    /// (32 → 96×15×15 → 256×7×7 → 256×3×3 = 2304).
    public static let cifarConfiguration: [Stage] = [.conv(96, kernel: 5, stride: 1, padding: 2), .maxPool,
        .conv(256, kernel: 5, stride: 1, padding: 2), .maxPool, .conv(384, kernel: 3, stride: 1, padding: 1),
        .conv(384, kernel: 3, stride: 1, padding: 1), .conv(256, kernel: 3, stride: 1, padding: 1), .maxPool]

    /// `flatDimension` is C·H·W after the last pool (`flatDimension(configuration:input:)`: 9216 for 224
    /// input, 2304 for the CIFAR variant at 32, 1024 at 28); `inputChannels` is 3 for RGB, 1 for grey input.
    public init(configuration: [Stage], flatDimension: Int, hidden: Int = 4096, inputChannels: Int = 3,
                generator: inout some RandomNumberGenerator) {
        var layers: [any Layer] = []
        var taps: [Int: String] = [:]
        var channels = inputChannels, convIndex = 0
        for stage in configuration {
            switch stage {
            case .maxPool:
                layers.append(MaxPool2d(kernelSize: 3, stride: 2))
                taps[layers.count - 1] = "pool\(convIndex)"
            case .conv(let out, let k, let s, let p):
                layers.append(Conv2d(channels, out, kernelSize: k, stride: s, padding: p, generator: &generator))
                layers.append(BatchNorm2d(out))
                layers.append(ReLU())
                convIndex += 1
                taps[layers.count - 1] = "conv\(convIndex)"
                channels = out
            }
        }
        features = Sequential(layers)
        convTaps = taps
        classifier = Sequential([Dropout(0.5), Linear(flatDimension, hidden, generator: &generator), ReLU(),
                                 Dropout(0.5), Linear(hidden, hidden, generator: &generator), ReLU()])
        classifierTaps = [2: "fc6", 5: "fc7"]
        featureDimension = hidden
    }

    /// C·H·W after the last pool of `configuration` for `input` (PyTorch's floor rule for every window; max-pools
    /// are 3×3 stride 2), or 0 when some window does not fit.
    public static func flatDimension(configuration: [Stage], input: InputShape) -> Int {
        var side = input.size, channels = input.channels
        for stage in configuration {
            switch stage {
            case .maxPool: side = InputShape.windowOutput(side, kernel: 3, stride: 2)
            case .conv(let out, let k, let s, let p):
                side = InputShape.windowOutput(side, kernel: k, stride: s, padding: p)
                channels = out
            }
            if side < 1 { return 0 }
        }
        return channels * side * side
    }

    public var tapNames: [String] {
        convTaps.sorted { $0.key < $1.key }.map(\.value) + ["fc6", "fc7"]
    }

    public func features(_ x: Variable, taps: TapRecorder?) throws -> Variable {
        let h = try features(x, recording: convTaps, into: taps)
        return try classifier(flattened(h, from: 1), recording: classifierTaps, into: taps)
    }

    public var children: [(name: String, layer: any Layer)] { [("features", features), ("classifier", classifier)] }
}
