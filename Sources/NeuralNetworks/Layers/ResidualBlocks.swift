import Autograd
import Tensors

/// ResNet basic block (He et al. 2016; torchvision / pytorch-cifar `BasicBlock`, expansion 1):
/// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, 3×3 convs without bias, the stride on conv1, and a
/// 1×1 conv + BN projection on the shortcut when the stride or width changes. Children: conv1, bn1, conv2, bn2
/// and the projection under `shortcutName` ("shortcut" as pytorch-cifar, "downsample" as torchvision).
public final class BasicBlock: Layer {
    public var isTraining = true
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    public let projection: Sequential?
    public let shortcutName: String

    public init(_ inPlanes: Int, _ planes: Int, stride: Int = 1, shortcutName: String = "shortcut",
                generator: inout some RandomNumberGenerator) {
        conv1 = Conv2d(inPlanes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false, generator: &generator)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, padding: 1, bias: false, generator: &generator)
        bn2 = BatchNorm2d(planes)
        projection = (stride != 1 || inPlanes != planes)
            ? Sequential([Conv2d(inPlanes, planes, kernelSize: 1, stride: stride, bias: false, generator: &generator),
                          BatchNorm2d(planes)]) : nil
        self.shortcutName = shortcutName
    }

    public func callAsFunction(_ x: Variable) throws -> Variable {
        var out = try bn1(try conv1(x), fusingReLU: true)
        out = try bn2(try conv2(out))
        return relu(out + (try projection?(x) ?? x))
    }

    public var children: [(name: String, layer: any Layer)] {
        var c: [(name: String, layer: any Layer)] = [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)]
        if let projection { c.append((shortcutName, projection)) }
        return c
    }
}

/// ResNet v1 bottleneck (torchvision `Bottleneck`, "ResNet v1.5": the stride on the 3×3 conv), expansion 4:
/// `relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))) + downsample(x))`. Children: conv1, bn1, conv2, bn2,
/// conv3, bn3, downsample (1×1 conv + BN, when the stride or width changes).
public final class Bottleneck: Layer {
    public var isTraining = true
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d, conv3: Conv2d, bn3: BatchNorm2d
    public let downsample: Sequential?
    public static let expansion = 4

    public init(_ inPlanes: Int, _ planes: Int, stride: Int = 1, generator: inout some RandomNumberGenerator) {
        let out = planes * Bottleneck.expansion
        conv1 = Conv2d(inPlanes, planes, kernelSize: 1, bias: false, generator: &generator)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false, generator: &generator)
        bn2 = BatchNorm2d(planes)
        conv3 = Conv2d(planes, out, kernelSize: 1, bias: false, generator: &generator)
        bn3 = BatchNorm2d(out)
        downsample = (stride != 1 || inPlanes != out)
            ? Sequential([Conv2d(inPlanes, out, kernelSize: 1, stride: stride, bias: false, generator: &generator),
                          BatchNorm2d(out)]) : nil
    }

    public func callAsFunction(_ x: Variable) throws -> Variable {
        var out = try bn1(try conv1(x), fusingReLU: true)
        out = try bn2(try conv2(out), fusingReLU: true)
        out = try bn3(try conv3(out))
        return relu(out + (try downsample?(x) ?? x))
    }

    public var children: [(name: String, layer: any Layer)] {
        var c: [(name: String, layer: any Layer)] = [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2),
                                                     ("conv3", conv3), ("bn3", bn3)]
        if let downsample { c.append(("downsample", downsample)) }
        return c
    }
}

/// Pre-activation bottleneck (He et al. 2016b; official SeLa `models/resnetv2.py` `PreActBottleneck`):
/// `o = relu(bn1(x))`, `s = shortcut(o)` when the shape changes (1×1 conv with stride, no BN) else `x`,
/// then `conv3(relu(bn3(conv2(relu(bn2(conv1(o))))))) + s`. The stride is on conv2. Children: bn1, conv1, bn2,
/// conv2, bn3, conv3, shortcut.
public final class PreActBottleneck: Layer {
    public var isTraining = true
    public let bn1: BatchNorm2d, conv1: Conv2d, bn2: BatchNorm2d, conv2: Conv2d, bn3: BatchNorm2d, conv3: Conv2d
    public let shortcut: Sequential?

    public init(_ inPlanes: Int, _ planes: Int, stride: Int = 1, expansion: Int = 4,
                generator: inout some RandomNumberGenerator) {
        let out = planes * expansion
        bn1 = BatchNorm2d(inPlanes)
        conv1 = Conv2d(inPlanes, planes, kernelSize: 1, bias: false, generator: &generator)
        bn2 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false, generator: &generator)
        bn3 = BatchNorm2d(planes)
        conv3 = Conv2d(planes, out, kernelSize: 1, bias: false, generator: &generator)
        shortcut = (stride != 1 || inPlanes != out)
            ? Sequential([Conv2d(inPlanes, out, kernelSize: 1, stride: stride, bias: false, generator: &generator)]) : nil
    }

    public func callAsFunction(_ x: Variable) throws -> Variable {
        let pre = try bn1(x, fusingReLU: true)
        let s = try shortcut?(pre) ?? x
        var out = try conv1(pre)
        out = try conv2(try bn2(out, fusingReLU: true))
        out = try conv3(try bn3(out, fusingReLU: true))
        return out + s
    }

    public var children: [(name: String, layer: any Layer)] {
        var c: [(name: String, layer: any Layer)] = [("bn1", bn1), ("conv1", conv1), ("bn2", bn2), ("conv2", conv2),
                                                     ("bn3", bn3), ("conv3", conv3)]
        if let shortcut { c.append(("shortcut", shortcut)) }
        return c
    }
}
