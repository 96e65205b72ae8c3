extension Tensor {
    /// Every plane of the last two axes (rows H, columns W) rotated by `times` · 90 degrees counter-clockwise, as
    /// `numpy.rot90(x, times, axes=(-2, -1))`, Pillow's `Image.rotate(90 · times)` on a square image and
    /// torchvision's `functional.rotate(img, 90 · times)`: for one turn `y[i][j] = x[j][W − 1 − i]` (shape
    /// … × W × H). `times` is taken modulo 4 (negative turns clockwise). A new contiguous tensor.
    public func rotated90(times: Int) -> Tensor {
        precondition(rank >= 2, "Tensor.rotated90: needs at least 2 axes, got shape \(shape)")
        let turns = ((times % 4) + 4) % 4
        let h = shape[rank - 2], w = shape[rank - 1], planes = count / Swift.max(h * w, 1)
        var outShape = shape
        if turns % 2 == 1 { outShape[rank - 2] = w; outShape[rank - 1] = h }
        var out = Tensor(uninitializedShape: outShape)
        withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                for p in 0..<planes {
                    let xp = x.baseAddress! + p * h * w, yp = y.baseAddress! + p * h * w
                    switch turns {
                    case 0:
                        yp.update(from: xp, count: h * w)
                    case 1:  // (W, H): y[i][j] = x[j][W-1-i]
                        for i in 0..<w { for j in 0..<h { yp[i * h + j] = xp[j * w + (w - 1 - i)] } }
                    case 2:  // (H, W): y[i][j] = x[H-1-i][W-1-j]
                        for i in 0..<h { for j in 0..<w { yp[i * w + j] = xp[(h - 1 - i) * w + (w - 1 - j)] } }
                    default:  // (W, H): y[i][j] = x[H-1-j][i]
                        for i in 0..<w { for j in 0..<h { yp[i * h + j] = xp[(h - 1 - j) * w + i] } }
                    }
                }
            }
        }
        return out
    }
}
