import Autograd
import Testing
import Tensors

/// Every op's backward rule against central finite differences (float32 forward, Double probe sums).
@Suite struct OpGradientTests {
    let gc = GradientCheck()

    @Test func conv2dStride2PaddingBorders() throws {
        let g = Conv2dGeometry(stride: 2, padding: 1)
        try gc.check("conv2d s2 p1", [randomTensor([2, 3, 5, 6], seed: 1), randomTensor([4, 3, 3, 3], seed: 2),
                                       randomTensor([4], seed: 3)]) {
            conv2d($0[0], weight: $0[1], bias: $0[2], geometry: g)
        }
    }

    @Test func conv2dNoBiasLargeKernel() throws {
        let g = Conv2dGeometry(strideH: 1, strideW: 2, paddingH: 2, paddingW: 0)
        try gc.check("conv2d 5x5 no bias", [randomTensor([1, 2, 6, 7], seed: 4), randomTensor([3, 2, 5, 5], seed: 5)]) {
            conv2d($0[0], weight: $0[1], geometry: g)
        }
    }

    @Test func maxPoolDistinctValues() throws {
        try gc.check("max_pool2d k3 s2 p1", [distinctTensor([2, 2, 7, 7], seed: 6)]) {
            maxPool2d($0[0], geometry: Pool2dGeometry(kernel: 3, stride: 2, padding: 1))
        }
        try gc.check("max_pool2d k2 s1 (overlapping)", [distinctTensor([1, 2, 5, 5], seed: 7)]) {
            maxPool2d($0[0], geometry: Pool2dGeometry(kernel: 2, stride: 1))
        }
    }

    @Test func avgPoolAndAdaptive() throws {
        try gc.check("avg_pool2d k3 s2 p1", [randomTensor([2, 2, 7, 6], seed: 8)]) {
            avgPool2d($0[0], geometry: Pool2dGeometry(kernel: 3, stride: 2, padding: 1))
        }
        try gc.check("adaptive avg 1x1", [randomTensor([2, 3, 4, 5], seed: 9)]) { adaptiveAvgPool2dTo1x1($0[0]) }
    }

    @Test func batchNormTraining() throws {
        let strict = GradientCheck(step: 1e-2, atol: 1e-3, rtol: 5e-3)
        try strict.check("batch_norm train", [randomTensor([3, 2, 3, 3], seed: 10, low: -2, high: 2),
                                              randomTensor([2], seed: 11, low: 0.5, high: 1.5), randomTensor([2], seed: 12)]) {
            try batchNorm($0[0], scale: $0[1], shift: $0[2]).output
        }
    }

    @Test func batchNormReLUEqualsReLUOfBatchNorm() throws {
        // The fused op is defined as the composition: same values, statistics and gradients, bit for bit.
        for shape in [[3, 2, 3, 3], [5, 4]] {
            let c = shape[1]
            let x = randomTensor(shape, seed: 16, low: -2, high: 2)
            let g = randomTensor([c], seed: 17, low: 0.5, high: 1.5), b = randomTensor([c], seed: 18)
            let seed = randomTensor(shape, seed: 19)
            func run(fused: Bool) throws -> [[Float]] {
                let tape = Tape()
                let xv = tape.variable(x), gv = tape.variable(g), bv = tape.variable(b)
                let r = fused ? try batchNormReLU(xv, scale: gv, shift: bv)
                    : try batchNorm(xv, scale: gv, shift: bv)
                let y = fused ? r.output : relu(r.output)
                let grads = tape.gradients(of: y, seed: seed)
                return [y.value.scalars, r.mean.scalars, r.variance.scalars, grads[xv].scalars, grads[gv].scalars,
                        grads[bv].scalars]
            }
            let fused = try run(fused: true), composed = try run(fused: false)
            #expect(fused == composed, "batchNormReLU vs relu(batchNorm) for \(shape)")
            #expect(fused[0].contains(0) && fused[0].contains { $0 > 0 }, "the ReLU must clip some values")
        }
    }

    @Test func batchNormSingleImageIsAllowed() throws {
        // N = 1 with H·W > 1: statistics over the spatial positions, as PyTorch.
        let strict = GradientCheck(step: 1e-2, atol: 1e-3, rtol: 5e-3)
        try strict.check("batch_norm N=1", [randomTensor([1, 2, 3, 4], seed: 13, low: -2, high: 2),
                                            randomTensor([2], seed: 14, low: 0.5, high: 1.5), randomTensor([2], seed: 15)]) {
            try batchNorm($0[0], scale: $0[1], shift: $0[2]).output
        }
    }

    @Test func batchNormOneValuePerChannelThrows() throws {
        let tape = Tape()
        let x = tape.variable(randomTensor([1, 3, 1, 1], seed: 16))
        #expect(throws: AutogradError.batchNormNeedsMoreThanOneValue(inputShape: [1, 3, 1, 1])) {
            _ = try batchNorm(x, scale: tape.variable(Tensor.ones([3])), shift: tape.variable(Tensor.zeros([3])))
        }
    }

    @Test func batchNormInference() throws {
        let mean = randomTensor([2], seed: 17), variance = randomTensor([2], seed: 18, low: 0.5, high: 2)
        try gc.check("batch_norm eval", [randomTensor([2, 2, 3, 3], seed: 19), randomTensor([2], seed: 20),
                                         randomTensor([2], seed: 21)]) {
            batchNorm($0[0], scale: $0[1], shift: $0[2], mean: mean, variance: variance)
        }
    }

    @Test func reluAwayFromZero() throws {
        // Values on a grid avoiding 0 by at least 0.025 > step.
        try gc.check("relu", [distinctTensor([2, 3, 4], seed: 22, spacing: 0.05, offset: -0.575)]) { relu($0[0]) }
    }

    @Test func linearAndBroadcastAdd() throws {
        try gc.check("linear", [randomTensor([3, 5], seed: 23), randomTensor([4, 5], seed: 24), randomTensor([4], seed: 25)]) {
            linear($0[0], weight: $0[1], bias: $0[2])
        }
        try gc.check("broadcast add (C,1,1) to (N,C,H,W)", [randomTensor([2, 3, 2, 2], seed: 26), randomTensor([3, 1, 1], seed: 27)]) {
            $0[0] + $0[1]
        }
        try gc.check("broadcast sub and mul", [randomTensor([2, 3], seed: 37), randomTensor([3], seed: 38), randomTensor([2, 1], seed: 39)]) {
            ($0[0] - $0[1]) * $0[2]
        }
    }

    @Test func variableUsedTwiceAccumulates() throws {
        try gc.check("x + x and conv(x) + x", [randomTensor([1, 2, 4, 4], seed: 28), randomTensor([2, 2, 3, 3], seed: 29)]) {
            let y = conv2d($0[0], weight: $0[1], geometry: Conv2dGeometry(padding: 1)) + $0[0]
            return y + $0[0] * 0.5
        }
    }

    @Test func reshapeFlattenScaleSumMean() throws {
        try gc.check("flatten + linear", [randomTensor([2, 2, 2, 3], seed: 30), randomTensor([3, 12], seed: 31)]) {
            linear(flattened($0[0], from: 1), weight: $0[1])
        }
        try gc.check("sum, mean, scale", [randomTensor([3, 4], seed: 32)]) {
            mean([sum($0[0]), mean($0[0] * 3)])
        }
    }

    @Test func selectingRowsRepeatedAndReordered() throws {
        // Row 2 twice (its gradient accumulates), row 1 never (zero gradient), order reversed.
        try gc.check("selecting rows", [randomTensor([4, 3], seed: 37)]) { selectingRows($0[0], [3, 2, 0, 2]) }
        try gc.check("selecting rows of a 4-D tensor", [randomTensor([3, 2, 2, 2], seed: 38)]) { selectingRows($0[0], [1]) }
        let tape = Tape()
        let x = tape.variable(Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]))
        let y = selectingRows(x, [2, 0, 2])
        #expect(y.shape == [3, 2] && y.value.scalars == [5, 6, 1, 2, 5, 6])
        #expect(tape.gradients(of: sum(y))[x].scalars == [1, 1, 0, 0, 2, 2])
    }

    @Test func softmaxCrossEntropyAndMultiHead() throws {
        try gc.check("cross-entropy", [randomTensor([4, 5], seed: 33, low: -3, high: 3)]) {
            try softmaxCrossEntropy($0[0], targets: [0, 4, 2, 2])
        }
        try gc.check("multi-head", [randomTensor([3, 4], seed: 34), randomTensor([3, 6], seed: 35)]) {
            try multiHeadCrossEntropy([$0[0], $0[1]], targets: [[0, 1, 3], [5, 5, 0]])
        }
    }

    @Test func dropoutWithFixedMask() throws {
        // The same generator seed gives the same mask in every evaluation, so the op is linear in x.
        try gc.check("dropout p=0.3", [randomTensor([4, 6], seed: 36)]) { dropout($0[0], probability: 0.3) }
    }
}
