/// Bilinear resampling of 8-bit images, bit-exact with Pillow's `Image.resize(size, BILINEAR)` (which
/// torchvision's `Resize`/`RandomResizedCrop` call on PIL images).
///
/// Pillow's algorithm (libImaging/Resample.c): a separable triangle filter whose support widens with the
/// downscaling factor (`support = max(in/out, 1)`), so downscaling is antialiased and upscaling is plain
/// bilinear with half-pixel centres. For output pixel `x`: `centre = (x + 0.5)·scale`, taps from
/// `trunc(centre − support + 0.5)` to `trunc(centre + support + 0.5)` clipped to the image, weights
/// `max(0, 1 − |(i − centre + 0.5)/filterscale|)` normalised to sum 1, then converted to 22-bit fixed point.
/// The horizontal pass runs first and rounds to 8 bits; then the vertical pass.
public enum Resample {
    static let precisionBits = 22

    /// Fixed-point filter taps for one axis: output `i` reads `count[i]` inputs from `first[i]` with
    /// weights `weights[i * taps ..< i * taps + count[i]]`.
    struct Taps {
        var first: [Int32]
        var count: [Int32]
        var weights: [Int32]
        var taps: Int
    }

    /// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the bilinear filter, over an input of
    /// `inSize` pixels resampled to `outSize`.
    static func taps(inSize: Int, outSize: Int) -> Taps {
        let scale = Double(inSize) / Double(outSize)
        let filterscale = max(scale, 1.0)
        let support = 1.0 * filterscale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var first = [Int32](repeating: 0, count: outSize)
        var count = [Int32](repeating: 0, count: outSize)
        var weights = [Int32](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        let ss = 1.0 / filterscale
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            var xmin = Int(center - support + 0.5)  // C cast: truncation toward zero
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inSize { xmax = inSize }
            xmax -= xmin
            var ww = 0.0
            for x in 0..<xmax {
                var t = (Double(x + xmin) - center + 0.5) * ss
                if t < 0 { t = -t }
                let w = t < 1 ? 1 - t : 0
                k[x] = w
                ww += w
            }
            for x in 0..<xmax {
                let v = ww != 0 ? k[x] / ww : k[x]
                let fixed = v * Double(1 << precisionBits)
                weights[xx * ksize + x] = Int32(fixed < 0 ? Int(-0.5 + fixed) : Int(0.5 + fixed))
            }
            first[xx] = Int32(xmin)
            count[xx] = Int32(xmax)
        }
        return Taps(first: first, count: count, weights: weights, taps: ksize)
    }

    /// `image` resampled to `width` x `height` (Pillow BILINEAR, antialiased when shrinking).
    public static func resize(_ image: PixelImage, width: Int, height: Int) -> PixelImage {
        resize(image, box: (top: 0, left: 0, height: image.height, width: image.width), width: width, height: height)
    }

    /// The box `top..<top+h`, `left..<left+w` of `image` resampled to `width` x `height`: the same as
    /// `cropped` then `resize` (torchvision `resized_crop`), without making the crop.
    public static func resize(_ image: PixelImage, box: (top: Int, left: Int, height: Int, width: Int),
                              width: Int, height: Int) -> PixelImage {
        precondition(width > 0 && height > 0, "Resample.resize: output size \(width)x\(height) must be positive")
        precondition(box.top >= 0 && box.left >= 0 && box.height > 0 && box.width > 0
                     && box.top + box.height <= image.height && box.left + box.width <= image.width,
                     "Resample.resize: box \(box) outside image \(image.width)x\(image.height)")
        if box.width == width && box.height == height {
            return image.cropped(top: box.top, left: box.left, height: height, width: width)
        }
        let c = image.channels
        // Horizontal pass over the rows the vertical pass needs.
        let needH = box.width != width
        let vt = taps(inSize: box.height, outSize: height)
        let rowFirst = Int(vt.first[0])
        let rowLast = Int(vt.first[height - 1] + vt.count[height - 1])
        let midRows = rowLast - rowFirst
        var mid: [UInt8]
        let midWidth = width
        if needH {
            let ht = taps(inSize: box.width, outSize: width)
            mid = [UInt8](repeating: 0, count: midRows * width * c)
            image.pixels.withUnsafeBufferPointer { src in
                mid.withUnsafeMutableBufferPointer { dst in
                    horizontal(src: src.baseAddress!, srcStride: image.width * c,
                               srcOffset: ((box.top + rowFirst) * image.width + box.left) * c,
                               rows: midRows, dst: dst.baseAddress!, outWidth: width, channels: c, taps: ht)
                }
            }
        } else {
            mid = image.cropped(top: box.top + rowFirst, left: box.left, height: midRows, width: width).pixels
        }
        if box.height == height {
            return PixelImage(width: width, height: height, channels: c, pixels: mid)
        }
        var out = [UInt8](repeating: 0, count: width * height * c)
        mid.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                vertical(src: src.baseAddress!, rowBytes: midWidth * c, rowShift: rowFirst,
                         dst: dst.baseAddress!, outHeight: height, taps: vt)
            }
        }
        return PixelImage(width: width, height: height, channels: c, pixels: out)
    }

    @inline(__always)
    static func clip8(_ ss: Int32) -> UInt8 {
        let v = ss >> Int32(precisionBits)
        return v < 0 ? 0 : (v > 255 ? 255 : UInt8(v))
    }

    static func horizontal(src: UnsafePointer<UInt8>, srcStride: Int, srcOffset: Int, rows: Int,
                           dst: UnsafeMutablePointer<UInt8>, outWidth: Int, channels c: Int, taps t: Taps) {
        let half = Int32(1) << Int32(precisionBits - 1)
        t.weights.withUnsafeBufferPointer { w in
            for y in 0..<rows {
                let row = src + srcOffset + y * srcStride
                let out = dst + y * outWidth * c
                for x in 0..<outWidth {
                    let f = Int(t.first[x]), n = Int(t.count[x])
                    let k = w.baseAddress! + x * t.taps
                    if c == 3 {
                        var s0 = half, s1 = half, s2 = half
                        var p = row + f * 3
                        for i in 0..<n {
                            let wi = k[i]
                            s0 &+= Int32(p[0]) &* wi; s1 &+= Int32(p[1]) &* wi; s2 &+= Int32(p[2]) &* wi
                            p += 3
                        }
                        out[x * 3] = clip8(s0); out[x * 3 + 1] = clip8(s1); out[x * 3 + 2] = clip8(s2)
                    } else {
                        for ch in 0..<c {
                            var s = half
                            for i in 0..<n { s &+= Int32(row[(f + i) * c + ch]) &* k[i] }
                            out[x * c + ch] = clip8(s)
                        }
                    }
                }
            }
        }
    }

    static func vertical(src: UnsafePointer<UInt8>, rowBytes: Int, rowShift: Int,
                         dst: UnsafeMutablePointer<UInt8>, outHeight: Int, taps t: Taps) {
        let half = Int32(1) << Int32(precisionBits - 1)
        var acc = [Int32](repeating: 0, count: rowBytes)
        t.weights.withUnsafeBufferPointer { w in
            acc.withUnsafeMutableBufferPointer { a in
                for y in 0..<outHeight {
                    let f = Int(t.first[y]) - rowShift, n = Int(t.count[y])
                    let k = w.baseAddress! + y * t.taps
                    for j in 0..<rowBytes { a[j] = half }
                    for i in 0..<n {
                        let wi = k[i]
                        let row = src + (f + i) * rowBytes
                        for j in 0..<rowBytes { a[j] &+= Int32(row[j]) &* wi }
                    }
                    let out = dst + y * rowBytes
                    for j in 0..<rowBytes { out[j] = clip8(a[j]) }
                }
            }
        }
    }
}
