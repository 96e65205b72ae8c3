import Autograd
import NeuralNetworks
import Testing
import Tensors

/// The layer example of docs/AUTODIFF.md, kept compiling and working.
final class ScaledDense: Layer {
    var isTraining = true
    let dense: Linear
    let scale: Parameter

    init(_ inputs: Int, _ outputs: Int, generator: inout some RandomNumberGenerator) {
        dense = Linear(inputs, outputs, generator: &generator)
        scale = Parameter(Tensor.ones([outputs]))
    }

    func callAsFunction(_ x: Variable) throws -> Variable {
        relu(try dense(x)) * x.tape.variable(for: scale)
    }

    var ownParameters: [(name: String, parameter: Parameter)] { [("scale", scale)] }
    var children: [(name: String, layer: any Layer)] { [("dense", dense)] }
}

@Suite struct DocumentationExampleTests {
    @Test func exampleLayerTrains() throws {
        var rng = Xoshiro256(seed: 0)
        let layer = ScaledDense(4, 3, generator: &rng)
        #expect(layer.stateDict().map(\.name) == ["scale", "dense.weight", "dense.bias"])
        let sgd = SGD(parameters: layer.namedParameters(), learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
        let x = Tensor.randomNormal([8, 4], using: &rng)
        let targets: [Int32] = [0, 1, 2, 0, 1, 2, 0, 1]
        var losses: [Float] = []
        for step in 0..<20 {
            let tape = Tape(generator: Xoshiro256(seed: UInt64(step)))
            let loss = try softmaxCrossEntropy(try layer(tape.constant(x)), targets: targets)
            losses.append(loss.value.scalar)
            sgd.step(tape.gradients(of: loss))
        }
        #expect(losses.last! < losses.first! - 0.1, "loss should fall: \(losses)")
    }
}
