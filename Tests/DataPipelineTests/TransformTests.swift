import DataPipeline
import Tensors
import Testing

/// Deterministic transforms against torchvision.transforms.functional on PIL images (Fixtures/transform, input
/// Fixtures/decode/photo.png, lossless, so both sides start from the same pixels). Stated tolerances:
/// - Resize / resized crop: 1 level. Our resampler is Pillow's fixed-point algorithm (identical taps and
///   rounding); when both axes change, the installed Pillow sometimes runs the vertical pass first (an internal
///   heuristic), and the 8-bit rounding of the intermediate then moves some pixels by 1.
/// - CenterCrop: exact (0). Brightness, contrast, saturation, grayscale: 1 level (float blend rounding).
/// - Hue: 2 levels (Pillow's 8-bit HSV round trip; float vs double rounding at a few pixels).
/// - ToTensor + Normalize: 1e-6.
@Suite struct TransformTests {
    static func photo() throws -> PixelImage { try ImageDecoder().decodeFile(Fixtures.path("decode/photo.png")) }

    static func reference(_ name: String) throws -> PixelImage {
        let e = Fixtures.entry("transform", name)
        return try Fixtures.rgbImage("transform/\(name).rgb", width: e["width"] as! Int, height: e["height"] as! Int)
    }

    static func run(_ transform: ImageTransform, on image: PixelImage) -> PixelImage {
        var rng = Xoshiro256(seed: 0)
        return transform.sampleParameters(width: image.width, height: image.height, using: &rng).apply(image)
    }

    @Test(arguments: [("resize_down_20", 20), ("resize_up_100", 100), ("resize_down_33", 33)])
    func resizeMatchesTorchvision(name: String, size: Int) throws {
        expectImagesClose(Self.run(.resize(size), on: try Self.photo()), try Self.reference(name), tolerance: 1, name)
    }

    @Test(arguments: [("center_crop_32", 32), ("center_crop_70", 70)])
    func centerCropMatchesTorchvision(name: String, size: Int) throws {
        expectImagesClose(Self.run(.centerCrop(size), on: try Self.photo()), try Self.reference(name), tolerance: 0, name)
    }

    @Test(arguments: ["resized_crop", "resized_crop_up"])
    func resizedCropMatchesTorchvision(name: String) throws {
        let e = Fixtures.entry("transform", name)
        let box = CropBox(top: e["top"] as! Int, left: e["left"] as! Int,
                          height: e["boxHeight"] as! Int, width: e["boxWidth"] as! Int)
        let got = AppliedTransform.resizedCrop(box, size: e["size"] as! Int).apply(try Self.photo())
        expectImagesClose(got, try Self.reference(name), tolerance: 1, name)
    }

    @Test(arguments: ["brightness_1.3", "brightness_0.6", "contrast_0.7", "contrast_1.35", "saturation_1.4",
                      "saturation_0.65", "hue_0.2", "hue_-0.33", "grayscale"])
    func colorOperationMatchesTorchvision(name: String) throws {
        let e = Fixtures.entry("transform", name)
        var img = try Self.photo()
        let factor = Float((e["factor"] as? Double) ?? 0)
        switch e["op"] as! String {
        case "brightness": ColorAdjust.adjustBrightness(&img, factor: factor)
        case "contrast": ColorAdjust.adjustContrast(&img, factor: factor)
        case "saturation": ColorAdjust.adjustSaturation(&img, factor: factor)
        case "hue": ColorAdjust.adjustHue(&img, factor: factor)
        default: ColorAdjust.grayscale(&img)
        }
        expectImagesClose(img, try Self.reference(name), tolerance: name.hasPrefix("hue") ? 2 : 1, name)
    }

    @Test func toTensorNormalizeMatchesTorchvision() throws {
        let want = try Fixtures.bytes("transform/normalized.f32").withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let pipeline = TransformPipeline([], mean: TransformPipeline.cifarMean, std: TransformPipeline.cifarStd)
        var rng = Xoshiro256(seed: 1)
        let t = pipeline.tensor(try Self.photo(), using: &rng)
        #expect(t.shape == [3, 47, 61])
        let got = t.scalars
        let worst = zip(got, want).map { abs($0 - $1) }.max()!
        #expect(got.count == want.count && worst <= 1e-6, "max |diff| \(worst)")
    }

    @Test func flipDeferredIntoTheTensorEqualsFlippingTheImage() throws {
        let img = try Self.photo()
        let p = TransformPipeline([.centerCrop(40), .randomHorizontalFlip(p: 1), .randomGrayscale(p: 0)],
                                  mean: [0.5], std: [0.25])
        var r1 = Xoshiro256(seed: 3), r2 = Xoshiro256(seed: 3)
        let viaTensor = p.tensor(img, using: &r1)
        let direct = p.transform(img, using: &r2)
        #expect(direct == AppliedTransform.centerCrop(img, size: 40).flippedHorizontally())
        let plain = TransformPipeline([], mean: [0.5], std: [0.25])
        var r3 = Xoshiro256(seed: 0)
        #expect(viaTensor.scalars == plain.tensor(direct, using: &r3).scalars)
    }

    @Test func resizeOutputSizeFollowsTorchvision() {
        #expect(ImageTransform.resizedSize(width: 500, height: 375, shorterSide: 256) == (341, 256))
        #expect(ImageTransform.resizedSize(width: 375, height: 500, shorterSide: 256) == (256, 341))
        #expect(ImageTransform.resizedSize(width: 32, height: 32, shorterSide: 256) == (256, 256))
        #expect(ImageTransform.resizedSize(width: 40, height: 32, shorterSide: 32) == (40, 32))
    }

    @Test func decodeHintKeepsEnoughPixelsForTheFirstStep() {
        #expect(TransformPipeline.official(augs: 0)!.decodeHint == 256)
        #expect(TransformPipeline.official(augs: 3)!.decodeHint == 792)  // 224 / sqrt(0.08) = 791.96
        #expect(TransformPipeline.cifarNative().decodeHint == 32)
        #expect(TransformPipeline([.randomGrayscale(p: 1)], mean: [0], std: [1]).decodeHint == nil)
    }

    @Test func officialPresetsHaveThePaperSteps() {
        #expect(TransformPipeline.official(augs: 0)!.steps == [.resize(256), .centerCrop(224)])
        #expect(TransformPipeline.official(augs: 3)!.steps == [
            .randomResizedCrop(224), .randomGrayscale(p: 0.2),
            .colorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.4), .randomHorizontalFlip(p: 0.5)])
        #expect(TransformPipeline.official(augs: 4) == nil)
        #expect(TransformPipeline.cifarNative().steps[1] == .randomResizedCrop(32, scale: 0.2...1.0))
        #expect(TransformPipeline.cifarTraining().mean == TransformPipeline.cifarMean)
    }
}
