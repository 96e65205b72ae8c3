/// Max and average pooling over (N, C, H, W), parallel over the N·C planes.
extension ReferenceBackend {
    /// PyTorch `F.max_pool2d(x, kernel, stride, padding)` (floor mode): each output is the maximum of its window
    /// (padding never wins: it acts as −∞). Returns the output and, per output element, the flat in-plane index
    /// (h·W + w) of the first maximum in row-major window order (a NaN wins over numbers, the last NaN over
    /// earlier ones, as PyTorch's CPU kernel `(val > maxval) || isnan(val)`).
    public static func maxPool2dForward(_ x: Tensor, geometry g: Pool2dGeometry) -> (Tensor, MaxPoolIndices) {
        let out = g.outputShape(input: x.shape)
        let (h, w, oh, ow) = (x.shape[2], x.shape[3], out[2], out[3])
        let planes = out[0] * out[1]
        var y = Tensor(uninitializedShape: out)
        var indices = [Int32](repeating: 0, count: y.count)
        if y.count == 0 { return (y, MaxPoolIndices(indices: indices)) }
        x.withReadPointer { xp in
            y.withUnsafeMutableBufferPointer { yb in
                indices.withUnsafeMutableBufferPointer { ib in
                    let box = UnsafeSendable((xp, yb.baseAddress!, ib.baseAddress!))
                    parallelChunks(planes, minChunk: 1) { range in
                        let (xp, yp, ip) = box.value
                        for plane in range {
                            let src = xp + plane * h * w
                            let dst = yp + plane * oh * ow, idx = ip + plane * oh * ow
                            for oy in 0..<oh {
                                let y0 = oy * g.strideH - g.paddingH
                                let ya = max(y0, 0), yz = min(y0 + g.kernelH, h)
                                for ox in 0..<ow {
                                    let x0 = ox * g.strideW - g.paddingW
                                    let xa = max(x0, 0), xz = min(x0 + g.kernelW, w)
                                    var best = -Float.infinity
                                    var at = ya * w + xa
                                    var sawNaN = false
                                    for iy in ya..<yz {
                                        let rowBase = iy * w
                                        for ix in xa..<xz {
                                            let v = src[rowBase + ix]
                                            if v > best { best = v; at = rowBase + ix }
                                            sawNaN = sawNaN || v.isNaN
                                        }
                                    }
                                    if sawNaN {  // PyTorch: a NaN wins (the last one, scanning row-major)
                                        for iy in ya..<yz {
                                            for ix in xa..<xz where src[iy * w + ix].isNaN { best = .nan; at = iy * w + ix }
                                        }
                                    }
                                    dst[oy * ow + ox] = best
                                    idx[oy * ow + ox] = Int32(at)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (y, MaxPoolIndices(indices: indices))
    }

    /// Backward of max pooling: `dx[argmax] += dy` (overlapping windows accumulate).
    public static func maxPool2dBackward(_ gy: Tensor, indices: MaxPoolIndices, inputShape: [Int]) -> Tensor {
        precondition(gy.count == indices.indices.count,
                     "maxPool2dBackward: gradOutput \(gy.shape) does not match the forward's \(indices.indices.count) outputs")
        var gx = Tensor.zeros(inputShape)
        let planes = inputShape[0] * inputShape[1]
        let inPlane = inputShape[2] * inputShape[3]
        let outPlane = planes == 0 ? 0 : gy.count / planes
        if gx.count == 0 || gy.count == 0 { return gx }
        gy.withReadPointer { gp in
            gx.withUnsafeMutableBufferPointer { xb in
                indices.indices.withUnsafeBufferPointer { ib in
                    let box = UnsafeSendable((gp, xb.baseAddress!, ib.baseAddress!))
                    parallelChunks(planes, minChunk: 1) { range in
                        let (gp, xp, ip) = box.value
                        for plane in range {
                            let dst = xp + plane * inPlane
                            for k in plane * outPlane..<(plane + 1) * outPlane { dst[Int(ip[k])] += gp[k] }
                        }
                    }
                }
            }
        }
        return gx
    }

    /// PyTorch `F.avg_pool2d(x, kernel, stride, padding)` with `count_include_pad=True`, floor mode: the window sum
    /// divided by the window area clipped to the *padded* input (which, in floor mode, is always KH·KW).
    public static func avgPool2dForward(_ x: Tensor, geometry g: Pool2dGeometry) -> Tensor {
        let out = g.outputShape(input: x.shape)
        let (h, w, oh, ow) = (x.shape[2], x.shape[3], out[2], out[3])
        let planes = out[0] * out[1]
        var y = Tensor(uninitializedShape: out)
        if y.count == 0 { return y }
        x.withReadPointer { xp in
            y.withUnsafeMutableBufferPointer { yb in
                let box = UnsafeSendable((xp, yb.baseAddress!))
                parallelChunks(planes, minChunk: 1) { range in
                    let (xp, yp) = box.value
                    for plane in range {
                        let src = xp + plane * h * w, dst = yp + plane * oh * ow
                        for oy in 0..<oh {
                            let (ya, yz, dy) = window(oy, g.strideH, g.paddingH, g.kernelH, h)
                            for ox in 0..<ow {
                                let (xa, xz, dx) = window(ox, g.strideW, g.paddingW, g.kernelW, w)
                                var sum: Float = 0
                                for iy in ya..<yz { for ix in xa..<xz { sum += src[iy * w + ix] } }
                                dst[oy * ow + ox] = sum / Float(dy * dx)
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Backward of average pooling: each input in a window receives `dy / area`.
    public static func avgPool2dBackward(_ gy: Tensor, inputShape: [Int], geometry g: Pool2dGeometry) -> Tensor {
        let out = g.outputShape(input: inputShape)
        precondition(gy.shape == out, "avgPool2dBackward: gradOutput \(gy.shape), expected \(out)")
        let (h, w, oh, ow) = (inputShape[2], inputShape[3], out[2], out[3])
        let planes = out[0] * out[1]
        var gx = Tensor.zeros(inputShape)
        if gx.count == 0 || gy.count == 0 { return gx }
        gy.withReadPointer { gp in
            gx.withUnsafeMutableBufferPointer { xb in
                let box = UnsafeSendable((gp, xb.baseAddress!))
                parallelChunks(planes, minChunk: 1) { range in
                    let (gp, xp) = box.value
                    for plane in range {
                        let src = gp + plane * oh * ow, dst = xp + plane * h * w
                        for oy in 0..<oh {
                            let (ya, yz, dy) = window(oy, g.strideH, g.paddingH, g.kernelH, h)
                            for ox in 0..<ow {
                                let (xa, xz, dx) = window(ox, g.strideW, g.paddingW, g.kernelW, w)
                                let v = src[oy * ow + ox] / Float(dy * dx)
                                for iy in ya..<yz { for ix in xa..<xz { dst[iy * w + ix] += v } }
                            }
                        }
                    }
                }
            }
        }
        return gx
    }

    /// PyTorch's window bounds for average pooling: the divisor spans the window clipped to the padded input,
    /// the summed range is clipped to the real input.
    @inline(__always)
    static func window(_ o: Int, _ stride: Int, _ pad: Int, _ k: Int, _ n: Int) -> (Int, Int, Int) {
        let start = o * stride - pad
        let end = min(start + k, n + pad)
        let area = end - start
        return (max(start, 0), min(end, n), area)
    }
}
