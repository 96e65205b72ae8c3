import Autograd
import Tensors

/// `convnet_tiny`: a small CNN for the embedded 2-core demo, defined here (not from a paper), for C×S×S input
/// (C = 1 or 3 image channels, S ≥ 8; the embedded CIFAR-10 data is 3×32×32, a digits folder 1×28×28) — the
/// same network as `convnet_tiny` of `shared/reference/sela_ref.py`:
///
///     features:   0 Conv2d(C, 32, k3, p1)  1 BN(32)  2 ReLU  3 MaxPool2d(2)      → 32×⌊S/2⌋²
///                 4 Conv2d(32, 64, k3, p1) 5 BN(64)  6 ReLU  7 MaxPool2d(2)      → 64×⌊S/4⌋²
///                 8 Conv2d(64, 128, k3, p1) 9 BN(128) 10 ReLU 11 MaxPool2d(2)   → 128×⌊S/8⌋² = F
///     classifier: 0 Linear(F, 256)  1 ReLU                                      → 256-d pre-head features
///     heads:      Linear(256, K) each
///
/// F = 2048 at S = 32, 1152 at 28, 3200 at 40. The numbers below are for 3×32×32.
/// Convolutions have biases; AlexNet initialisation (conv N(0, √(2/(k·k·out))), BN 1/0, linear N(0, 0.01²),
/// biases 0). Cost ≈ 10.8 M multiply-adds per image forward (≈ 0.022 GFLOP), about 0.065 GFLOP per image for a
/// training step; 303,424 trunk parameters (+ 257·K per head).
/// Taps: `conv1` … `conv3` (after ReLU), `pool3` (128×4×4), `fc` (= the features).
public final class ConvNetTinyTrunk: FeatureExtractor {
    public var isTraining = true
    public let features: Sequential
    public let classifier: Sequential
    public let featureDimension = 256

    /// The network for `input` (default 3×32×32); `input.size` must be at least 8 (`flatDimension(for:)` > 0).
    public init(input: InputShape = InputShape(channels: 3, size: 32), generator: inout some RandomNumberGenerator) {
        let flat = ConvNetTinyTrunk.flatDimension(for: input)
        precondition(flat > 0, "convnet_tiny: input \(input) is smaller than 8×8 (check with Architecture.check)")
        var layers: [any Layer] = []
        var channels = input.channels
        for out in [32, 64, 128] {
            layers += [Conv2d(channels, out, kernelSize: 3, padding: 1, generator: &generator), BatchNorm2d(out), ReLU(),
                       MaxPool2d(kernelSize: 2)] as [any Layer]
            channels = out
        }
        features = Sequential(layers)
        classifier = Sequential([Linear(flat, 256, generator: &generator), ReLU()])
    }

    /// The flattened length after the last pool, 128·⌊S/8⌋² (three 2×2 max-pools, floor), 0 below S = 8.
    public static func flatDimension(for input: InputShape) -> Int {
        let side = input.size / 8
        return 128 * side * side
    }

    public var tapNames: [String] { ["conv1", "conv2", "conv3", "pool3", "fc"] }

    public func features(_ x: Variable, taps: TapRecorder?) throws -> Variable {
        let h = try features(x, recording: [2: "conv1", 6: "conv2", 10: "conv3", 11: "pool3"], into: taps)
        return try classifier(flattened(h, from: 1), recording: [1: "fc"], into: taps)
    }

    public var children: [(name: String, layer: any Layer)] { [("features", features), ("classifier", classifier)] }
}
