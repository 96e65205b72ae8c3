import Tensors

/// A torchvision `Compose([...steps, ToTensor(), Normalize(mean, std)])` over `PixelImage`s, optionally after
/// the loader's `convert("L")` / `convert("RGB")` (`channels`).
///
/// `transform(_:using:)` runs the steps: each draws its parameters from the generator, then is applied.
/// `write(_:flip:into:)` is `ToTensor` + `Normalize`: `out[c, y, x] = (v / 255 − mean[c]) / std[c]` in float32,
/// CHW. A horizontal flip followed only by pixel-wise steps is deferred into that final write (it commutes
/// with them), which saves a pass over the image; results are identical.
public struct TransformPipeline: Sendable, Equatable {
    /// The steps in order.
    public var steps: [ImageTransform]
    /// Per-channel mean subtracted after scaling to [0, 1] (one value per image channel, or one for all).
    public var mean: [Float]
    /// Per-channel standard deviation divided by.
    public var std: [Float]
    /// The channel count every image is converted to before the steps (`PixelImage.converted(toChannels:)`:
    /// RGB → grey by Pillow's luma, grey → RGB by replication), or nil to keep each image's own.
    public var channels: Int?

    /// A pipeline; `mean` and `std` must have equal counts (1 or the channel count) and positive `std`;
    /// `channels` (1 or 3, or nil) as described on the property.
    public init(_ steps: [ImageTransform], mean: [Float], std: [Float], channels: Int? = nil) {
        precondition(!mean.isEmpty && mean.count == std.count,
                     "TransformPipeline: mean \(mean) and std \(std) must be non-empty and of equal length")
        precondition(std.allSatisfy { $0 > 0 }, "TransformPipeline: std must be positive, got \(std)")
        precondition(channels == nil || channels == 1 || channels == 3,
                     "TransformPipeline: channels must be 1, 3 or nil, got \(channels ?? 0)")
        self.steps = steps
        self.mean = mean
        self.std = std
        self.channels = channels
    }

    /// The smallest shorter side a decoded image may have without changing what the pipeline needs, used to
    /// allow JPEG DCT-domain downscaling: the target size of a leading `resize` or `centerCrop`; for a leading
    /// `randomResizedCrop(size, scale)`, `size / √scale.lowerBound` (so that even the smallest crop still has
    /// about `size` source pixels across: 792 for 224 at scale 0.08). `nil` when the first step fixes no size.
    public var decodeHint: Int? {
        switch steps.first {
        case let .resize(s)?: return s
        case let .randomResizedCrop(size, scale, _)?:
            return Int((Double(size) / max(scale.lowerBound, 1e-6).squareRoot()).rounded(.up))
        case let .centerCrop(s)?: return s
        default: return nil
        }
    }

    /// Runs the steps; returns the image and whether a deferred horizontal flip is still to be applied.
    public func transformDeferringFlip(_ image: PixelImage,
                                       using rng: inout some RandomNumberGenerator) -> (PixelImage, flip: Bool) {
        var img = channels.map { image.converted(toChannels: $0) } ?? image
        var flip = false
        for (i, step) in steps.enumerated() {
            let applied = step.sampleParameters(width: img.width, height: img.height, using: &rng)
            if case let .flip(f) = applied {
                let restPixelwise = steps[(i + 1)...].allSatisfy { $0.isPixelwise }
                if restPixelwise { flip = flip != f } else { img = applied.apply(img) }
                continue
            }
            precondition(!flip || step.isPixelwise, "TransformPipeline: deferred flip before \(step)")
            img = applied.apply(img)
        }
        return (img, flip)
    }

    /// Runs the steps (flip applied), for callers that want the transformed image itself.
    public func transform(_ image: PixelImage, using rng: inout some RandomNumberGenerator) -> PixelImage {
        let (img, flip) = transformDeferringFlip(image, using: &rng)
        return flip ? img.flippedHorizontally() : img
    }

    /// One 256-entry table per channel: `(v / 255 − mean) / std` in float32, as torchvision computes it.
    public func normalizationTables(channels: Int) -> [[Float]] {
        (0..<channels).map { c in
            let m = mean.count == 1 ? mean[0] : mean[c], s = std.count == 1 ? std[0] : std[c]
            return (0..<256).map { (Float($0) / 255 - m) / s }
        }
    }

    /// `ToTensor` + `Normalize`: writes `image` as C x H x W float32 at `out` (mirrored when `flip`).
    public func write(_ image: PixelImage, flip: Bool, into out: UnsafeMutablePointer<Float>,
                      tables: [[Float]]? = nil) {
        let c = image.channels
        precondition(mean.count == 1 || mean.count == c,
                     "TransformPipeline: \(mean.count) mean values for a \(c)-channel image")
        let tables = tables ?? normalizationTables(channels: c)
        let w = image.width, h = image.height, plane = w * h
        image.pixels.withUnsafeBufferPointer { px in
            for ch in 0..<c {
                tables[ch].withUnsafeBufferPointer { t in
                    let dst = out + ch * plane
                    for y in 0..<h {
                        let row = px.baseAddress! + y * w * c + ch
                        let o = dst + y * w
                        if flip {
                            for x in 0..<w { o[w - 1 - x] = t[Int(row[x * c])] }
                        } else {
                            for x in 0..<w { o[x] = t[Int(row[x * c])] }
                        }
                    }
                }
            }
        }
    }

    /// The transformed image as a `[C, H, W]` tensor.
    public func tensor(_ image: PixelImage, using rng: inout some RandomNumberGenerator) -> Tensor {
        let (img, flip) = transformDeferringFlip(image, using: &rng)
        var t = Tensor(uninitializedShape: [img.channels, img.height, img.width])
        t.withUnsafeMutableBufferPointer { write(img, flip: flip, into: $0.baseAddress!) }
        return t
    }
}
