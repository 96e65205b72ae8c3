
/// Colour operations on 8-bit images with the arithmetic of Pillow, which torchvision's `ColorJitter` and
/// `Grayscale` call on PIL images (`ImageEnhance`, `Image.blend`, `convert("L")`, `convert("HSV")`).
///
/// Pillow's blend `out = in1 + α·(in2 − in1)` is computed in float and truncated toward zero, clipped to
/// [0, 255] — so brightness by 1.3 maps 100 to 130 and 101 to 131 (131.3 truncated).
public enum ColorAdjust {
    /// Pillow's ITU-R 601-2 luma, `L = (19595 R + 38470 G + 7471 B + 2^15) >> 16` (`convert("L")`).
    @inline(__always)
    public static func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let sr: Int = 19595 * Int(r)
        let sg: Int = 38470 * Int(g)
        let sb: Int = 7471 * Int(b)
        return UInt8(truncatingIfNeeded: (sr + sg + sb + 0x8000) >> 16)
    }

    @inline(__always)
    static func blend(_ base: Float, _ value: Float, _ alpha: Float) -> UInt8 {
        let t = base + alpha * (value - base)
        return t <= 0 ? 0 : (t >= 255 ? 255 : UInt8(t))
    }

    /// Applies a 256-entry table to every byte.
    static func applyTable(_ image: inout PixelImage, _ table: [UInt8]) {
        table.withUnsafeBufferPointer { t in
            image.pixels.withUnsafeMutableBufferPointer { p in
                for i in 0..<p.count { p[i] = t[Int(p[i])] }
            }
        }
    }

    /// torchvision `adjust_brightness` (PIL `ImageEnhance.Brightness`): blend with black, `out = trunc(f·v)`.
    public static func adjustBrightness(_ image: inout PixelImage, factor: Float) {
        applyTable(&image, (0..<256).map { blend(0, Float($0), factor) })
    }

    /// torchvision `adjust_contrast` (PIL `ImageEnhance.Contrast`): blend with the constant image whose value
    /// is the mean luma rounded (`int(mean(L) + 0.5)`).
    public static func adjustContrast(_ image: inout PixelImage, factor: Float) {
        let n = image.width * image.height
        if n == 0 { return }
        var total = 0
        image.pixels.withUnsafeBufferPointer { p in
            if image.channels == 3 {
                for i in 0..<n { total += Int(luma(p[3 * i], p[3 * i + 1], p[3 * i + 2])) }
            } else {
                for i in 0..<n { total += Int(p[i]) }
            }
        }
        let mean = Float(Int(Double(total) / Double(n) + 0.5))
        applyTable(&image, (0..<256).map { blend(mean, Float($0), factor) })
    }

    /// torchvision `adjust_saturation` (PIL `ImageEnhance.Color`): blend each pixel with its own luma.
    /// A grey image is unchanged.
    public static func adjustSaturation(_ image: inout PixelImage, factor: Float) {
        guard image.channels == 3 else { return }
        let n = image.width * image.height
        image.pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                let l = Float(luma(p[3 * i], p[3 * i + 1], p[3 * i + 2]))
                p[3 * i] = blend(l, Float(p[3 * i]), factor)
                p[3 * i + 1] = blend(l, Float(p[3 * i + 1]), factor)
                p[3 * i + 2] = blend(l, Float(p[3 * i + 2]), factor)
            }
        }
    }

    /// torchvision `adjust_hue` on a PIL image: convert to Pillow's 8-bit HSV, add `int8(factor·255)` to the
    /// hue byte modulo 256, convert back. `factor` in [−0.5, 0.5]; a grey image is unchanged.
    public static func adjustHue(_ image: inout PixelImage, factor: Float) {
        guard image.channels == 3 else { return }
        let shift = UInt8(bitPattern: Int8(truncatingIfNeeded: Int(Double(factor) * 255)))
        if shift == 0 { return }
        let n = image.width * image.height
        let t = HueTables.shared
        image.pixels.withUnsafeMutableBufferPointer { p in
            t.quotient.withUnsafeBufferPointer { quotient in
                t.saturation.withUnsafeBufferPointer { saturation in
                    for i in 0..<n {
                        let r = p[3 * i], g = p[3 * i + 1], b = p[3 * i + 2]
                        let maxc = max(r, max(g, b)), minc = min(r, min(g, b))
                        if maxc == minc { continue }  // s = 0: hue is irrelevant, the pixel stays v, v, v
                        // Pillow rgb2hsv (float, with double intermediates as in the C code); the float quotients
                        // x / cr come from a table of exactly the same float divisions.
                        let cr = Int(maxc - minc)
                        let rc = quotient[Int(maxc - r) << 8 | cr], gc = quotient[Int(maxc - g) << 8 | cr]
                        let bc = quotient[Int(maxc - b) << 8 | cr]
                        var h: Float
                        if r == maxc { h = bc - gc } else if g == maxc { h = 2.0 + rc - bc } else { h = 4.0 + gc - rc }
                        // fmod(x, 1) for x in [0, 2): exact by subtraction (Sterbenz); C's cast truncates.
                        var hd = Double(h) / 6.0 + 1.0
                        if hd >= 1.0 { hd -= 1.0 }
                        let uh = UInt8(truncatingIfNeeded: Int(Double(Float(hd)) * 255.0))
                        let us = saturation[cr << 8 | Int(maxc)]
                        (p[3 * i], p[3 * i + 1], p[3 * i + 2]) = hsvToRGB(uh &+ shift, us, maxc)
                    }
                }
            }
        }
    }

    /// Pillow's `hsv2rgb` for one pixel.
    @inline(__always)
    static func hsvToRGB(_ h: UInt8, _ s: UInt8, _ v: UInt8) -> (UInt8, UInt8, UInt8) {
        if s == 0 { return (v, v, v) }
        // Types follow the C code: f and fs are float, the products mix float and double.
        let h6 = Double(h) * 6.0 / 255.0
        let i = Int(h6)  // h6 >= 0: truncation is floor
        let f = Float(h6 - Double(i))
        let fs = Float(Double(s) / 255.0)
        let vv = Double(v)
        // C round() (half away from zero) of a non-negative value: trunc(x + 0.5), without a libm call.
        @inline(__always) func round8(_ x: Double) -> UInt8 { x <= 0 ? 0 : (x >= 255 ? 255 : UInt8(Int(x + 0.5))) }
        let p = round8(vv * (1.0 - Double(fs)))
        let q = round8(vv * (1.0 - Double(fs * f)))
        let t = round8(vv * (1.0 - Double(fs) * (1.0 - Double(f))))
        switch i % 6 {
        case 0: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }

    /// torchvision `rgb_to_grayscale(img, num_output_channels=3)` on PIL: every channel becomes the luma.
    /// A grey image is unchanged.
    public static func grayscale(_ image: inout PixelImage) {
        guard image.channels == 3 else { return }
        let n = image.width * image.height
        image.pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                let l = luma(p[3 * i], p[3 * i + 1], p[3 * i + 2])
                p[3 * i] = l; p[3 * i + 1] = l; p[3 * i + 2] = l
            }
        }
    }
}

/// Tables that make Pillow's per-pixel HSV arithmetic cheaper without changing a bit of it.
final class HueTables: Sendable {
    /// `Float(x) / Float(cr)` at `x << 8 | cr` (cr ≥ 1), as rgb2hsv computes rc, gc, bc.
    let quotient: [Float]
    /// `CLIP8(Int(Double(Float(cr) / Float(maxc)) * 255.0))` at `cr << 8 | maxc`: rgb2hsv's saturation byte.
    let saturation: [UInt8]

    static let shared = HueTables()

    private init() {
        var q = [Float](repeating: 0, count: 65_536)
        var s = [UInt8](repeating: 0, count: 65_536)
        for a in 0..<256 {
            for b in 1..<256 {
                q[a << 8 | b] = Float(a) / Float(b)
                let sat = Float(a) / Float(b)  // a = cr, b = maxc
                s[a << 8 | b] = UInt8(clamping: Int(Double(sat) * 255.0))
            }
        }
        quotient = q
        saturation = s
    }
}
