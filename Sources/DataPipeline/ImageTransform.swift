import Foundation
import Tensors

/// One step of a torchvision-style transform pipeline (`torchvision.transforms` on PIL images).
///
/// Random steps draw their parameters from an explicit generator first (`sampleParameters`) and are then
/// applied deterministically (`AppliedTransform.apply`), so a fixed seed reproduces every image exactly.
public enum ImageTransform: Sendable, Equatable {
    /// `Resize(size)`: the shorter side becomes `size`, the longer `int(size · long / short)`; bilinear,
    /// antialiased when shrinking (Pillow). An image whose shorter side already is `size` is unchanged.
    case resize(Int)
    /// `CenterCrop(size)`: the central `size` x `size` box, top `round((h − size)/2)` (Python's round);
    /// zero-padded first when the image is smaller, like torchvision.
    case centerCrop(Int)
    /// `RandomResizedCrop(size, scale, ratio)`: a box of random area fraction in `scale` and aspect ratio
    /// (log-uniform) in `ratio`, 10 attempts then the central fallback, resized to `size` x `size`.
    case randomResizedCrop(size: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>)
    /// `RandomHorizontalFlip(p)`.
    case randomHorizontalFlip(p: Double)
    /// `ColorJitter(brightness, contrast, saturation, hue)`: factors uniform in `[max(0, 1 − b), 1 + b]` etc.
    /// and hue in `[−h, h]`, applied in a random order.
    case colorJitter(brightness: Double, contrast: Double, saturation: Double, hue: Double)
    /// `RandomGrayscale(p)`: with probability `p`, every channel becomes the luma.
    case randomGrayscale(p: Double)

    /// torchvision's default `RandomResizedCrop` scale and ratio.
    public static func randomResizedCrop(_ size: Int, scale: ClosedRange<Double> = 0.08...1.0,
                                         ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0)) -> ImageTransform {
        .randomResizedCrop(size: size, scale: scale, ratio: ratio)
    }

    /// True for steps that act on each pixel independently of its position (they commute with a flip).
    public var isPixelwise: Bool {
        switch self {
        case .colorJitter, .randomGrayscale, .randomHorizontalFlip: return true
        default: return false
        }
    }

    /// Draws this step's random parameters for an image of the given size (no draws for deterministic steps).
    public func sampleParameters(width: Int, height: Int,
                                 using rng: inout some RandomNumberGenerator) -> AppliedTransform {
        switch self {
        case let .resize(size):
            let (w, h) = ImageTransform.resizedSize(width: width, height: height, shorterSide: size)
            return .resize(width: w, height: h)
        case let .centerCrop(size):
            return .centerCrop(size: size)
        case let .randomResizedCrop(size, scale, ratio):
            let box = CropBox.randomResized(width: width, height: height, scale: scale, ratio: ratio, using: &rng)
            return .resizedCrop(box, size: size)
        case let .randomHorizontalFlip(p):
            return .flip(rng.nextUniformDouble() < p)
        case let .colorJitter(b, c, s, h):
            return .colorJitter(ColorJitterParameters.sample(brightness: b, contrast: c, saturation: s, hue: h,
                                                              using: &rng))
        case let .randomGrayscale(p):
            return .grayscale(rng.nextUniformDouble() < p)
        }
    }

    /// torchvision `_compute_resized_output_size` for an int size: `(width, height)` after `Resize(size)`.
    public static func resizedSize(width: Int, height: Int, shorterSide size: Int) -> (width: Int, height: Int) {
        let short = min(width, height), long = max(width, height)
        if short == size { return (width, height) }
        let newLong = Int(Double(size * long) / Double(short))
        return width <= height ? (size, newLong) : (newLong, size)
    }
}

/// A crop rectangle in pixels: rows `top..<top+height`, columns `left..<left+width`.
public struct CropBox: Sendable, Equatable {
    /// First row, first column, and extent in rows and columns.
    public var top: Int, left: Int, height: Int, width: Int
    /// A box; no checks (the users check it against their image).
    public init(top: Int, left: Int, height: Int, width: Int) {
        self.top = top; self.left = left; self.height = height; self.width = width
    }

    /// torchvision `RandomResizedCrop.get_params`: up to 10 attempts of area `A·U(scale)` and aspect ratio
    /// `exp(U(log ratio))`, `w = round(√(area·ratio))`, `h = round(√(area/ratio))`, accepted when it fits, at a
    /// uniform position; otherwise the central crop with the ratio clamped into `ratio`.
    public static func randomResized(width: Int, height: Int, scale: ClosedRange<Double>,
                                     ratio: ClosedRange<Double>,
                                     using rng: inout some RandomNumberGenerator) -> CropBox {
        let area = Double(width * height)
        let logLo = log(ratio.lowerBound), logHi = log(ratio.upperBound)
        for _ in 0..<10 {
            let targetArea = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * rng.nextUniformDouble())
            let aspect = exp(logLo + (logHi - logLo) * rng.nextUniformDouble())
            let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= width && h > 0 && h <= height {
                let top = Int(rng.next(upperBound: UInt64(height - h + 1)))
                let left = Int(rng.next(upperBound: UInt64(width - w + 1)))
                return CropBox(top: top, left: left, height: h, width: w)
            }
        }
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return CropBox(top: (height - h) / 2, left: (width - w) / 2, height: h, width: w)
    }
}

/// torchvision `ColorJitter.get_params`: the application order (a random permutation of the four
/// operations) and the four factors; `nil` for an operation whose range is zero (skipped, as torchvision does).
public struct ColorJitterParameters: Sendable, Equatable {
    /// Operation order: 0 brightness, 1 contrast, 2 saturation, 3 hue.
    public var order: [Int]
    /// The factors (`nil`: operation skipped); hue is the shift in [−0.5, 0.5].
    public var brightness: Float?, contrast: Float?, saturation: Float?, hue: Float?

    /// Parameters given explicitly (tests, replays).
    public init(order: [Int], brightness: Float?, contrast: Float?, saturation: Float?, hue: Float?) {
        self.order = order
        self.brightness = brightness; self.contrast = contrast; self.saturation = saturation; self.hue = hue
    }

    /// Draws the order, then brightness, contrast, saturation factors uniform in `[max(0, 1 − x), 1 + x]` and a
    /// hue shift uniform in `[−hue, hue]` (hue must be in [0, 0.5]).
    public static func sample(brightness: Double, contrast: Double, saturation: Double, hue: Double,
                              using rng: inout some RandomNumberGenerator) -> ColorJitterParameters {
        precondition(hue >= 0 && hue <= 0.5, "ColorJitter: hue must be in [0, 0.5], got \(hue)")
        let order = rng.permutation(4)
        func factor(_ x: Double) -> Float? {
            if x <= 0 { return nil }
            let lo = max(0, 1 - x), hi = 1 + x
            return Float(lo + (hi - lo) * rng.nextUniformDouble())
        }
        let b = factor(brightness), c = factor(contrast), s = factor(saturation)
        let h: Float? = hue > 0 ? Float(-hue + 2 * hue * rng.nextUniformDouble()) : nil
        return ColorJitterParameters(order: order, brightness: b, contrast: c, saturation: s, hue: h)
    }

    /// Applies the four adjustments in `order` (torchvision `ColorJitter.forward`).
    public func apply(_ image: inout PixelImage) {
        for op in order {
            switch op {
            case 0: if let f = brightness { ColorAdjust.adjustBrightness(&image, factor: f) }
            case 1: if let f = contrast { ColorAdjust.adjustContrast(&image, factor: f) }
            case 2: if let f = saturation { ColorAdjust.adjustSaturation(&image, factor: f) }
            default: if let f = hue { ColorAdjust.adjustHue(&image, factor: f) }
            }
        }
    }
}

/// A transform step with its random parameters fixed; `apply` is deterministic.
public enum AppliedTransform: Sendable, Equatable {
    /// Resample to exactly this size (Pillow bilinear).
    case resize(width: Int, height: Int)
    /// torchvision `center_crop` to a square.
    case centerCrop(size: Int)
    /// Crop the box, resample it to `size` x `size`.
    case resizedCrop(CropBox, size: Int)
    /// Mirror left-right when true.
    case flip(Bool)
    /// The four colour operations in the sampled order.
    case colorJitter(ColorJitterParameters)
    /// Replace every channel by the luma when true.
    case grayscale(Bool)

    /// The transformed image.
    public func apply(_ image: PixelImage) -> PixelImage {
        switch self {
        case let .resize(w, h):
            if w == image.width && h == image.height { return image }
            return Resample.resize(image, width: w, height: h)
        case let .centerCrop(size):
            return AppliedTransform.centerCrop(image, size: size)
        case let .resizedCrop(box, size):
            return Resample.resize(image, box: (box.top, box.left, box.height, box.width), width: size, height: size)
        case let .flip(doIt):
            return doIt ? image.flippedHorizontally() : image
        case let .colorJitter(p):
            var out = image
            p.apply(&out)
            return out
        case let .grayscale(doIt):
            guard doIt else { return image }
            var out = image
            ColorAdjust.grayscale(&out)
            return out
        }
    }

    /// torchvision `center_crop`: pads with zeros (centred, extra on the bottom/right) when the image is
    /// smaller than the crop, then crops at `round((h − size)/2)`, `round((w − size)/2)` (Python's round).
    public static func centerCrop(_ image: PixelImage, size: Int) -> PixelImage {
        var img = image
        if size > img.width || size > img.height {
            let padW = max(0, size - img.width), padH = max(0, size - img.height)
            let left = padW / 2, top = padH / 2
            var padded = PixelImage(width: img.width + padW, height: img.height + padH, channels: img.channels)
            for y in 0..<img.height {
                for x in 0..<img.width {
                    for c in 0..<img.channels { padded[x + left, y + top, c] = img[x, y, c] }
                }
            }
            img = padded
        }
        let top = Int((Double(img.height - size) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(img.width - size) / 2).rounded(.toNearestOrEven))
        if top == 0 && left == 0 && img.width == size && img.height == size { return img }
        return img.cropped(top: top, left: left, height: size, width: size)
    }
}
