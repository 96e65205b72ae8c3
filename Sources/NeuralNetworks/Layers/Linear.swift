import Autograd
import Tensors

/// Fully connected layer (PyTorch `nn.Linear(in, out)`): (B, in) → (B, out), `y = x·Wᵀ + b`.
/// Default initialisation as PyTorch: U(−1/√in, 1/√in) for weight and bias.
public final class Linear: Layer {
    public var isTraining = true
    /// (out, in)
    public let weight: Parameter
    /// (out)
    public let bias: Parameter?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: inout some RandomNumberGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Parameter(Tensor.randomUniform([outFeatures, inFeatures], low: -bound, high: bound, using: &generator))
        self.bias = bias ? Parameter(Tensor.randomUniform([outFeatures], low: -bound, high: bound, using: &generator)) : nil
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public func callAsFunction(_ x: Variable) throws -> Variable {
        let tape = x.tape
        return linear(x, weight: tape.variable(for: weight), bias: bias.map { tape.variable(for: $0) })
    }

    public var ownParameters: [(name: String, parameter: Parameter)] {
        var p: [(name: String, parameter: Parameter)] = [("weight", weight)]
        if let bias { p.append(("bias", bias)) }
        return p
    }

    /// AlexNet/DeepCluster initialisation: weight N(0, std²), bias 0.
    public func initializeNormal(std: Float, generator: inout some RandomNumberGenerator) {
        weight.value = Tensor.randomNormal(weight.shape, std: std, using: &generator)
        bias?.value = Tensor.zeros(bias!.shape)
    }
}
