/// A decoded 8-bit image: `height` rows of `width` pixels, `channels` interleaved bytes per pixel (HWC).
///
/// `channels` is 3 (RGB) for decoded JPEG/PNG files and CIFAR records, 1 (grey, PIL mode "L") for MNIST-style
/// IDX images. This is the in-memory form every transform works on, like a PIL image in torchvision; the
/// float tensor is made only at the end (`TransformPipeline.write(_:flip:into:)`, torchvision's ToTensor).
public struct PixelImage: Sendable, Equatable {
    /// Columns.
    public var width: Int
    /// Rows.
    public var height: Int
    /// Bytes per pixel: 1 (grey) or 3 (RGB).
    public var channels: Int
    /// `height * width * channels` bytes, row-major, channels interleaved.
    public var pixels: [UInt8]

    /// An image from interleaved bytes; `pixels.count` must be `width * height * channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(channels == 1 || channels == 3, "PixelImage: channels must be 1 or 3, got \(channels)")
        precondition(width >= 0 && height >= 0, "PixelImage: negative size \(width)x\(height)")
        precondition(pixels.count == width * height * channels,
                     "PixelImage: \(pixels.count) bytes for \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image of `value` everywhere.
    public init(width: Int, height: Int, channels: Int, repeating value: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: value, count: width * height * channels))
    }

    /// The byte of channel `c` at column `x`, row `y`.
    public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }

    /// The sub-image of rows `top..<top+height`, columns `left..<left+width` (must lie inside the image).
    public func cropped(top: Int, left: Int, height h: Int, width w: Int) -> PixelImage {
        precondition(top >= 0 && left >= 0 && top + h <= height && left + w <= width && h >= 0 && w >= 0,
                     "PixelImage.cropped: box top=\(top) left=\(left) \(w)x\(h) outside \(width)x\(height)")
        var out = [UInt8](repeating: 0, count: w * h * channels)
        let rowBytes = w * channels
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h where rowBytes > 0 {
                    let s = src.baseAddress! + ((top + y) * width + left) * channels
                    (dst.baseAddress! + y * rowBytes).update(from: s, count: rowBytes)
                }
            }
        }
        return PixelImage(width: w, height: h, channels: channels, pixels: out)
    }

    /// The image mirrored left to right (torchvision `hflip`, PIL `FLIP_LEFT_RIGHT`).
    public func flippedHorizontally() -> PixelImage {
        var out = pixels
        let c = channels
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = y * width * c
                    for x in 0..<width {
                        let s = row + (width - 1 - x) * c, d = row + x * c
                        for k in 0..<c { dst[d + k] = src[s + k] }
                    }
                }
            }
        }
        return PixelImage(width: width, height: height, channels: c, pixels: out)
    }

    /// The image with `channels` channels (1 or 3), as the loaders of torchvision convert files: RGB → grey is
    /// Pillow's `convert("L")` (ITU-R 601-2 luma, `ColorAdjust.luma`; exact on grey pixels stored as RGB), grey →
    /// RGB replicates the value (`convert("RGB")`); an image that already has them is returned unchanged.
    public func converted(toChannels target: Int) -> PixelImage {
        precondition(target == 1 || target == 3, "PixelImage.converted: channels must be 1 or 3, got \(target)")
        if target == channels { return self }
        let n = width * height
        var out = [UInt8](repeating: 0, count: n * target)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                if target == 1 {
                    for i in 0..<n { dst[i] = ColorAdjust.luma(src[3 * i], src[3 * i + 1], src[3 * i + 2]) }
                } else {
                    for i in 0..<n { dst[3 * i] = src[i]; dst[3 * i + 1] = src[i]; dst[3 * i + 2] = src[i] }
                }
            }
        }
        return PixelImage(width: width, height: height, channels: target, pixels: out)
    }
}
