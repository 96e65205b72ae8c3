import Autograd
import Tensors

/// Official SeLa ResNet v1 trunk (`models/resnetv1.py`, torchvision-style blocks with the stride on the
/// 3×3 conv): `features` = [Conv2d(3, w, 7, s2, p3, no bias), BN, ReLU, MaxPool2d(3, 2, p1), layer1 … layer4
/// (widths w, 2w, 4w, 8w, strides 1/2/2/2), AvgPool2d(7, stride 1)], flattened. With `Bottleneck` blocks
/// ×[3, 4, 6, 3] and w = 64 this is ResNet-50 (2048-d at 224×224 input); with `BasicBlock` ×[2, 2, 2, 2] it is
/// the ImageNet ResNet-18 (512-d; torchvision's layer structure, official `resnetv1.resnet18` key names).
/// Taps: `layer1` … `layer4`, `pool` (before flattening).
public final class ResNetV1Trunk: FeatureExtractor {
    public var isTraining = true
    public let features: Sequential
    public let featureDimension: Int

    /// The residual block of every stage.
    public enum Block: Sendable { case basic, bottleneck }

    /// `width` is the stem's and first stage's channel count (64 in the official networks; smaller values
    /// only for tests).
    /// `inputChannels` is 3 for RGB, 1 for grey input.
    public init(blocks: [Int] = [3, 4, 6, 3], width: Int = 64, block: Block = .bottleneck, inputChannels: Int = 3,
                generator: inout some RandomNumberGenerator) {
        var layers: [any Layer] = [Conv2d(inputChannels, width, kernelSize: 7, stride: 2, padding: 3, bias: false, generator: &generator),
                                   BatchNorm2d(width), ReLU(), MaxPool2d(kernelSize: 3, stride: 2, padding: 1)]
        let expansion = block == .bottleneck ? Bottleneck.expansion : 1
        layers += resNetStages(blocks, width: width, expansion: expansion, generator: &generator) {
            switch block {
            case .bottleneck: Bottleneck($0, $1, stride: $2, generator: &$3)
            case .basic: BasicBlock($0, $1, stride: $2, shortcutName: "downsample", generator: &$3)
            }
        }
        layers.append(AvgPool2d(kernelSize: 7, stride: 1))
        features = Sequential(layers)
        featureDimension = (width << (blocks.count - 1)) * expansion
    }

    public var tapNames: [String] { ["layer1", "layer2", "layer3", "layer4", "pool"] }

    public func features(_ x: Variable, taps: TapRecorder?) throws -> Variable {
        let h = try features(x, recording: [4: "layer1", 5: "layer2", 6: "layer3", 7: "layer4", 8: "pool"], into: taps)
        return flattened(h, from: 1)
    }

    public var children: [(name: String, layer: any Layer)] { [("features", features)] }
}

/// Official SeLa pre-activation ResNet-50 trunk (`models/resnetv2.py`): `features` = [Conv2d(3, w, 7, s2, p3,
/// no bias) (no BN/ReLU after it), MaxPool2d(3, 2, p1), four stages of `PreActBottleneck` ×[3, 4, 6, 3]
/// (widths w, 2w, 4w, 8w with w = 64, expansion 4, strides 1/2/2/2), AdaptiveAvgPool2d(1)] → 32w = 2048, with no
/// final BN/ReLU. PyTorch default initialisation. Taps: `layer1` … `layer4`, `pool`.
public final class PreActResNetTrunk: FeatureExtractor {
    public var isTraining = true
    public let features: Sequential
    public let featureDimension: Int

    /// `width` is the stem's and first stage's channel count (64 officially; smaller values only for tests).
    /// `inputChannels` is 3 for RGB, 1 for grey input.
    public init(blocks: [Int] = [3, 4, 6, 3], width: Int = 64, inputChannels: Int = 3,
                generator: inout some RandomNumberGenerator) {
        var layers: [any Layer] = [Conv2d(inputChannels, width, kernelSize: 7, stride: 2, padding: 3, bias: false, generator: &generator),
                                   MaxPool2d(kernelSize: 3, stride: 2, padding: 1)]
        layers += resNetStages(blocks, width: width, expansion: 4, generator: &generator) {
            PreActBottleneck($0, $1, stride: $2, generator: &$3)
        }
        layers.append(AdaptiveAvgPool2d())
        features = Sequential(layers)
        featureDimension = (width << (blocks.count - 1)) * 4
    }

    public var tapNames: [String] { ["layer1", "layer2", "layer3", "layer4", "pool"] }

    public func features(_ x: Variable, taps: TapRecorder?) throws -> Variable {
        let h = try features(x, recording: [2: "layer1", 3: "layer2", 4: "layer3", 5: "layer4", 6: "pool"], into: taps)
        return flattened(h, from: 1)
    }

    public var children: [(name: String, layer: any Layer)] { [("features", features)] }
}

/// The standard CIFAR ResNet-18 (pytorch-cifar, Liu 2017): `conv1` = Conv2d(3, 64, 3, p1, no bias), `bn1`, ReLU,
/// no max-pool, `layer1` … `layer4` of `BasicBlock` ×[2, 2, 2, 2] (64/128/256/512, strides 1/2/2/2, 1×1 conv + BN
/// projection named `shortcut` when the shape changes), global average pool → 512. PyTorch default
/// initialisation. Taps: `layer1` … `layer4`, `pool`.
public final class ResNet18CIFARTrunk: FeatureExtractor {
    public var isTraining = true
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let stages: [Sequential]
    public let featureDimension = 512

    /// `inputChannels` is 3 for RGB, 1 for grey input; any input side works (global average pool).
    public init(inputChannels: Int = 3, generator: inout some RandomNumberGenerator) {
        conv1 = Conv2d(inputChannels, 64, kernelSize: 3, padding: 1, bias: false, generator: &generator)
        bn1 = BatchNorm2d(64)
        stages = resNetStages([2, 2, 2, 2], expansion: 1, generator: &generator) {
            BasicBlock($0, $1, stride: $2, generator: &$3)
        }
    }

    public var tapNames: [String] { ["layer1", "layer2", "layer3", "layer4", "pool"] }

    public func features(_ x: Variable, taps: TapRecorder?) throws -> Variable {
        var h = try bn1(try conv1(x), fusingReLU: true)
        for (i, s) in stages.enumerated() {
            h = try s(h)
            taps?.record("layer\(i + 1)", h)
        }
        h = adaptiveAvgPool2dTo1x1(h)
        taps?.record("pool", h)
        return flattened(h, from: 1)
    }

    public var children: [(name: String, layer: any Layer)] {
        [("conv1", conv1), ("bn1", bn1)] + stages.enumerated().map { (name: "layer\($0.offset + 1)", layer: $0.element) }
    }
}

/// ResNet stages as torchvision and pytorch-cifar build them: stage `s` holds `counts[s]` blocks of
/// `width · 2^s` planes (width 64 in every official network); the first block of every stage after the first
/// has stride 2; a block's output has `planes · expansion` channels, the next block's input. `block(inPlanes, planes, stride, &generator)` makes
/// one block; blocks are made (and draw from `generator`) in order.
func resNetStages<G: RandomNumberGenerator>(
    _ counts: [Int], width: Int = 64, expansion: Int, generator: inout G,
    block: (_ inPlanes: Int, _ planes: Int, _ stride: Int, _ generator: inout G) -> any Layer
) -> [Sequential] {
    var inPlanes = width
    return counts.enumerated().map { stage, count in
        let planes = width << stage
        let blocks = (0..<count).map { b -> any Layer in
            defer { inPlanes = planes * expansion }
            return block(inPlanes, planes, b == 0 && stage > 0 ? 2 : 1, &generator)
        }
        return Sequential(blocks)
    }
}
