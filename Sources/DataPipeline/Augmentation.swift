/// The training augmentation presets (`--augs`): the official `main.py` levels 0…3 and the reference's
/// (`shared/reference/sela_ref.py --augs none|crop|crop_flip|full`) names for them, plus its crop-only preset.
/// Each is accepted by its level or its name ("3" or "full").
///
/// | preset | small images (side ≤ 64, native size) | larger images (official `data.py`) |
/// | --- | --- | --- |
/// | 0 `none` (`unaugmented`) | Resize(S), CenterCrop(S) | Resize(R), CenterCrop(S) |
/// | 1 `flip` | + RandomHorizontalFlip | + RandomHorizontalFlip |
/// | `crop` | Resize(S), RandomResizedCrop(S, scale 0.2–1) | Resize(R), RandomResizedCrop(S) |
/// | 2 `crop_flip` | `crop` + RandomHorizontalFlip | `crop` + RandomHorizontalFlip |
/// | 3 `full` | `crop` + ColorJitter(0.4 ×4), RandomGrayscale(0.2), flip (`cifar.py`) | RandomResizedCrop(S), RandomGrayscale(0.2), ColorJitter(0.4 ×4), flip |
/// | `cifar` | = `full` (`cifar.py`) | `cifar.py` at any size: Resize(R), RandomResizedCrop(S, scale 0.2–1), ColorJitter(0.4 ×4), RandomGrayscale(0.2), flip |
///
/// R is S·256/224 (256 for the 224 networks), as `Resize(256)` before the 224 crops of `data.py` and `cifar.py`.
/// On 1-channel (grey) data no colour operation is ever used: `full` is then `crop_flip`, as in the reference
/// ("for 1-channel data full == crop_flip"). The crop scale of the small-image presets is the reference's
/// `--crop-min 0.2` and `cifar.py`'s (0.2, 1).
public enum Augmentation: String, CaseIterable, Sendable, Codable {
    /// Level 0: no random augmentation.
    case unaugmented = "0"
    /// Level 1: horizontal flips only (after the official centre crop).
    case flip = "1"
    /// Level 2: random resized crops and horizontal flips.
    case cropFlip = "2"
    /// Level 3 (the official default): crops, flips and colour (jitter, random grayscale) on RGB data.
    case full = "3"
    /// Random resized crops only (the reference's `--augs crop`).
    case crop
    /// The official `cifar.py` training transform at every input size (`TransformPipeline.cifarTraining`): the
    /// paper's CIFAR runs upscale the 32×32 images (Resize(256), RandomResizedCrop(224, scale 0.2–1)).
    case cifar

    /// The names of the levels (the reference's `--augs` spellings, and `flip` for level 1).
    public static let levelNames: [String: Augmentation] = ["none": .unaugmented, "flip": .flip, "crop_flip": .cropFlip,
                                                            "full": .full]

    /// The preset named by its level ("0"…"3"), `crop`, or a name of `levelNames`.
    public init?(rawValue: String) {
        switch rawValue {
        case "0": self = .unaugmented
        case "1": self = .flip
        case "2": self = .cropFlip
        case "3": self = .full
        case "crop": self = .crop
        case "cifar": self = .cifar
        default:
            guard let named = Augmentation.levelNames[rawValue] else { return nil }
            self = named
        }
    }

    /// The level number of the official presets (nil for `crop` and `cifar`).
    public var level: Int? { Int(rawValue) }

    /// Levels are stored as numbers, as checkpoints written before the names existed hold them; `crop` and
    /// `cifar` as their names.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let level { try c.encode(level) } else { try c.encode(rawValue) }
    }

    /// Reads a level number or a name.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try (try? c.decode(Int.self)).map(String.init) ?? c.decode(String.self)
        guard let value = Augmentation(rawValue: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown augmentation \(text)")
        }
        self = value
    }
}

extension TransformPipeline {
    /// The pipeline of `augmentation` for `channels`-channel images (the pipeline converts every image to that
    /// count first) and a `size`×`size` network input, normalised by `mean`/`std` (one value per channel, or one
    /// for all). Sides up to 64 use the native small-image presets, larger ones the official ImageNet ones with
    /// Resize(size·256/224); `cifar` is `cifar.py`'s transform (`cifarTraining`) at every side (see `Augmentation`).
    /// `hue` is the colour jitter's hue range in [0, 0.5] (default the official 0.4; 0: no hue jitter, as the
    /// reference's `full`); presets without colour jitter ignore it.
    public static func augmented(_ augmentation: Augmentation, size: Int, channels: Int,
                                 mean: [Float], std: [Float], hue: Double = officialHue) -> TransformPipeline {
        let small = size <= 64
        let resizeSide = small ? size : size * 256 / 224
        let resize = ImageTransform.resize(resizeSide)
        let crop = small ? ImageTransform.randomResizedCrop(size, scale: 0.2...1.0) : .randomResizedCrop(size)
        let flip = ImageTransform.randomHorizontalFlip(p: 0.5)
        let jitter = ImageTransform.colorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: hue)
        let grey = ImageTransform.randomGrayscale(p: 0.2)
        let steps: [ImageTransform]
        switch augmentation {
        case .unaugmented: steps = [resize, .centerCrop(size)]
        case .flip: steps = [resize, .centerCrop(size), flip]
        case .crop: steps = [resize, crop]
        case .cropFlip: steps = [resize, crop, flip]
        case .full where channels == 1: steps = small ? [resize, crop, flip] : [crop, flip]
        case .cifar where channels == 1: steps = [resize, .randomResizedCrop(size, scale: 0.2...1.0), flip]
        case .full where !small: steps = [crop, grey, jitter, flip]
        case .full, .cifar:
            return cifarTraining(imageSize: resizeSide, cropSize: size, mean: mean, std: std, channels: channels, hue: hue)
        }
        return TransformPipeline(steps, mean: mean, std: std, channels: channels)
    }
}
