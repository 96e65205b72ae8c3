import Autograd
import Testing
import Tensors

/// A stand-in for a fast backend with a private layout: it implements only ReLU (forward and backward) and
/// `add`, returns its results as `.native` values, counts its calls, and declines everything else.
final class NativeReLUBackend: KernelBackend, @unchecked Sendable {
    final class Box: NativeTensor, @unchecked Sendable {
        let value: Tensor
        init(_ value: Tensor) { self.value = value }
        var shape: [Int] { value.shape }
        var backendName: String { "native-test" }
        func dense() -> Tensor { value }
    }
    var calls = 0
    var name: String { "native-test" }
    func relu(_ input: KernelTensor) -> KernelTensor? {
        calls += 1
        return .native(Box(ReferenceBackend.relu(input.dense())))
    }
    func reluBackward(_ gradOutput: KernelTensor, output: KernelTensor) -> KernelTensor? {
        calls += 1
        return .native(Box(ReferenceBackend.reluBackward(gradOutput.dense(), output: output.dense())))
    }
    func add(_ a: KernelTensor, _ b: KernelTensor) -> KernelTensor? {
        guard a.isNative || b.isNative else { return nil }  // declines plain sums
        calls += 1
        return .native(Box(ReferenceBackend.add(a.dense(), b.dense())))
    }
}

@Suite struct BackendDispatchTests {
    /// conv → BN → ReLU → pool → residual-free head, run with the reference kernels and with a backend that
    /// returns native values for some ops: identical losses and gradients, and the native backend was used.
    @Test func nativeValuesFlowThroughForwardAndBackward() throws {
        let x = randomTensor([2, 3, 6, 6], seed: 1)
        let w = randomTensor([4, 3, 3, 3], seed: 2), scale = randomTensor([4], seed: 3, low: 0.5, high: 1.5)
        let shift = randomTensor([4], seed: 4), fc = randomTensor([5, 36], seed: 5)

        func run(_ kernels: Kernels) throws -> (Float, [Float], [Float]) {
            let tape = Tape(kernels: kernels)
            let wv = tape.variable(w), xv = tape.variable(x)
            let c = conv2d(xv, weight: wv, geometry: Conv2dGeometry(padding: 1))
            let h = relu(try batchNorm(c, scale: tape.variable(scale), shift: tape.variable(shift)).output)
            let p = maxPool2d(relu(h + h), geometry: Pool2dGeometry(kernel: 2))
            let logits = linear(flattened(p), weight: tape.variable(fc))
            let loss = try softmaxCrossEntropy(logits, targets: [1, 4])
            let g = tape.gradients(of: loss)
            return (loss.value.scalar, g[wv].scalars, g[xv].scalars)
        }
        let native = NativeReLUBackend()
        let a = try run(.reference)
        let b = try run(Kernels(preferring: [native]))
        #expect(native.calls >= 5, "the preferred backend should have run relu/add, ran \(native.calls) ops")
        #expect(a.0 == b.0)
        #expect(a.1 == b.1)
        #expect(a.2 == b.2)
        #expect(Kernels(preferring: [native]).names == ["native-test", "reference"])
    }
}
