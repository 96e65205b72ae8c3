import DataPipeline
import Foundation
import NeuralNetworks

/// What a network takes and how its images are normalised: the input shape (channels × side × side) and the
/// per-channel `Normalize(mean, std)`. Resolved from the settings and the data when a run starts
/// (`TrainingConfiguration.resolvingInput`) and stored with the weights, so `features`, `eval`, `export` and
/// `--resume` rebuild the same network and feed it the same way.
public struct NetworkInput: Sendable, Equatable {
    /// Channels and side of the network input.
    public var shape: InputShape
    /// `Normalize` mean and standard deviation, one value per channel (or one for all).
    public var mean: [Float], std: [Float]

    /// An input description.
    public init(shape: InputShape, mean: [Float], std: [Float]) {
        self.shape = shape; self.mean = mean; self.std = std
    }

    /// What every network written before inputs were recorded was trained with: 3×`inputSize`² of `architecture`
    /// (or `size`), CIFAR statistics up to 64×64, ImageNet statistics above.
    public static func legacy(_ architecture: Architecture, size: Int? = nil) -> NetworkInput {
        let side = size ?? architecture.inputSize
        let (mean, std) = side <= 64 ? (TransformPipeline.cifarMean, TransformPipeline.cifarStd)
                                     : (TransformPipeline.imageNetMean, TransformPipeline.imageNetStd)
        return NetworkInput(shape: InputShape(channels: 3, size: side), mean: mean, std: std)
    }

    /// The pipeline of `augmentation` for this input (`TransformPipeline.augmented`; `hue`: its colour jitter's hue
    /// range).
    public func transform(_ augmentation: Augmentation, hue: Double = TransformPipeline.officialHue) -> TransformPipeline {
        TransformPipeline.augmented(augmentation, size: shape.size, channels: shape.channels, mean: mean, std: std,
                                    hue: hue)
    }

    /// The evaluation transform: Resize + CenterCrop to the input side, converted to the input's channels.
    public var evaluationTransform: TransformPipeline { transform(.unaugmented) }

    /// As model-file metadata (`channels`, `input_size`, `mean`, `std`; lists comma-separated).
    public var metadata: [String: String] {
        ["channels": "\(shape.channels)", "input_size": "\(shape.size)",
         "mean": mean.map { "\($0)" }.joined(separator: ","), "std": std.map { "\($0)" }.joined(separator: ",")]
    }

    /// Reads `metadata` back: nil when the file has none (written before inputs were recorded); throws
    /// `TrainingError.unreadableState` naming `path` when an entry cannot be read or the values do not fit
    /// together (`check()`).
    public init?(metadata: [String: String], path: String) throws {
        guard metadata["channels"] != nil || metadata["input_size"] != nil else { return nil }
        guard let c = metadata["channels"].flatMap({ Int($0) }), let s = metadata["input_size"].flatMap({ Int($0) }),
              let m = metadata["mean"].flatMap(NetworkInput.floats), let d = metadata["std"].flatMap(NetworkInput.floats) else {
            throw TrainingError.unreadableState(path: path, reason: "metadata channels/input_size/mean/std "
                + "\([metadata["channels"], metadata["input_size"], metadata["mean"], metadata["std"]].map { $0 ?? "(none)" }) cannot be read")
        }
        self.init(shape: InputShape(channels: c, size: s), mean: m, std: d)
        if let problem = problem { throw TrainingError.unreadableState(path: path, reason: problem) }
    }

    /// What makes this input unusable, or nil: the channel count must be 1 or 3, and there must be one mean and
    /// one positive, finite standard deviation per channel (or one of each for all).
    public var problem: String? {
        guard shape.channels == 1 || shape.channels == 3 else { return "input channels \(shape.channels) (1 or 3 expected)" }
        guard mean.count == std.count, mean.count == 1 || mean.count == shape.channels,
              std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            return "normalisation mean \(mean) / std \(std) does not fit \(shape.channels)-channel input"
        }
        return nil
    }

    static func floats(_ text: String) -> [Float]? {
        let values = text.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        return values.isEmpty || values.count != text.split(separator: ",").count || !values.allSatisfy(\.isFinite)
            ? nil : values
    }
}

/// The `--normalization` setting.
public enum NormalizationSetting: Equatable, Sendable {
    /// RGB input: the official pipelines' constants, CIFAR's up to 64×64 (`cifar.py`, and the embedded CIFAR-10
    /// data), ImageNet's above (so a network exported to `.pth`, which holds no statistics, is fed the same way
    /// when loaded back) except with `--augs cifar`: `cifar.py`'s CIFAR statistics at every size, its 224×224
    /// path included (a `.pth` export of such a 224×224 network is read back with ImageNet's); grey input:
    /// `dataset` (no official constant fits it).
    case auto
    /// Mean and standard deviation per channel computed over the training split (`ChannelStatistics`).
    case dataset
    /// Given values (one per channel, or one for all): `cifar`, `imagenet`, `mnist` or `MEAN,…/STD,…`.
    case values(mean: [Float], std: [Float])

    /// Parses the setting's text; throws naming `--normalization`.
    public init(parsing text: String) throws(TrainingConfigurationError) {
        switch text {
        case "auto": self = .auto
        case "dataset": self = .dataset
        case "cifar": self = .values(mean: TransformPipeline.cifarMean, std: TransformPipeline.cifarStd)
        case "imagenet": self = .values(mean: TransformPipeline.imageNetMean, std: TransformPipeline.imageNetStd)
        case "mnist": self = .values(mean: [0.1307], std: [0.3081])
        default:
            let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, let mean = NetworkInput.floats(parts[0]), let std = NetworkInput.floats(parts[1]),
                  mean.count == std.count, std.allSatisfy({ $0 > 0 }) else {
                throw TrainingConfigurationError(option: "--normalization", value: text,
                    rule: "must be auto, dataset, cifar, imagenet, mnist or MEAN[,MEAN,MEAN]/STD[,STD,STD] with positive STD values of equal count")
            }
            self = .values(mean: mean, std: std)
        }
    }

    /// The setting's text for given values ("0.5,0.5/0.25,0.25").
    public static func text(mean: [Float], std: [Float]) -> String {
        mean.map { "\($0)" }.joined(separator: ",") + "/" + std.map { "\($0)" }.joined(separator: ",")
    }
}

extension TrainingConfiguration {
    /// The input these settings describe. Resolved settings (every run since inputs were recorded) give it
    /// exactly; settings a checkpoint stored before then (`cropSize`/`channels` 0, `normalization` auto) give
    /// `NetworkInput.legacy`, which is what such runs used.
    public var networkInput: NetworkInput {
        let legacy = NetworkInput.legacy(architecture, size: cropSize > 0 ? cropSize : nil)
        var input = legacy
        if channels > 0 { input.shape.channels = channels }
        if case .values(let mean, let std)? = try? NormalizationSetting(parsing: normalization) {
            input.mean = mean; input.std = std
        }
        return input
    }

    /// Transforms for training, for the pseudo-label pass and for evaluation, for `networkInput`.
    public var transforms: (train: TransformPipeline, pseudo: TransformPipeline, evaluation: TransformPipeline) {
        let input = networkInput
        return (input.transform(augs, hue: jitterHue), input.transform(paugs, hue: jitterHue), input.evaluationTransform)
    }

    /// These settings with `cropSize`, `channels` and `normalization` resolved against the training data `train`:
    /// channels from `ImageInfo` unless given; the side given, or the
    /// data's common shorter side when the architecture takes native small input and it is at most 64, else the
    /// architecture's own; the normalisation per `NormalizationSetting` (`dataset` streams the training split
    /// once on `threads` threads). Throws a `TrainingConfigurationError` when the network cannot take that input
    /// or the given statistics do not fit the channel count. `note` receives one line saying what was chosen.
    public func resolvingInput(train: any Dataset, threads: Int,
                               note: (String) -> Void = { _ in }) throws -> TrainingConfiguration {
        var c = self
        let info = try train.imageInfo()
        let arch = architecture
        if c.channels == 0 { c.channels = info.channels }
        if c.cropSize == 0 {
            if arch.takesNativeSmallInput, let side = info.commonShorterSide, side <= 64 { c.cropSize = side }
            else { c.cropSize = arch.inputSize }
        }
        let shape = InputShape(channels: c.channels, size: c.cropSize)
        do { try arch.check(shape) } catch {
            throw TrainingConfigurationError(option: "--crop-size", value: "\(c.cropSize)", rule: "does not fit: \(error)")
        }
        var setting = try NormalizationSetting(parsing: normalization)
        if setting == .auto {
            // cifar.py normalises by the CIFAR statistics at every size, its 224×224 path included.
            let official = augs == .cifar ? NetworkInput(shape: shape, mean: TransformPipeline.cifarMean, std: TransformPipeline.cifarStd)
                                          : NetworkInput.legacy(arch, size: shape.size)
            setting = shape.channels == 3 ? .values(mean: official.mean, std: official.std) : .dataset
        }
        var how = "given"
        switch setting {
        case .values(let mean, let std):
            guard mean.count == 1 || mean.count == shape.channels else {
                throw TrainingConfigurationError(option: "--normalization", value: normalization,
                    rule: "has \(mean.count) values per statistic for \(shape.channels)-channel input")
            }
            c.normalization = NormalizationSetting.text(mean: mean, std: std)
        case .dataset, .auto:
            let geometry = TransformPipeline.augmented(.unaugmented, size: shape.size, channels: shape.channels, mean: [0], std: [1])
            let stats = try ChannelStatistics.compute(dataset: train, transform: geometry, threads: max(1, threads))
            guard stats.std.allSatisfy({ $0 > 0 }) else {
                throw TrainingConfigurationError(option: "--normalization", value: normalization,
                    rule: "cannot use the training images' statistics: a channel is constant (std \(stats.std)); give values")
            }
            c.normalization = NormalizationSetting.text(mean: stats.mean.map(Float.init), std: stats.std.map(Float.init))
            how = "computed over \(stats.images) training images"
        }
        note("input \(shape) (data: \(info.channels == 1 ? "grey" : "RGB"), "
             + (info.width.map { "\($0)×\(info.height!)" } ?? "sizes vary") + "); normalisation \(c.normalization) (\(how))")
        return c
    }
}
