import Testing
import Tensors

/// Every `OneDNNBackend` op against `ReferenceBackend` on small shapes (relative error ≤ 1e-4, see
/// `OneDNNCheck.relativeError`), with dense and oneDNN-native inputs.
@Suite("OneDNNBackend ops")
struct OneDNNBackendTests {
    let dnn = OneDNNBackend.shared
    let ref = ReferenceBackend.shared

    struct ConvCase: CustomTestStringConvertible, Sendable {
        let input: [Int], weight: [Int], stride: Int, padding: Int
        var testDescription: String { "x\(input) w\(weight) s\(stride) p\(padding)" }
    }

    static let convCases: [ConvCase] = [
        ConvCase(input: [2, 3, 9, 9], weight: [16, 3, 3, 3], stride: 1, padding: 1),     // RGB stem
        ConvCase(input: [2, 3, 11, 13], weight: [8, 3, 5, 5], stride: 2, padding: 2),    // non-square, stride 2
        ConvCase(input: [3, 16, 8, 8], weight: [32, 16, 3, 3], stride: 1, padding: 1),   // blocked in and out
        ConvCase(input: [2, 32, 7, 7], weight: [16, 32, 1, 1], stride: 2, padding: 0),   // 1x1 downsample
        ConvCase(input: [2, 5, 6, 6], weight: [7, 5, 3, 3], stride: 2, padding: 0),      // odd channels, right pad −1
        ConvCase(input: [1, 16, 12, 10], weight: [16, 16, 7, 7], stride: 3, padding: 3), // large kernel
        ConvCase(input: [4, 256, 8, 8], weight: [512, 256, 3, 3], stride: 2, padding: 1), // ResNet-18 layer4.0
        ConvCase(input: [4, 256, 8, 8], weight: [512, 256, 1, 1], stride: 2, padding: 0), // its shortcut
        ConvCase(input: [4, 128, 16, 16], weight: [256, 128, 3, 3], stride: 2, padding: 1),
        ConvCase(input: [4, 256, 8, 8], weight: [256, 256, 3, 3], stride: 1, padding: 1),
    ]

    @Test("conv2d forward, backward-data, backward-weights+bias", arguments: convCases)
    func convolution(_ c: ConvCase) throws {
        let g = Conv2dGeometry(stride: c.stride, padding: c.padding)
        let x = OneDNNCheck.normal(c.input, seed: 1)
        let w = OneDNNCheck.normal(c.weight, seed: 2, std: 0.2)
        let b = OneDNNCheck.normal([c.weight[0]], seed: 3)
        let y = try #require(dnn.conv2dForward(.dense(x), weight: w, bias: b, geometry: g), "declined \(c.testDescription)")
        let yRef = ReferenceBackend.conv2dForward(x, weight: w, bias: b, geometry: g)
        #expect(y.isNative)
        OneDNNCheck.expectClose(y.dense(), yRef, "conv.fwd \(c.testDescription)")
        // Same without bias, from a native input (the output of a 1x1 identity-like conv would be the same
        // layout as a chain's): feed the forward output's layout back through backward-data below.
        let y0 = try #require(dnn.conv2dForward(.dense(x), weight: w, bias: nil, geometry: g))
        OneDNNCheck.expectClose(y0.dense(), ReferenceBackend.conv2dForward(x, weight: w, bias: nil, geometry: g),
                                "conv.fwd.nobias \(c.testDescription)")

        // The no-grad forward (inference primitive), with and without its fused ReLU.
        for relu in [false, true] {
            let yi = try #require(dnn.conv2dInference(.dense(x), weight: w, bias: b, geometry: g, relu: relu))
            OneDNNCheck.expectClose(yi.dense(), relu ? ReferenceBackend.relu(yRef) : yRef,
                                    "conv.inf relu \(relu) \(c.testDescription)")
            if relu { #expect(yi.dense().scalars.allSatisfy { $0 >= 0 }, "conv.inf.relu negative \(c.testDescription)") }
        }
        let gy = OneDNNCheck.normal(yRef.shape, seed: 4)
        let gx = try #require(dnn.conv2dBackwardData(.dense(gy), weight: w, inputShape: c.input, geometry: g))
        OneDNNCheck.expectClose(gx.dense(), ReferenceBackend.conv2dBackwardData(gy, weight: w, inputShape: c.input, geometry: g),
                                "conv.bwd_data \(c.testDescription)")
        let gw = try #require(dnn.conv2dBackwardWeights(.dense(gy), input: .dense(x), weightShape: c.weight,
                                                        includeBias: true, geometry: g))
        let gwRef = ReferenceBackend.conv2dBackwardWeights(gy, input: x, weightShape: c.weight, includeBias: true, geometry: g)
        OneDNNCheck.expectClose(gw.weight, gwRef.weight, "conv.bwd_weights \(c.testDescription)")
        let gb = try #require(gw.bias)
        OneDNNCheck.expectClose(gb, gwRef.bias!, "conv.bwd_bias \(c.testDescription)")
        let gwNoBias = try #require(dnn.conv2dBackwardWeights(.dense(gy), input: .dense(x), weightShape: c.weight,
                                                              includeBias: false, geometry: g))
        #expect(gwNoBias.bias == nil)
        OneDNNCheck.expectClose(gwNoBias.weight, gwRef.weight, "conv.bwd_weights \(c.testDescription) no bias")
    }

    struct PoolCase: CustomTestStringConvertible, Sendable {
        let input: [Int], kernel: Int, stride: Int, padding: Int
        var testDescription: String { "x\(input) k\(kernel) s\(stride) p\(padding)" }
    }

    static let poolCases: [PoolCase] = [
        PoolCase(input: [2, 16, 8, 8], kernel: 2, stride: 2, padding: 0),
        PoolCase(input: [2, 16, 9, 9], kernel: 3, stride: 2, padding: 1),   // ResNet stem pool
        PoolCase(input: [2, 5, 13, 11], kernel: 3, stride: 2, padding: 0),  // AlexNet pool, odd sizes
        PoolCase(input: [1, 32, 7, 7], kernel: 3, stride: 1, padding: 1),   // overlapping, stride 1
        PoolCase(input: [3, 16, 4, 4], kernel: 4, stride: 4, padding: 0),   // global
    ]

    /// A native input with the layout a convolution produces (channels ≥ 16 → blocked), plus its dense value.
    func nativeInput(_ shape: [Int], seed: UInt64) throws -> (KernelTensor, Tensor) {
        let x = OneDNNCheck.normal(shape, seed: seed)
        let c = shape[1]
        // A 1x1 convolution with the identity matrix copies x into oneDNN's preferred layout.
        let eye = Tensor(shape: [c, c, 1, 1]) { i in i / c == i % c ? 1 : 0 }
        let n = try #require(dnn.conv2dForward(.dense(x), weight: eye, bias: nil, geometry: Conv2dGeometry()))
        #expect(n.isNative)
        return (n, n.dense())
    }

    @Test("max pooling forward and backward (dense and native input)", arguments: poolCases)
    func maxPooling(_ c: PoolCase) throws {
        let g = Pool2dGeometry(kernel: c.kernel, stride: c.stride, padding: c.padding)
        let (native, xv) = try nativeInput(c.input, seed: 5)
        for (label, input) in [("dense", KernelTensor.dense(xv)), ("native", native)] {
            let r = try #require(dnn.maxPool2dForward(input, geometry: g), "declined \(label) \(c.testDescription)")
            let (yRef, idx) = ReferenceBackend.maxPool2dForward(xv, geometry: g)
            OneDNNCheck.expectClose(r.output.dense(), yRef, "maxpool.fwd \(label) \(c.testDescription)")
            let gy = OneDNNCheck.normal(yRef.shape, seed: 6)
            let gx = try #require(dnn.maxPool2dBackward(.dense(gy), workspace: r.workspace, inputShape: c.input, geometry: g))
            OneDNNCheck.expectClose(gx.dense(), ReferenceBackend.maxPool2dBackward(gy, indices: idx, inputShape: c.input),
                                    "maxpool.bwd \(label) \(c.testDescription)")
            // The no-grad primitive (no workspace) gives the training forward's values exactly.
            let inference = try #require(dnn.maxPool2dInference(input, geometry: g), "declined \(label) \(c.testDescription)")
            #expect(inference.dense().scalars == r.output.dense().scalars, "maxpool.inf \(label) \(c.testDescription)")
            #expect(inference.dense().scalars == yRef.scalars, "maxpool.inf \(label) \(c.testDescription)")
        }
    }

    @Test("max pooling without a backward: the training forward's bits with NaN, ±∞ and ties, native input")
    func maxPoolingInferenceSpecialValues() throws {
        let shape = [2, 16, 6, 6]
        let (native, xv) = try nativeInput(shape, seed: 9)
        var v = xv.scalars
        for i in stride(from: 0, to: v.count, by: 7) { v[i] = .nan }
        for i in stride(from: 3, to: v.count, by: 11) { v[i] = .infinity }
        for i in stride(from: 5, to: v.count, by: 13) { v[i] = -.infinity }
        for i in stride(from: 1, to: v.count, by: 17) { v[i] = v[i - 1] }  // ties
        let special = Tensor(shape: shape, scalars: v)
        let g = Pool2dGeometry(kernel: 2, stride: 2, padding: 0)
        for (label, input) in [("dense", KernelTensor.dense(special)), ("native", native)] {
            let training = try #require(dnn.maxPool2dForward(input, geometry: g)).output.dense().scalars
            let inference = try #require(dnn.maxPool2dInference(input, geometry: g)).dense().scalars
            #expect(training.map(\.bitPattern) == inference.map(\.bitPattern), "\(label)")
        }
    }

    @Test("average pooling forward and backward (count_include_pad)", arguments: poolCases)
    func avgPooling(_ c: PoolCase) throws {
        let g = Pool2dGeometry(kernel: c.kernel, stride: c.stride, padding: c.padding)
        let (native, xv) = try nativeInput(c.input, seed: 7)
        for (label, input) in [("dense", KernelTensor.dense(xv)), ("native", native)] {
            let y = try #require(dnn.avgPool2dForward(input, geometry: g), "declined \(label) \(c.testDescription)")
            let yRef = ReferenceBackend.avgPool2dForward(xv, geometry: g)
            OneDNNCheck.expectClose(y.dense(), yRef, "avgpool.fwd \(label) \(c.testDescription)")
            let gy = OneDNNCheck.normal(yRef.shape, seed: 8)
            let gx = try #require(dnn.avgPool2dBackward(.dense(gy), inputShape: c.input, geometry: g))
            OneDNNCheck.expectClose(gx.dense(), ReferenceBackend.avgPool2dBackward(gy, inputShape: c.input, geometry: g),
                                    "avgpool.bwd \(label) \(c.testDescription)")
        }
    }

    static let batchNormShapes: [[Int]] = [[4, 16, 5, 5], [3, 5, 4, 6], [8, 32, 1, 1], [16, 10], [4, 256, 8, 8], [4, 512, 4, 4]]

    @Test("batch norm training forward/backward and inference forward/backward", arguments: batchNormShapes)
    func batchNorm(_ shape: [Int]) throws {
        let c = shape[1]
        let x = OneDNNCheck.normal(shape, seed: 9, std: 2, mean: 0.5)
        let scale = OneDNNCheck.normal([c], seed: 10, mean: 1), shift = OneDNNCheck.normal([c], seed: 11)
        let inputs: [(String, KernelTensor, Tensor)]
        if shape.count == 4 {
            let (n, v) = try nativeInput(shape, seed: 9)
            inputs = [("dense", .dense(x), x), ("native", n, v)]
        } else {
            inputs = [("dense", .dense(x), x)]
        }
        for (label, input, xv) in inputs {
            let name = "\(label) \(shape)"
            let r = try #require(dnn.batchNormTrainingForward(input, scale: scale, shift: shift, epsilon: 1e-5))
            let e = ReferenceBackend.batchNormTrainingForward(xv, scale: scale, shift: shift, epsilon: 1e-5)
            OneDNNCheck.expectClose(r.output.dense(), e.output, "bn.train.fwd \(name)")
            OneDNNCheck.expectClose(r.mean, e.mean, "bn.train.mean \(name)")
            OneDNNCheck.expectClose(r.variance, e.variance, "bn.train.var \(name)")
            let gy = OneDNNCheck.normal(shape, seed: 12)
            let g = try #require(dnn.batchNormTrainingBackward(.dense(gy), input: input, scale: scale, workspace: r.workspace))
            let ge = ReferenceBackend.batchNormBackward(gy, input: xv, scale: scale, mean: e.mean,
                                                        inverseStd: e.inverseStd, training: true)
            OneDNNCheck.expectClose(g.input.dense(), ge.input, "bn.train.bwd \(name)")
            OneDNNCheck.expectClose(g.scale, ge.scale, "bn.train.dscale \(name)")
            OneDNNCheck.expectClose(g.shift, ge.shift, "bn.train.dshift \(name)")

            let mean = OneDNNCheck.normal([c], seed: 13), variance = Tensor(OneDNNCheck.normal([c], seed: 14).scalars.map { $0 * $0 + 0.5 })
            let y = try #require(dnn.batchNormInferenceForward(input, scale: scale, shift: shift, mean: mean,
                                                               variance: variance, epsilon: 1e-3))
            OneDNNCheck.expectClose(y.dense(), ReferenceBackend.batchNormInferenceForward(
                xv, scale: scale, shift: shift, mean: mean, variance: variance, epsilon: 1e-3), "bn.infer.fwd \(name)")
            let gi = try #require(dnn.batchNormInferenceBackward(.dense(gy), input: input, scale: scale, mean: mean,
                                                                 variance: variance, epsilon: 1e-3))
            let gie = ref.batchNormInferenceBackward(.dense(gy), input: .dense(xv), scale: scale, mean: mean,
                                                     variance: variance, epsilon: 1e-3)!
            OneDNNCheck.expectClose(gi.input.dense(), gie.input.dense(), "bn.infer.bwd \(name)")
            OneDNNCheck.expectClose(gi.scale, gie.scale, "bn.infer.dscale \(name)")
            OneDNNCheck.expectClose(gi.shift, gie.shift, "bn.infer.dshift \(name)")
        }
    }

    @Test("batch norm + ReLU fused (training) forward and backward", arguments: batchNormShapes)
    func batchNormReLU(_ shape: [Int]) throws {
        let c = shape[1]
        let x = OneDNNCheck.normal(shape, seed: 20, std: 2, mean: 0.5)
        let scale = OneDNNCheck.normal([c], seed: 21, mean: 1), shift = OneDNNCheck.normal([c], seed: 22)
        let inputs: [(String, KernelTensor, Tensor)]
        if shape.count == 4 {
            let (n, v) = try nativeInput(shape, seed: 20)
            inputs = [("dense", .dense(x), x), ("native", n, v)]
        } else {
            inputs = [("dense", .dense(x), x)]
        }
        for (label, input, xv) in inputs {
            let name = "\(label) \(shape)"
            let r = try #require(dnn.batchNormReLUTrainingForward(input, scale: scale, shift: shift, epsilon: 1e-5))
            let e = try #require(ref.batchNormReLUTrainingForward(.dense(xv), scale: scale, shift: shift, epsilon: 1e-5))
            let y = r.output.dense(), ye = e.output.dense()
            OneDNNCheck.expectClose(y, ye, "bn_relu.fwd \(name)")
            #expect(y.scalars.contains(0) && ye.scalars.contains(0), "\(name): the ReLU must clip some values")
            OneDNNCheck.expectClose(r.mean, e.mean, "bn_relu.mean \(name)")
            OneDNNCheck.expectClose(r.variance, e.variance, "bn_relu.var \(name)")
            let gy = OneDNNCheck.normal(shape, seed: 23)
            let g = try #require(dnn.batchNormReLUTrainingBackward(.dense(gy), input: input, scale: scale,
                                                                   workspace: r.workspace))
            let ge = try #require(ref.batchNormReLUTrainingBackward(.dense(gy), input: .dense(xv), scale: scale,
                                                                    workspace: e.workspace))
            OneDNNCheck.expectClose(g.input.dense(), ge.input.dense(), "bn_relu.bwd \(name)")
            OneDNNCheck.expectClose(g.scale, ge.scale, "bn_relu.dscale \(name)")
            OneDNNCheck.expectClose(g.shift, ge.shift, "bn_relu.dshift \(name)")
        }
    }

    struct LinearCase: CustomTestStringConvertible, Sendable {
        let batch: Int, inFeatures: Int, outFeatures: Int
        var testDescription: String { "B\(batch) \(inFeatures)→\(outFeatures)" }
    }

    static let linearCases: [LinearCase] = [
        LinearCase(batch: 2, inFeatures: 3, outFeatures: 5),       // tiny, odd
        LinearCase(batch: 7, inFeatures: 33, outFeatures: 17),     // nothing a multiple of 16
        LinearCase(batch: 16, inFeatures: 64, outFeatures: 48),
        LinearCase(batch: 4, inFeatures: 300, outFeatures: 130),   // a head: long input, odd outputs
        LinearCase(batch: 1, inFeatures: 40, outFeatures: 1),      // one row, one output
    ]

    @Test("linear forward (with and without bias), backward-data, backward-weights+bias", arguments: linearCases)
    func linear(_ c: LinearCase) throws {
        let x = OneDNNCheck.normal([c.batch, c.inFeatures], seed: 40)
        let w = OneDNNCheck.normal([c.outFeatures, c.inFeatures], seed: 41, std: 0.2)
        let b = OneDNNCheck.normal([c.outFeatures], seed: 42)
        let y = try #require(dnn.linearForward(.dense(x), weight: w, bias: b), "declined \(c.testDescription)")
        OneDNNCheck.expectClose(y.dense(), ReferenceBackend.linearForward(x, weight: w, bias: b),
                                "linear.fwd \(c.testDescription)")
        let y0 = try #require(dnn.linearForward(.dense(x), weight: w, bias: nil))
        OneDNNCheck.expectClose(y0.dense(), ReferenceBackend.linearForward(x, weight: w, bias: nil),
                                "linear.fwd.nobias \(c.testDescription)")
        let gy = OneDNNCheck.normal([c.batch, c.outFeatures], seed: 43)
        let gx = try #require(dnn.linearBackwardData(.dense(gy), weight: w))
        OneDNNCheck.expectClose(gx.dense(), ReferenceBackend.linearBackwardData(gy, weight: w),
                                "linear.bwd_data \(c.testDescription)")
        let g = try #require(dnn.linearBackwardWeights(.dense(gy), input: .dense(x), includeBias: true))
        let gRef = ReferenceBackend.linearBackwardWeights(gy, input: x, includeBias: true)
        OneDNNCheck.expectClose(g.weight, gRef.weight, "linear.bwd_weights \(c.testDescription)")
        OneDNNCheck.expectClose(try #require(g.bias), gRef.bias!, "linear.bwd_bias \(c.testDescription)")
        #expect(dnn.linearBackwardWeights(.dense(gy), input: .dense(x), includeBias: false)?.bias == nil)
    }

    @Test("linear reads transposed views and oneDNN-native inputs without changing the result")
    func linearOperandLayouts() throws {
        // A transposed view of the weight (its storage is (in, out)) and a native 2-D input.
        let wT = OneDNNCheck.normal([24, 10], seed: 44)
        let w = wT.transposed()
        let (xn, _) = try nativeInput([3, 24, 1, 1], seed: 45)
        let x = xn.dense().reshaped([3, 24])
        let y = try #require(dnn.linearForward(.dense(x), weight: w, bias: nil))
        OneDNNCheck.expectClose(y.dense(), ReferenceBackend.linearForward(x, weight: w, bias: nil), "linear.fwd view")
        let gy = OneDNNCheck.normal([3, 10], seed: 46)
        OneDNNCheck.expectClose(try #require(dnn.linearBackwardData(.dense(gy), weight: w)).dense(),
                                ReferenceBackend.linearBackwardData(gy, weight: w), "linear.bwd_data view")
    }

    @Test("linear results live in pooled buffers: a second identical step reuses them (no fresh pages)")
    func linearReusesPooledBuffers() throws {
        let backend = OneDNNBackend(maxPooledBytes: 1 << 30)
        let x = OneDNNCheck.normal([8, 512], seed: 47)
        let w = OneDNNCheck.normal([256, 512], seed: 48)   // dW is 512 KB, above the pool's minimum
        let gy = OneDNNCheck.normal([8, 256], seed: 49)
        func step() throws -> Tensor {
            _ = try #require(backend.linearForward(.dense(x), weight: w, bias: nil))
            return try #require(backend.linearBackwardWeights(.dense(gy), input: .dense(x), includeBias: false)).weight
        }
        let first = try step()
        #expect(backend.pool.idle == 0, "the live weight gradient must not be counted idle")
        let firstValues = first.scalars
        _ = consume first
        let idle = backend.pool.idle
        #expect(idle >= 512 << 10, "the weight gradient's buffer should return to the pool, idle \(idle)")
        let second = try step()
        #expect(second.scalars == firstValues)
        #expect(backend.pool.idle == idle - (512 << 10), "the second step should take the recycled buffer")
    }

    @Test("relu forward/backward and add on native values; dense-only inputs are declined")
    func elementwise() throws {
        let shape = [2, 16, 5, 7]
        let (a, av) = try nativeInput(shape, seed: 15)
        let (b, bv) = try nativeInput(shape, seed: 16)
        let y = try #require(dnn.relu(a))
        #expect(y.isNative)
        let yRef = ReferenceBackend.relu(av)
        OneDNNCheck.expectClose(y.dense(), yRef, "relu.fwd native")
        let gy = OneDNNCheck.normal(shape, seed: 17)
        let gx = try #require(dnn.reluBackward(.dense(gy), output: y))
        OneDNNCheck.expectClose(gx.dense(), ReferenceBackend.reluBackward(gy, output: yRef), "relu.bwd native")
        // Gradient at exactly 0 is 0 (PyTorch's threshold_backward).
        let zeros = try #require(dnn.conv2dForward(.dense(Tensor.zeros(shape)), weight: Tensor.zeros([16, 16, 1, 1]),
                                                   bias: nil, geometry: Conv2dGeometry()))
        let g0 = try #require(dnn.reluBackward(.dense(gy), output: zeros))
        #expect(g0.dense().scalars.allSatisfy { $0 == 0 })

        let s = try #require(dnn.add(a, b))
        OneDNNCheck.expectClose(s.dense(), ReferenceBackend.add(av, bv), "add native+native")
        let s2 = try #require(dnn.add(.dense(av), b))
        OneDNNCheck.expectClose(s2.dense(), ReferenceBackend.add(av, bv), "add dense+native")
        let s3 = try #require(dnn.add(a, .dense(bv)))
        OneDNNCheck.expectClose(s3.dense(), ReferenceBackend.add(av, bv), "add native+dense")

        #expect(dnn.relu(.dense(av)) == nil)
        #expect(dnn.add(.dense(av), .dense(bv)) == nil)
    }

    @Test("Kernels(preferring:) routes to oneDNN first and falls back to the reference")
    func selection() throws {
        let kernels = OneDNNBackend.kernels
        #expect(kernels.names == ["onednn", "reference"])
        let x = OneDNNCheck.normal([1, 4, 5, 5], seed: 18)
        let (_, conv) = kernels.first { $0.conv2dForward(.dense(x), weight: Tensor.ones([4, 4, 1, 1]), bias: nil,
                                                         geometry: Conv2dGeometry()) }
        #expect(conv.name == "onednn")
        let (_, r) = kernels.first { $0.relu(.dense(x)) }
        #expect(r.name == "reference")
    }
}
