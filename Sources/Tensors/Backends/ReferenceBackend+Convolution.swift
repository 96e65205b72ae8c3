import CBLAS

/// Convolution by im2col + GEMM. A chunk of `nb` images is unfolded into a column matrix
/// `col` of shape (C·KH·KW, nb·OH·OW), so one `cblas_sgemm` covers the whole chunk:
/// forward `Y = W · col`, backward-data `dcol = Wᵀ · dY` then col2im, backward-weights `dW += dY · colᵀ`.
extension ReferenceBackend {
    /// Upper bound on the column buffer per chunk, in floats (32 MB).
    static let columnBudget = 8 << 20

    /// Sizes shared by the three convolution passes.
    struct ConvShape {
        let n: Int, c: Int, h: Int, w: Int, o: Int, kh: Int, kw: Int, oh: Int, ow: Int
        let g: Conv2dGeometry
        var plane: Int { oh * ow }
        var rows: Int { c * kh * kw }
        init(input: [Int], weight: [Int], geometry: Conv2dGeometry) {
            let out = geometry.outputShape(input: input, weight: weight)
            n = input[0]; c = input[1]; h = input[2]; w = input[3]
            o = weight[0]; kh = weight[2]; kw = weight[3]; oh = out[2]; ow = out[3]; g = geometry
        }
        /// Images per chunk so that the column buffer stays within budget.
        var chunk: Int { max(1, min(n, ReferenceBackend.columnBudget / max(rows * plane, 1))) }
    }

    /// PyTorch `F.conv2d(x, weight, bias, stride, padding)`; x (N, C, H, W), weight (O, C, KH, KW) → (N, O, OH, OW).
    public static func conv2dForward(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry) -> Tensor {
        let s = ConvShape(input: x.shape, weight: weight.shape, geometry: geometry)
        if let bias { precondition(bias.shape == [s.o], "conv2d: bias \(bias.shape) for \(s.o) output channels") }
        var y = Tensor(uninitializedShape: [s.n, s.o, s.oh, s.ow])
        if y.count == 0 { return y }
        let nb = s.chunk
        var col = [Float](repeating: 0, count: s.rows * nb * s.plane)
        var prod = [Float](repeating: 0, count: s.o * nb * s.plane)
        let biasValues = bias?.scalars
        x.withReadPointer { xp in
            weight.withReadPointer { wp in
                y.withUnsafeMutableBufferPointer { yb in
                    let yp = yb.baseAddress!
                    for n0 in stride(from: 0, to: s.n, by: nb) {
                        let m = min(nb, s.n - n0)
                        let ld = m * s.plane
                        col.withUnsafeMutableBufferPointer { cb in
                            im2col(xp + n0 * s.c * s.h * s.w, images: m, s, col: cb.baseAddress!)
                        }
                        col.withUnsafeBufferPointer { cb in
                            prod.withUnsafeMutableBufferPointer { pb in
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(s.o), Int32(ld),
                                            Int32(s.rows), 1, wp, Int32(s.rows), cb.baseAddress, Int32(ld), 0,
                                            pb.baseAddress, Int32(ld))
                            }
                        }
                        // Scatter (O, m, P) → (m, O, P), adding the bias.
                        prod.withUnsafeBufferPointer { pb in
                            for b in 0..<m {
                                for oc in 0..<s.o {
                                    let src = pb.baseAddress! + oc * ld + b * s.plane
                                    let dst = yp + ((n0 + b) * s.o + oc) * s.plane
                                    let add = biasValues?[oc] ?? 0
                                    for p in 0..<s.plane { dst[p] = src[p] + add }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Gradient of `conv2dForward` with respect to x: `dx = col2im(Wᵀ · dY)`; gradOutput (N, O, OH, OW) → inputShape.
    public static func conv2dBackwardData(_ gy: Tensor, weight: Tensor, inputShape: [Int],
                                          geometry: Conv2dGeometry) -> Tensor {
        let s = ConvShape(input: inputShape, weight: weight.shape, geometry: geometry)
        precondition(gy.shape == [s.n, s.o, s.oh, s.ow], "conv2d backward: gradOutput \(gy.shape), expected \([s.n, s.o, s.oh, s.ow])")
        var gx = Tensor.zeros(inputShape)
        if gx.count == 0 || gy.count == 0 { return gx }
        let nb = s.chunk
        var gcol = [Float](repeating: 0, count: s.rows * nb * s.plane)
        var gyc = [Float](repeating: 0, count: s.o * nb * s.plane)
        gy.withReadPointer { gp in
            weight.withReadPointer { wp in
                gx.withUnsafeMutableBufferPointer { xb in
                    for n0 in stride(from: 0, to: s.n, by: nb) {
                        let m = min(nb, s.n - n0)
                        let ld = m * s.plane
                        gatherChunk(gp + n0 * s.o * s.plane, images: m, channels: s.o, plane: s.plane, into: &gyc)
                        gyc.withUnsafeBufferPointer { yb in
                            gcol.withUnsafeMutableBufferPointer { cb in
                                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(s.rows), Int32(ld),
                                            Int32(s.o), 1, wp, Int32(s.rows), yb.baseAddress, Int32(ld), 0,
                                            cb.baseAddress, Int32(ld))
                            }
                        }
                        gcol.withUnsafeBufferPointer { cb in
                            col2im(cb.baseAddress!, images: m, s, into: xb.baseAddress! + n0 * s.c * s.h * s.w)
                        }
                    }
                }
            }
        }
        return gx
    }

    /// Gradients of `conv2dForward` with respect to the weight (`dW = Σ_chunks dY · colᵀ`) and the bias
    /// (`Σ_{n,h,w} dY`, accumulated in Double).
    public static func conv2dBackwardWeights(_ gy: Tensor, input x: Tensor, weightShape: [Int], includeBias: Bool,
                                             geometry: Conv2dGeometry) -> (weight: Tensor, bias: Tensor?) {
        let s = ConvShape(input: x.shape, weight: weightShape, geometry: geometry)
        precondition(gy.shape == [s.n, s.o, s.oh, s.ow], "conv2d backward: gradOutput \(gy.shape), expected \([s.n, s.o, s.oh, s.ow])")
        var gw = Tensor.zeros(weightShape)
        var gb: Tensor? = nil
        if includeBias {
            var sums = [Double](repeating: 0, count: s.o)
            gy.withReadPointer { gp in
                for b in 0..<s.n {
                    for oc in 0..<s.o { sums[oc] += sumSIMD(gp + (b * s.o + oc) * s.plane, count: s.plane) }
                }
            }
            gb = Tensor(sums.map { Float($0) })
        }
        if gy.count == 0 || x.count == 0 { return (gw, gb) }
        let nb = s.chunk
        var col = [Float](repeating: 0, count: s.rows * nb * s.plane)
        var gyc = [Float](repeating: 0, count: s.o * nb * s.plane)
        x.withReadPointer { xp in
            gy.withReadPointer { gp in
                gw.withUnsafeMutableBufferPointer { wb in
                    var first = true
                    for n0 in stride(from: 0, to: s.n, by: nb) {
                        let m = min(nb, s.n - n0)
                        let ld = m * s.plane
                        col.withUnsafeMutableBufferPointer { cb in
                            im2col(xp + n0 * s.c * s.h * s.w, images: m, s, col: cb.baseAddress!)
                        }
                        gatherChunk(gp + n0 * s.o * s.plane, images: m, channels: s.o, plane: s.plane, into: &gyc)
                        gyc.withUnsafeBufferPointer { yb in
                            col.withUnsafeBufferPointer { cb in
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(s.o), Int32(s.rows),
                                            Int32(ld), 1, yb.baseAddress, Int32(ld), cb.baseAddress, Int32(ld),
                                            first ? 0 : 1, wb.baseAddress, Int32(s.rows))
                            }
                        }
                        first = false
                    }
                }
            }
        }
        return (gw, gb)
    }

    /// Copies `images` consecutive (channels, plane) blocks into a (channels, images·plane) matrix.
    static func gatherChunk(_ src: UnsafePointer<Float>, images: Int, channels: Int, plane: Int, into dst: inout [Float]) {
        let ld = images * plane
        dst.withUnsafeMutableBufferPointer { db in
            for b in 0..<images {
                for ch in 0..<channels {
                    (db.baseAddress! + ch * ld + b * plane).update(from: src + (b * channels + ch) * plane, count: plane)
                }
            }
        }
    }

    /// Unfolds `images` images (C, H, W) into col (C·KH·KW, images·OH·OW); out-of-image taps are 0.
    static func im2col(_ x: UnsafePointer<Float>, images: Int, _ s: ConvShape, col: UnsafeMutablePointer<Float>) {
        let ld = images * s.plane
        let box = UnsafeSendable((x, col))
        parallelChunks(images * s.c, minChunk: 1) { range in
            let (x, col) = box.value
            for task in range {
                let b = task / s.c, ci = task % s.c
                let plane = x + (b * s.c + ci) * s.h * s.w
                for i in 0..<s.kh {
                    for j in 0..<s.kw {
                        let dst = col + ((ci * s.kh + i) * s.kw + j) * ld + b * s.plane
                        // Output columns whose input column ix = ox·stride − pad + j lies inside the image.
                        let (oxa, oxz) = validRange(offset: j - s.g.paddingW, stride: s.g.strideW, extent: s.w, count: s.ow)
                        for oy in 0..<s.oh {
                            let iy = oy * s.g.strideH - s.g.paddingH + i
                            let d = dst + oy * s.ow
                            if iy < 0 || iy >= s.h || oxa >= oxz {
                                d.update(repeating: 0, count: s.ow)
                                continue
                            }
                            if oxa > 0 { d.update(repeating: 0, count: oxa) }
                            if oxz < s.ow { (d + oxz).update(repeating: 0, count: s.ow - oxz) }
                            let src = plane + iy * s.w + (oxa * s.g.strideW - s.g.paddingW + j)
                            if s.g.strideW == 1 {
                                (d + oxa).update(from: src, count: oxz - oxa)
                            } else {
                                for k in 0..<(oxz - oxa) { d[oxa + k] = src[k * s.g.strideW] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The range of outputs o in 0..<count with `0 <= o·stride + offset < extent`.
    @inline(__always)
    static func validRange(offset: Int, stride: Int, extent: Int, count: Int) -> (Int, Int) {
        // smallest o with o·stride + offset >= 0
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        // largest o with o·stride + offset <= extent − 1
        let last = extent - 1 - offset
        let hi = last < 0 ? 0 : min(count, last / stride + 1)
        return (min(lo, count), max(hi, min(lo, count)))
    }

    /// Adds col (C·KH·KW, images·OH·OW) back into `images` images (C, H, W): the adjoint of `im2col`.
    static func col2im(_ col: UnsafePointer<Float>, images: Int, _ s: ConvShape, into x: UnsafeMutablePointer<Float>) {
        let ld = images * s.plane
        let box = UnsafeSendable((x, col))
        parallelChunks(images * s.c, minChunk: 1) { range in
            let (x, col) = box.value
            for task in range {
                let b = task / s.c, ci = task % s.c
                let plane = x + (b * s.c + ci) * s.h * s.w
                for i in 0..<s.kh {
                    for j in 0..<s.kw {
                        let src = col + ((ci * s.kh + i) * s.kw + j) * ld + b * s.plane
                        let (oxa, oxz) = validRange(offset: j - s.g.paddingW, stride: s.g.strideW, extent: s.w, count: s.ow)
                        if oxa >= oxz { continue }
                        for oy in 0..<s.oh {
                            let iy = oy * s.g.strideH - s.g.paddingH + i
                            if iy < 0 || iy >= s.h { continue }
                            let dst = plane + iy * s.w + (oxa * s.g.strideW - s.g.paddingW + j)
                            let sr = src + oy * s.ow + oxa
                            if s.g.strideW == 1 {
                                for k in 0..<(oxz - oxa) { dst[k] += sr[k] }
                            } else {
                                for k in 0..<(oxz - oxa) { dst[k * s.g.strideW] += sr[k] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sum of `count` floats with 4 SIMD16 accumulators, returned in Double.
    static func sumSIMD(_ p: UnsafePointer<Float>, count: Int) -> Double {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        var total = 0.0
        while i + 16 <= count {
            acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
            if i % 1024 == 0 { total += Double(acc.sum()); acc = .zero }
        }
        total += Double(acc.sum())
        while i < count { total += Double(p[i]); i += 1 }
        return total
    }
}
