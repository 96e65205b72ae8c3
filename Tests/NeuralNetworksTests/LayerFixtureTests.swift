import Autograd
import NeuralNetworks
import TestSupport
import Testing
import Tensors

/// Per-layer forward values and gradients against PyTorch (`Fixtures/layers.json`). Upstream gradient r is
/// hashed as in the script: loss = Σ y·r.
@Suite struct LayerFixtureTests {
    let fx: [String: Any]
    init() throws { fx = try Fixture.load("layers.json") }

    /// Runs `f` on leaves for `inputs`, seeds the backward with the hashed r, and compares y and the gradients.
    func compare(_ name: String, inputs: [Tensor], seed: UInt64, rtol: Double = 1e-5,
                 sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Variable]) throws -> Variable) throws {
        let tape = Tape()
        let vars = inputs.map { tape.variable($0) }
        let y = try f(vars)
        let r = hashTensor(seed, y.shape)
        let g = tape.gradients(of: y, seed: r)
        expectClose(y.value, try Fixture.tensor(fx, name + ".y"), rtol: rtol, name + " forward", sourceLocation: sourceLocation)
        for k in vars.indices {
            expectClose(g[vars[k]], try Fixture.tensor(fx, name + ".grad\(k)"), rtol: rtol, name + " grad \(k)",
                        sourceLocation: sourceLocation)
        }
    }

    @Test func convolution() throws {
        try compare("conv_s2p1", inputs: [hashTensor(1, [2, 3, 7, 6]), hashTensor(2, [4, 3, 3, 3], -0.5, 0.5),
                                          hashTensor(3, [4])], seed: 4) {
            conv2d($0[0], weight: $0[1], bias: $0[2], geometry: Conv2dGeometry(stride: 2, padding: 1))
        }
        try compare("conv_k5", inputs: [hashTensor(5, [1, 2, 6, 6]), hashTensor(6, [3, 2, 5, 5], -0.3, 0.3)], seed: 7) {
            conv2d($0[0], weight: $0[1], geometry: Conv2dGeometry())
        }
    }

    @Test func pooling() throws {
        try compare("maxpool_k3s2p1", inputs: [hashTensor(8, [2, 3, 7, 7])], seed: 9) {
            maxPool2d($0[0], geometry: Pool2dGeometry(kernel: 3, stride: 2, padding: 1))
        }
        let ties = Tensor(shape: [2, 2, 6, 6], scalars: hashUniform(seed: 10, count: 144, low: 0, high: 2).map { $0.rounded() })
        try compare("maxpool_ties_k2s2", inputs: [ties], seed: 11) {
            maxPool2d($0[0], geometry: Pool2dGeometry(kernel: 2, stride: 2))
        }
        try compare("maxpool_k3s2", inputs: [hashTensor(12, [1, 2, 9, 9])], seed: 13) {
            maxPool2d($0[0], geometry: Pool2dGeometry(kernel: 3, stride: 2))
        }
        try compare("avgpool_k3s2p1", inputs: [hashTensor(14, [2, 3, 7, 7])], seed: 15) {
            avgPool2d($0[0], geometry: Pool2dGeometry(kernel: 3, stride: 2, padding: 1))
        }
        try compare("adaptive_avg", inputs: [hashTensor(16, [2, 3, 5, 4])], seed: 17) { adaptiveAvgPool2dTo1x1($0[0]) }
    }

    @Test func linearAndReLU() throws {
        try compare("linear", inputs: [hashTensor(18, [3, 5]), hashTensor(19, [4, 5]), hashTensor(20, [4])], seed: 21) {
            linear($0[0], weight: $0[1], bias: $0[2])
        }
        try compare("relu", inputs: [hashTensor(22, [2, 3, 4, 4])], seed: 23) { relu($0[0]) }
    }

    @Test func batchNormLayerTrainingEvaluationAndRunningStatistics() throws {
        let bn = BatchNorm2d(4)
        bn.weight.value = hashTensor(24, [4], 0.5, 1.5)
        bn.bias.value = hashTensor(25, [4], -0.1, 0.1)
        bn.runningMean.value = hashTensor(26, [4], -0.2, 0.2)
        bn.runningVariance.value = hashTensor(27, [4], 0.5, 1.5)
        let xs = hashTensor(28, [3, 4, 5, 5]).scalars.map { $0 * 2 + 0.5 }
        let tape = Tape()
        let x = tape.variable(Tensor(shape: [3, 4, 5, 5], scalars: xs))
        let y = try bn(x)
        let g = tape.gradients(of: y, seed: hashTensor(29, y.shape))
        expectClose(y.value, try Fixture.tensor(fx, "bn_train.y"), rtol: 1e-5, "bn train forward")
        expectClose(g[x], try Fixture.tensor(fx, "bn_train.grad_x"), rtol: 1e-4, "bn train grad x")
        expectClose(g[bn.weight], try Fixture.tensor(fx, "bn_train.grad_weight"), rtol: 1e-5, "bn grad weight")
        expectClose(g[bn.bias], try Fixture.tensor(fx, "bn_train.grad_bias"), rtol: 1e-5, "bn grad bias")
        expectClose(bn.runningMean.value, try Fixture.tensor(fx, "bn_train.running_mean"), rtol: 1e-6, "running mean")
        expectClose(bn.runningVariance.value, try Fixture.tensor(fx, "bn_train.running_var"), rtol: 1e-6, "running var (unbiased)")
        #expect(bn.batchesTracked.value.scalar == 1)

        bn.setTraining(false)
        let tape2 = Tape()
        let x2 = tape2.variable(hashTensor(30, [2, 4, 3, 3]))
        let y2 = try bn(x2)
        let g2 = tape2.gradients(of: y2, seed: hashTensor(31, y2.shape))
        expectClose(y2.value, try Fixture.tensor(fx, "bn_eval.y"), rtol: 1e-5, "bn eval forward")
        expectClose(g2[x2], try Fixture.tensor(fx, "bn_eval.grad_x"), rtol: 1e-5, "bn eval grad x")
        expectClose(g2[bn.weight], try Fixture.tensor(fx, "bn_eval.grad_weight"), rtol: 1e-5, "bn eval grad weight")
        #expect(bn.batchesTracked.value.scalar == 1, "evaluation must not count batches")
    }

    @Test func batchNormSingleImage() throws {
        let bn = BatchNorm2d(2)
        let tape = Tape()
        let x = tape.variable(hashTensor(32, [1, 2, 3, 3]))
        let y = try bn(x)
        let g = tape.gradients(of: y, seed: hashTensor(33, y.shape))
        expectClose(y.value, try Fixture.tensor(fx, "bn_single.y"), rtol: 1e-5, "bn N=1 forward")
        expectClose(g[x], try Fixture.tensor(fx, "bn_single.grad_x"), rtol: 1e-4, "bn N=1 grad")
        expectClose(bn.runningVariance.value, try Fixture.tensor(fx, "bn_single.running_var"), rtol: 1e-6, "bn N=1 running var")
    }

    @Test func crossEntropyAndMultiHeadLoss() throws {
        let tape = Tape()
        let z = tape.variable(Tensor(shape: [4, 6], scalars: hashUniform(seed: 34, count: 24).map { $0 * 3 }))
        let loss = try softmaxCrossEntropy(z, targets: [0, 5, 2, 2])
        expectClose(loss.value, try Fixture.tensor(fx, "ce.loss"), rtol: 1e-6, "cross-entropy")
        expectClose(tape.gradients(of: loss)[z], try Fixture.tensor(fx, "ce.grad"), rtol: 1e-5, "cross-entropy grad")

        let t2 = Tape()
        let l1 = t2.variable(Tensor(shape: [3, 4], scalars: hashUniform(seed: 35, count: 12).map { $0 * 2 }))
        let l2 = t2.variable(Tensor(shape: [3, 5], scalars: hashUniform(seed: 36, count: 15).map { $0 * 2 }))
        let mh = try multiHeadCrossEntropy([l1, l2], targets: [[1, 3, 0], [4, 4, 2]])
        let g = t2.gradients(of: mh)
        expectClose(mh.value, try Fixture.tensor(fx, "multihead.loss"), rtol: 1e-6, "multi-head loss")
        expectClose(g[l1], try Fixture.tensor(fx, "multihead.grad0"), rtol: 1e-5, "multi-head grad 0")
        expectClose(g[l2], try Fixture.tensor(fx, "multihead.grad1"), rtol: 1e-5, "multi-head grad 1")
    }
}
