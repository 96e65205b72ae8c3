import CTensorKernels
import Testing
import Tensors

/// The direct 2×2 / stride-2 max-pooling kernel (`ctk_maxpool2x2_*`, used by `OneDNNBackend` for that geometry)
/// against `ReferenceBackend` (PyTorch's rule: first maximum in row-major window order, a NaN wins, the last
/// NaN over earlier ones): values bit for bit (any NaN for a NaN: the reference writes a canonical one where
/// the kernel passes the winning element on), gradients bit for bit (routed to the same elements).
@Suite("Direct 2x2 max pooling")
struct DirectMaxPoolTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let shape: [Int], lanes: Int, threads: Int32
        var testDescription: String { "x\(shape) lanes \(lanes) threads \(threads)" }
    }

    /// Every lane width the kernel is called with (1: NCHW, 8 and 16: oneDNN's AVX2 and AVX-512 blocks) and a
    /// width it only handles generically (5: scalar lanes, 12: vector and scalar), odd and even sides, channel
    /// counts that do not fill the last block, and the parallel split (planes × rows over 1-3 threads, also above
    /// the size below which it runs on one thread).
    static let cases: [Case] = [
        Case(shape: [2, 3, 8, 8], lanes: 1, threads: 1),
        Case(shape: [3, 4, 9, 7], lanes: 1, threads: 2),
        Case(shape: [2, 16, 6, 6], lanes: 8, threads: 1),
        Case(shape: [2, 13, 7, 10], lanes: 8, threads: 3),
        Case(shape: [4, 32, 33, 32], lanes: 8, threads: 2),
        Case(shape: [2, 20, 5, 9], lanes: 16, threads: 2),
        Case(shape: [2, 32, 32, 31], lanes: 16, threads: 3),
        Case(shape: [1, 7, 4, 5], lanes: 5, threads: 2),
        Case(shape: [3, 24, 6, 6], lanes: 12, threads: 2),
    ]

    /// Element (n, c, h, w) of an NCHW value at its place in the blocked layout (lanes channels per pixel, the
    /// channel count padded to a multiple of lanes with `pad`).
    static func blocked(_ t: Tensor, lanes: Int, pad: Float = 0) -> [Float] {
        let (n, c, h, w) = (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
        let blocks = (c + lanes - 1) / lanes
        var out = [Float](repeating: pad, count: n * blocks * h * w * lanes)
        let v = t.scalars
        for i in 0..<n { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
            let dst = (((i * blocks + ch / lanes) * h + y) * w + x) * lanes + ch % lanes
            out[dst] = v[((i * c + ch) * h + y) * w + x]
        } } } }
        return out
    }

    /// The NCHW value of a blocked array (padding lanes dropped).
    static func unblocked(_ b: [Float], shape: [Int], lanes: Int) -> [Float] {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let blocks = (c + lanes - 1) / lanes
        var out = [Float](repeating: 0, count: n * c * h * w)
        for i in 0..<n { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
            out[((i * c + ch) * h + y) * w + x] = b[(((i * blocks + ch / lanes) * h + y) * w + x) * lanes + ch % lanes]
        } } } }
        return out
    }

    /// Equal bit patterns, or both NaN.
    static func same(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
    }

    /// Random values with NaNs, ±∞, exact ties and ±0 sprinkled in.
    static func hostile(_ shape: [Int], seed: UInt64) -> Tensor {
        var v = OneDNNCheck.normal(shape, seed: seed).scalars
        for i in stride(from: 0, to: v.count, by: 7) { v[i] = .nan }
        for i in stride(from: 3, to: v.count, by: 11) { v[i] = .infinity }
        for i in stride(from: 5, to: v.count, by: 13) { v[i] = -.infinity }
        for i in stride(from: 1, to: v.count, by: 5) { v[i] = v[i - 1] }
        for i in stride(from: 2, to: v.count, by: 19) { v[i] = -0.0 }
        for i in stride(from: 4, to: v.count, by: 23) { v[i] = 0.0 }
        return Tensor(shape: shape, scalars: v)
    }

    @Test("values and gradients equal the reference rule, every lane width", arguments: cases)
    func againstReference(_ c: Case) throws {
        let g = Pool2dGeometry(kernel: 2, stride: 2, padding: 0)
        for (label, x) in [("normal", OneDNNCheck.normal(c.shape, seed: 11)), ("hostile", Self.hostile(c.shape, seed: 12))] {
            let out = g.outputShape(input: c.shape)
            let (yRef, idx) = ReferenceBackend.maxPool2dForward(x, geometry: g)
            let gy = OneDNNCheck.normal(out, seed: 13)
            let gxRef = ReferenceBackend.maxPool2dBackward(gy, indices: idx, inputShape: c.shape)
            let planes = c.shape[0] * ((c.shape[1] + c.lanes - 1) / c.lanes)
            let xb = Self.blocked(x, lanes: c.lanes)
            let gyb = Self.blocked(gy, lanes: c.lanes)
            var yb = [Float](repeating: 7, count: planes * out[2] * out[3] * c.lanes)
            var gxb = [Float](repeating: 7, count: xb.count)  // every element must be overwritten
            if !yb.isEmpty {
                ctk_maxpool2x2_forward(xb, &yb, planes, c.shape[2], c.shape[3], c.lanes, c.threads)
            }
            ctk_maxpool2x2_backward(xb, gyb, &gxb, planes, c.shape[2], c.shape[3], c.lanes, c.threads)
            let y = Self.unblocked(yb, shape: out, lanes: c.lanes)
            #expect(Self.same(y, yRef.scalars), "forward \(label) \(c.testDescription)")
            let gx = Self.unblocked(gxb, shape: c.shape, lanes: c.lanes)
            #expect(gx.map(\.bitPattern) == gxRef.scalars.map(\.bitPattern), "backward \(label) \(c.testDescription)")
            // Padding lanes (zero in) stay zero: the output's max of zeros, the gradient's zero gradient.
            let padded = (c.shape[1] + c.lanes - 1) / c.lanes * c.lanes != c.shape[1]
            if padded {
                let yPad = Self.blocked(Tensor(shape: out, scalars: y), lanes: c.lanes, pad: 0)
                #expect(Self.same(yb, yPad), "pad lanes \(label) \(c.testDescription)")
            }
        }
    }

    @Test("OneDNNBackend runs it for 2x2/2 (dense and native input): reference bits, oneDNN's values on normal data")
    func throughTheBackend() throws {
        let direct = OneDNNBackend.shared
        let onednn = OneDNNBackend(maxPooledBytes: 1 << 28, directMaxPool: false)
        let g = Pool2dGeometry(kernel: 2, stride: 2, padding: 0)
        for shape in [[2, 16, 8, 8], [3, 5, 9, 11], [2, 40, 7, 6], [1, 1, 2, 2]] {
            for (label, x) in [("normal", OneDNNCheck.normal(shape, seed: 21)), ("hostile", Self.hostile(shape, seed: 22))] {
                let c = shape[1]
                // The layout a convolution produces (blocked for these channel counts on every ISA).
                let eye = Tensor(shape: [c, c, 1, 1]) { i in i / c == i % c ? 1 : 0 }
                let native = try #require(direct.conv2dForward(.dense(x), weight: eye, bias: nil, geometry: Conv2dGeometry()))
                let xv = native.dense()  // NaN · 0 sums make the conv copy differ from x; pool what it holds
                let (yRef, idx) = ReferenceBackend.maxPool2dForward(xv, geometry: g)
                let gy = OneDNNCheck.normal(yRef.shape, seed: 23)
                let gxRef = ReferenceBackend.maxPool2dBackward(gy, indices: idx, inputShape: shape)
                for (kind, input) in [("dense", KernelTensor.dense(xv)), ("native", native)] {
                    let what = "\(label) \(kind) \(shape)"
                    let r = try #require(direct.maxPool2dForward(input, geometry: g))
                    #expect(Self.same(r.output.dense().scalars, yRef.scalars), "fwd \(what)")
                    let inference = try #require(direct.maxPool2dInference(input, geometry: g))
                    #expect(Self.same(inference.dense().scalars, yRef.scalars), "inf \(what)")
                    let gx = try #require(direct.maxPool2dBackward(.dense(gy), workspace: r.workspace, inputShape: shape,
                                                                   geometry: g))
                    #expect(gx.dense().scalars.map(\.bitPattern) == gxRef.scalars.map(\.bitPattern), "bwd \(what)")
                    // The native gradient keeps the input's layout: it goes on into the layer below unchanged.
                    if case .native = input { #expect(gx.isNative, "bwd layout \(what)") }
                    if label == "normal" {  // oneDNN's primitives agree where no NaN decides
                        let o = try #require(onednn.maxPool2dForward(input, geometry: g))
                        #expect(o.output.dense().scalars == yRef.scalars, "oneDNN fwd \(what)")
                        let ogx = try #require(onednn.maxPool2dBackward(.dense(gy), workspace: o.workspace,
                                                                        inputShape: shape, geometry: g))
                        #expect(ogx.dense().scalars == gxRef.scalars, "oneDNN bwd \(what)")
                    }
                }
            }
        }
    }
}
