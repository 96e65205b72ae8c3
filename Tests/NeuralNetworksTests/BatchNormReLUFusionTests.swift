import Autograd
import NeuralNetworks
import Testing
import Tensors

/// `Sequential` runs a `BatchNorm2d` followed by a `ReLU` as one fused op; the result must be that of running
/// the two layers one after the other.
@Suite struct BatchNormReLUFusionTests {
    /// Output, running statistics and gradients of [BN, ReLU] run through `Sequential` (fused) or layer by layer.
    func run(fused: Bool, training: Bool, kernels: Kernels) throws -> [[Float]] {
        var rng = Xoshiro256(seed: 3)
        let x = Tensor.randomNormal([4, 16, 5, 5], mean: 0.3, std: 1.5, using: &rng)
        let seed = Tensor.randomNormal([4, 16, 5, 5], using: &rng)
        let bn = BatchNorm2d(16)
        bn.weight.value = Tensor.randomNormal([16], mean: 1, std: 0.3, using: &rng)
        bn.bias.value = Tensor.randomNormal([16], std: 0.3, using: &rng)
        let net = Sequential([bn, ReLU()])
        net.setTraining(training)
        let tape = Tape(kernels: kernels)
        let xv = tape.variable(x)
        let y = fused ? try net(xv) : try net.layers[1](try net.layers[0](xv))
        let g = tape.gradients(of: y, seed: seed)
        return [y.value.scalars, bn.runningMean.value.scalars, bn.runningVariance.value.scalars, g[xv].scalars,
                g[bn.weight].scalars, g[bn.bias].scalars]
    }

    @Test("fused and layer-by-layer agree exactly on the reference backend (training and evaluation)")
    func reference() throws {
        for training in [true, false] {
            #expect(try run(fused: true, training: training, kernels: .reference)
                    == run(fused: false, training: training, kernels: .reference), "training: \(training)")
        }
    }

    @Test("fused on oneDNN agrees with layer-by-layer on the reference backend")
    func oneDNN() throws {
        let fused = try run(fused: true, training: true, kernels: OneDNNBackend.kernels)
        let plain = try run(fused: false, training: true, kernels: .reference)
        for (k, (a, e)) in zip(fused, plain).enumerated() {
            let scale = e.map { abs($0) }.max() ?? 0
            let diff = zip(a, e).map { abs($0 - $1) }.max() ?? 0
            #expect(diff <= 1e-4 * max(scale, 1e-30), "quantity \(k): max difference \(diff), scale \(scale)")
        }
    }
}
