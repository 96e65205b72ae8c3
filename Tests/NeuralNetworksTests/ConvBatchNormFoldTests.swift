import Autograd
import NeuralNetworks
import Testing
import Tensors

/// On a no-grad tape, `Sequential` runs Conv2d → BatchNorm2d (evaluation) [→ ReLU] as one convolution with the
/// batch norm folded into its weights (`BatchNorm2d.folded(into:)`) and the ReLU fused (`conv2dInference`).
/// The values must be those of the layers run one by one, up to float rounding.
@Suite struct ConvBatchNormFoldTests {
    /// Asks nothing of the op it watches but counts it, then declines, so the next backend runs it.
    final class Spy: KernelBackend, @unchecked Sendable {
        var name: String { "spy" }
        var inferenceCalls: [(relu: Bool, bias: Bool)] = []
        func conv2dInference(_ input: KernelTensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry,
                             relu: Bool) -> KernelTensor? {
            inferenceCalls.append((relu, bias != nil))
            return nil
        }
    }

    /// conv (with or without bias) → BN with non-trivial running statistics → ReLU → max pool → conv → BN.
    func network(convBias: Bool) -> Sequential {
        var rng = Xoshiro256(seed: 5)
        let conv1 = Conv2d(3, 16, kernelSize: 3, padding: 1, bias: convBias, generator: &rng)
        let conv2 = Conv2d(16, 8, kernelSize: 3, stride: 2, padding: 1, generator: &rng)
        let bn1 = BatchNorm2d(16), bn2 = BatchNorm2d(8)
        for bn in [bn1, bn2] {
            let c = bn.weight.value.count
            bn.weight.value = Tensor.randomNormal([c], mean: 1, std: 0.5, using: &rng)
            bn.bias.value = Tensor.randomNormal([c], std: 0.5, using: &rng)
            bn.runningMean.value = Tensor.randomNormal([c], std: 0.3, using: &rng)
            bn.runningVariance.value = Tensor.randomUniform([c], low: 0.2, high: 3, using: &rng)
        }
        let net = Sequential([conv1, bn1, ReLU(), MaxPool2d(kernelSize: 2), conv2, bn2])
        net.setTraining(false)
        return net
    }

    func layerByLayer(_ net: Sequential, _ x: Tensor, kernels: Kernels) throws -> Tensor {
        var h = Tape(recording: false, kernels: kernels).constant(x)
        for layer in net.layers { h = try layer(h) }
        return h.value
    }

    @Test("folded = layer by layer (reference and oneDNN kernels, conv with and without bias)",
          arguments: [true, false])
    func foldedEqualsLayers(convBias: Bool) throws {
        var rng = Xoshiro256(seed: 6)
        let x = Tensor.randomNormal([3, 3, 12, 12], using: &rng)
        let net = network(convBias: convBias)
        let expected = try layerByLayer(net, x, kernels: .reference)
        for kernels in [Kernels.reference, OneDNNBackend.kernels] {
            let spy = Spy()
            let tape = Tape(recording: false, kernels: Kernels(preferring: [spy] + kernels.backends.dropLast()))
            let y = try net(tape.constant(x)).value
            // Both conv → BN pairs were folded; the first with its ReLU, the second (no ReLU after it) without.
            #expect(spy.inferenceCalls.map(\.relu) == [true, false], "\(kernels.names)")
            #expect(spy.inferenceCalls.allSatisfy { $0.bias }, "the folded convolution always has a bias")
            let scale = expected.scalars.map { abs($0) }.max() ?? 0
            let diff = zip(y.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(y.shape == expected.shape && diff <= 2e-5 * scale, "\(kernels.names): max diff \(diff), scale \(scale)")
        }
    }

    @Test("not folded when training, recording, or when a tap wants the conv or BN output")
    func notFolded() throws {
        var rng = Xoshiro256(seed: 7)
        let x = Tensor.randomNormal([2, 3, 8, 8], using: &rng)
        let net = network(convBias: true)
        // A recording tape (e.g. a linear probe's frozen-trunk graph) keeps the layers separate.
        let spy = Spy()
        _ = try net(Tape(recording: true, kernels: Kernels(preferring: [spy])).constant(x))
        #expect(spy.inferenceCalls.isEmpty)
        // Taps on the first conv (0) and the second BN (5): neither pair folds; the taps hold the layers' values.
        let spy2 = Spy()
        let recorder = TapRecorder(wanted: ["conv1", "bn2"])
        let tape = Tape(recording: false, kernels: Kernels(preferring: [spy2]))
        let y = try net(tape.constant(x), recording: [0: "conv1", 5: "bn2"], into: recorder)
        #expect(spy2.inferenceCalls.isEmpty)
        let conv1 = try #require(recorder.values["conv1"]).value
        #expect(conv1.scalars == (try net.layers[0](Tape(recording: false).constant(x))).value.scalars)
        #expect(try #require(recorder.values["bn2"]).value.scalars == y.value.scalars)
        // Training mode BN: not folded.
        net.setTraining(true)
        let spy3 = Spy()
        _ = try net(Tape(recording: false, kernels: Kernels(preferring: [spy3])).constant(x))
        #expect(spy3.inferenceCalls.isEmpty)
    }
}
