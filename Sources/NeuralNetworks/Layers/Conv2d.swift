import Autograd
import Tensors

/// 2-D convolution layer (PyTorch `nn.Conv2d(in, out, kernel_size, stride, padding, bias)`, groups 1).
///
/// Parameters: `weight` (out, in, k, k), `bias` (out) when enabled. Input (N, in, H, W) → (N, out, OH, OW).
/// Initialised with PyTorch's default (`kaiming_uniform_(a=√5)`: U(−1/√fan_in, 1/√fan_in) for weight and bias,
/// fan_in = in·k·k); models re-initialise as their reference code does.
public final class Conv2d: Layer {
    public var isTraining = true
    public let weight: Parameter
    public let bias: Parameter?
    public let geometry: Conv2dGeometry

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, generator: inout some RandomNumberGenerator) {
        let fanIn = inChannels * kernelSize * kernelSize
        let bound = 1 / Float(fanIn).squareRoot()
        weight = Parameter(Tensor.randomUniform([outChannels, inChannels, kernelSize, kernelSize], low: -bound,
                                                high: bound, using: &generator))
        self.bias = bias ? Parameter(Tensor.randomUniform([outChannels], low: -bound, high: bound, using: &generator)) : nil
        geometry = Conv2dGeometry(stride: stride, padding: padding)
    }

    public var inChannels: Int { weight.shape[1] }
    public var outChannels: Int { weight.shape[0] }
    public var kernelSize: Int { weight.shape[2] }

    public func callAsFunction(_ x: Variable) throws -> Variable {
        let tape = x.tape
        return conv2d(x, weight: tape.variable(for: weight), bias: bias.map { tape.variable(for: $0) }, geometry: geometry)
    }

    public var ownParameters: [(name: String, parameter: Parameter)] {
        var p: [(name: String, parameter: Parameter)] = [("weight", weight)]
        if let bias { p.append(("bias", bias)) }
        return p
    }

    /// AlexNet/DeepCluster initialisation: weight N(0, √(2/(k·k·out))), bias 0.
    public func initializeHe(outFanNormal generator: inout some RandomNumberGenerator) {
        let std = (2 / Float(kernelSize * kernelSize * outChannels)).squareRoot()
        weight.value = Tensor.randomNormal(weight.shape, std: std, using: &generator)
        bias?.value = Tensor.zeros(bias!.shape)
    }
}
