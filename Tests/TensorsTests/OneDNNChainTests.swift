import Testing
import Tensors

/// A small residual network run kernel by kernel on one backend: conv+bias → BN → ReLU → max-pool →
/// (conv → BN) + 1x1-conv shortcut → ReLU → global average pool, forward and backward. On oneDNN every
/// intermediate value stays a native (blocked) tensor; the outputs and all gradients must equal the reference.
@Suite("OneDNNBackend native chains")
struct OneDNNChainTests {
    struct Weights {
        let w1 = OneDNNCheck.normal([16, 3, 3, 3], seed: 21, std: 0.3), b1 = OneDNNCheck.normal([16], seed: 22)
        let g1 = OneDNNCheck.normal([16], seed: 23, mean: 1), s1 = OneDNNCheck.normal([16], seed: 24)
        let w2 = OneDNNCheck.normal([32, 16, 3, 3], seed: 25, std: 0.1)
        let g2 = OneDNNCheck.normal([32], seed: 26, mean: 1), s2 = OneDNNCheck.normal([32], seed: 27)
        let w3 = OneDNNCheck.normal([32, 16, 1, 1], seed: 28, std: 0.3)
    }

    struct Results {
        var output: Tensor
        var grads: [String: Tensor] = [:]
        var intermediates: [KernelTensor] = []
    }

    /// Forward and backward through `b` (ops it declines go to the reference, as `Kernels` would do).
    static func run(_ b: any KernelBackend, x: Tensor, gy: Tensor, w: Weights) -> Results {
        let k = Kernels(preferring: b is ReferenceBackend ? [] : [b])
        let c1 = Conv2dGeometry(stride: 1, padding: 1), pool = Pool2dGeometry(kernel: 3, stride: 2, padding: 1)
        let one = Conv2dGeometry(), eps: Float = 1e-5
        // Forward.
        let a1 = k.run { $0.conv2dForward(.dense(x), weight: w.w1, bias: w.b1, geometry: c1) }
        let (n1, bn1) = k.first { $0.batchNormTrainingForward(a1, scale: w.g1, shift: w.s1, epsilon: eps) }
        let r1 = k.run { $0.relu(n1.output) }
        let (p1, poolB) = k.first { $0.maxPool2dForward(r1, geometry: pool) }
        let a2 = k.run { $0.conv2dForward(p1.output, weight: w.w2, bias: nil, geometry: c1) }
        let (n2, bn2) = k.first { $0.batchNormTrainingForward(a2, scale: w.g2, shift: w.s2, epsilon: eps) }
        let sc = k.run { $0.conv2dForward(p1.output, weight: w.w3, bias: nil, geometry: one) }
        let s = k.run { $0.add(n2.output, sc) }
        let r2 = k.run { $0.relu(s) }
        let gp = Pool2dGeometry(kernel: r2.shape[2])
        let y = k.run { $0.avgPool2dForward(r2, geometry: gp) }
        var out = Results(output: y.dense())
        out.intermediates = [a1, n1.output, r1, p1.output, a2, n2.output, sc, s, r2]
        // Backward.
        let gr2 = k.run { $0.avgPool2dBackward(.dense(gy), inputShape: r2.shape, geometry: gp) }
        let gs = k.run { $0.reluBackward(gr2, output: r2) }
        let gsc = k.run { $0.conv2dBackwardData(gs, weight: w.w3, inputShape: p1.output.shape, geometry: one) }
        let gw3 = k.run { $0.conv2dBackwardWeights(gs, input: p1.output, weightShape: w.w3.shape, includeBias: false,
                                                   geometry: one) }
        let g2 = bn2.batchNormTrainingBackward(gs, input: a2, scale: w.g2, workspace: n2.workspace)!
        let gp1a = k.run { $0.conv2dBackwardData(g2.input, weight: w.w2, inputShape: p1.output.shape, geometry: c1) }
        let gw2 = k.run { $0.conv2dBackwardWeights(g2.input, input: p1.output, weightShape: w.w2.shape,
                                                   includeBias: false, geometry: c1) }
        let gp1 = k.run { $0.add(gp1a, gsc) }
        let gr1 = poolB.maxPool2dBackward(gp1, workspace: p1.workspace, inputShape: r1.shape, geometry: pool)!
        let gn1 = k.run { $0.reluBackward(gr1, output: r1) }
        let g1 = bn1.batchNormTrainingBackward(gn1, input: a1, scale: w.g1, workspace: n1.workspace)!
        let gw1 = k.run { $0.conv2dBackwardWeights(g1.input, input: .dense(x), weightShape: w.w1.shape, includeBias: true,
                                                   geometry: c1) }
        let gx = k.run { $0.conv2dBackwardData(g1.input, weight: w.w1, inputShape: x.shape, geometry: c1) }
        out.grads = ["x": gx.dense(), "w1": gw1.weight, "b1": gw1.bias!, "g1": g1.scale, "s1": g1.shift,
                     "w2": gw2.weight, "g2": g2.scale, "s2": g2.shift, "w3": gw3.weight,
                     "pool_in": gr1.dense(), "block_in": gp1.dense()]
        return out
    }

    @Test("conv → BN → ReLU → pool → residual block → global pool, forward and backward, equals the reference")
    func residualChain() throws {
        let x = OneDNNCheck.normal([4, 3, 12, 12], seed: 20)
        let w = Weights()
        let gy = OneDNNCheck.normal([4, 32, 1, 1], seed: 29)
        let dnn = OneDNNChainTests.run(OneDNNBackend.shared, x: x, gy: gy, w: w)
        let ref = OneDNNChainTests.run(ReferenceBackend.shared, x: x, gy: gy, w: w)
        // Every intermediate stayed in oneDNN's layout (no reorder to NCHW inside the chain).
        for (i, v) in dnn.intermediates.enumerated() {
            #expect(v.isNative, "intermediate \(i) of shape \(v.shape) left the native layout")
        }
        let blocked = dnn.intermediates.compactMap { v -> String? in
            if case .native(let n) = v, let t = n as? OneDNNTensor { return t.layoutDescription }
            return nil
        }
        // oneDNN chooses the channel block by ISA (nChw16c with AVX-512, nChw8c with AVX2): assert the property,
        // not the size. Every intermediate is channel-blocked ("B@1", B > 1), all with the same block, so nothing
        // was reordered between kernels.
        let channelBlocks = blocked.map { d -> Int? in
            guard d.hasPrefix("blocked ["), d.hasSuffix("@1]"), let b = Int(d.dropFirst(9).dropLast(3)) else { return nil }
            return b
        }
        #expect(channelBlocks.count == dnn.intermediates.count, "layouts: \(blocked)")
        #expect(channelBlocks.allSatisfy { ($0 ?? 0) > 1 }, "expected a channel-blocked layout everywhere, got \(blocked)")
        #expect(Set(channelBlocks).count == 1, "the channel block changed inside the chain: \(blocked)")
        OneDNNCheck.expectClose(dnn.output, ref.output, "chain.fwd output")
        for (name, g) in ref.grads.sorted(by: { $0.key < $1.key }) where name != "b1" {
            OneDNNCheck.expectClose(try #require(dnn.grads[name]), g, "chain.bwd \(name)")
        }
        // conv1's bias feeds a batch norm, so its gradient is exactly zero in exact arithmetic and both backends
        // return rounding noise: check that noise against the scale of the weight gradient instead.
        let scale = ref.grads["w1"]!.scalars.map { abs(Double($0)) }.max()!
        for r in [dnn, ref] {
            let noise = r.grads["b1"]!.scalars.map { abs(Double($0)) }.max()!
            #expect(noise <= 1e-4 * scale, "bias gradient before BN: \(noise) vs weight-gradient scale \(scale)")
        }
    }

    @Test("steady state: repeated steps reuse primitives and pooled buffers")
    func steadyState() throws {
        let backend = OneDNNBackend(maxPooledBytes: 1 << 30)
        let x = OneDNNCheck.normal([8, 3, 40, 40], seed: 30)
        let w = Weights()
        let gy = OneDNNCheck.normal([8, 32, 1, 1], seed: 31)
        _ = OneDNNChainTests.run(backend, x: x, gy: gy, w: w)
        let primitives = backend.cachedPrimitiveCount
        let idle = backend.pool.idle
        #expect(idle > 0, "large activations should return to the pool")
        _ = OneDNNChainTests.run(backend, x: x, gy: gy, w: w)
        #expect(backend.cachedPrimitiveCount == primitives, "a second identical step created new primitives")
        #expect(backend.pool.idle == idle, "a second identical step should take and return the same buffers")
    }
}
