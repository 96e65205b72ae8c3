import TestSupport
import Testing
import Tensors

/// The im2col + GEMM convolution against direct loops (in Double), on shapes large enough that the batch is
/// split into several column chunks (the chunk boundary logic and the `beta = 1` weight accumulation).
@Suite struct ReferenceConvolutionTests {
    struct Case: CustomStringConvertible, Sendable {
        let input: [Int], weight: [Int], stride: Int, padding: Int
        var description: String { "x\(input) w\(weight) s\(stride) p\(padding)" }
    }

    /// Direct definition of the three convolution passes.
    static func naive(_ x: Tensor, _ w: Tensor, _ gy: Tensor, _ g: Conv2dGeometry) -> (y: [Double], gx: [Double], gw: [Double]) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let (oh, ow) = (gy.shape[2], gy.shape[3])
        let xs = x.scalars, ws = w.scalars, gs = gy.scalars
        var y = [Double](repeating: 0, count: n * o * oh * ow)
        var gx = [Double](repeating: 0, count: xs.count), gw = [Double](repeating: 0, count: ws.count)
        for b in 0..<n { for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
            let yi = ((b * o + oc) * oh + i) * ow + j
            for ci in 0..<c { for u in 0..<kh { for v in 0..<kw {
                let iy = i * g.strideH - g.paddingH + u, ix = j * g.strideW - g.paddingW + v
                if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                let xi = ((b * c + ci) * h + iy) * wd + ix, wi = ((oc * c + ci) * kh + u) * kw + v
                y[yi] += Double(xs[xi]) * Double(ws[wi])
                gx[xi] += Double(gs[yi]) * Double(ws[wi])
                gw[wi] += Double(gs[yi]) * Double(xs[xi])
            } } }
        } } } }
        return (y, gx, gw)
    }

    @Test(arguments: [
        Case(input: [20, 16, 64, 64], weight: [4, 16, 3, 3], stride: 1, padding: 1),   // 2 chunks (14 + 6 images)
        Case(input: [9, 8, 60, 61], weight: [3, 8, 5, 5], stride: 2, padding: 2),
        Case(input: [3, 2, 9, 7], weight: [5, 2, 4, 2], stride: 3, padding: 0),
    ])
    func matchesDirectLoops(_ c: Case) throws {
        var rng = Xoshiro256(seed: 7)
        let g = Conv2dGeometry(stride: c.stride, padding: c.padding)
        let x = Tensor.randomUniform(c.input, low: -1, high: 1, using: &rng)
        let w = Tensor.randomUniform(c.weight, low: -1, high: 1, using: &rng)
        let outShape = g.outputShape(input: c.input, weight: c.weight)
        let gy = Tensor.randomUniform(outShape, low: -1, high: 1, using: &rng)
        let bias = Tensor.randomUniform([c.weight[0]], low: -1, high: 1, using: &rng)
        let ref = Self.naive(x, w, gy, g)
        let y = ReferenceBackend.conv2dForward(x, weight: w, bias: nil, geometry: g)
        expectClose(y.scalars, ref.y, rtol: 1e-5, "\(c) forward")
        let yb = ReferenceBackend.conv2dForward(x, weight: w, bias: bias, geometry: g).scalars
        let plane = outShape[2] * outShape[3], o = outShape[1]
        expectClose(yb, ref.y.enumerated().map { $0.element + Double(bias.scalars[($0.offset / plane) % o]) }, rtol: 1e-5, "\(c) forward + bias")
        expectClose(ReferenceBackend.conv2dBackwardData(gy, weight: w, inputShape: c.input, geometry: g).scalars, ref.gx,
                    rtol: 1e-5, "\(c) backward data")
        let gw = ReferenceBackend.conv2dBackwardWeights(gy, input: x, weightShape: c.weight, includeBias: true, geometry: g)
        expectClose(gw.weight.scalars, ref.gw, rtol: 1e-5, "\(c) backward weights")
        var gb = [Double](repeating: 0, count: o)
        for (i, v) in gy.scalars.enumerated() { gb[(i / plane) % o] += Double(v) }
        expectClose(gw.bias?.scalars ?? [], gb, rtol: 1e-5, "\(c) bias gradient")
    }
}
