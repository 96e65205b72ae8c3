/// The augmentation pipelines of the official SeLa code (yukimasano/self-label: `data.py` for ImageNet,
/// `cifar.py` for CIFAR), with configurable sizes.
extension TransformPipeline {
    /// ImageNet channel means (torchvision models).
    public static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
    /// ImageNet channel standard deviations.
    public static let imageNetStd: [Float] = [0.229, 0.224, 0.225]
    /// CIFAR means used by the official `cifar.py`.
    public static let cifarMean: [Float] = [0.4914, 0.4822, 0.4465]
    /// CIFAR standard deviations used by the official `cifar.py` (the common, slightly low values).
    public static let cifarStd: [Float] = [0.2023, 0.1994, 0.2010]
    /// The hue range of the official colour jitter (`ColorJitter(0.4, 0.4, 0.4, 0.4)` in `data.py` and `cifar.py`).
    public static let officialHue = 0.4

    /// The official training augmentations `--augs 0...3` (`data.py get_aug_dataloader`), ImageNet-normalised:
    /// - 0: Resize(imageSize), CenterCrop(cropSize)
    /// - 1: Resize(imageSize), CenterCrop(cropSize), RandomHorizontalFlip
    /// - 2: Resize(imageSize), RandomResizedCrop(cropSize), RandomHorizontalFlip
    /// - 3: RandomResizedCrop(cropSize), RandomGrayscale(0.2), ColorJitter(0.4, 0.4, 0.4, 0.4),
    ///      RandomHorizontalFlip (the default)
    /// Returns nil for another level.
    public static func official(augs: Int, imageSize: Int = 256, cropSize: Int = 224,
                                mean: [Float] = imageNetMean, std: [Float] = imageNetStd) -> TransformPipeline? {
        let steps: [ImageTransform]
        switch augs {
        case 0: steps = [.resize(imageSize), .centerCrop(cropSize)]
        case 1: steps = [.resize(imageSize), .centerCrop(cropSize), .randomHorizontalFlip(p: 0.5)]
        case 2: steps = [.resize(imageSize), .randomResizedCrop(cropSize), .randomHorizontalFlip(p: 0.5)]
        case 3: steps = [.randomResizedCrop(cropSize), .randomGrayscale(p: 0.2),
                         .colorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.4),
                         .randomHorizontalFlip(p: 0.5)]
        default: return nil
        }
        return TransformPipeline(steps, mean: mean, std: std)
    }

    /// Evaluation / pseudo-label transform: Resize(imageSize), CenterCrop(cropSize), normalised.
    public static func evaluation(imageSize: Int = 256, cropSize: Int = 224,
                                  mean: [Float] = imageNetMean, std: [Float] = imageNetStd) -> TransformPipeline {
        TransformPipeline([.resize(imageSize), .centerCrop(cropSize)], mean: mean, std: std)
    }

    /// The official CIFAR training pipeline (`cifar.py transform_train`): Resize(imageSize),
    /// RandomResizedCrop(cropSize, scale (0.2, 1)), ColorJitter(0.4 x 4), RandomGrayscale(0.2),
    /// RandomHorizontalFlip, CIFAR mean/std. Defaults 256/224 as in the paper; `cifarNative` is the 32x32 variant.
    /// Training uses it for `--augs cifar` (and `full` at native small sizes) through `augmented`, with the run's
    /// normalisation and channel count. `hue` is the jitter's hue range (cifar.py's 0.4; 0 leaves hues alone, as
    /// `shared/reference/sela_ref.py --augs full`, which has no hue jitter).
    public static func cifarTraining(imageSize: Int = 256, cropSize: Int = 224, mean: [Float] = cifarMean,
                                     std: [Float] = cifarStd, channels: Int? = nil,
                                     hue: Double = officialHue) -> TransformPipeline {
        TransformPipeline([.resize(imageSize), .randomResizedCrop(cropSize, scale: 0.2...1.0),
                           .colorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: hue),
                           .randomGrayscale(p: 0.2), .randomHorizontalFlip(p: 0.5)],
                          mean: mean, std: std, channels: channels)
    }

    /// The CIFAR evaluation pipeline (`cifar.py transform_test`): Resize(imageSize), CenterCrop(cropSize).
    public static func cifarEvaluation(imageSize: Int = 256, cropSize: Int = 224) -> TransformPipeline {
        TransformPipeline([.resize(imageSize), .centerCrop(cropSize)], mean: cifarMean, std: cifarStd)
    }

    /// The native-resolution CIFAR variant for the CPU-sized networks: the same augmentations as
    /// `cifarTraining` at `size` (default 32, so the Resize is the identity on CIFAR images).
    public static func cifarNative(size: Int = 32) -> TransformPipeline {
        cifarTraining(imageSize: size, cropSize: size)
    }

    /// The native-resolution CIFAR evaluation transform (identity geometry at 32x32, CIFAR-normalised).
    public static func cifarNativeEvaluation(size: Int = 32) -> TransformPipeline {
        cifarEvaluation(imageSize: size, cropSize: size)
    }
}
