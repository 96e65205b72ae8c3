import DataPipeline
import Foundation
import Tensors
import TestSupport
import Testing

/// Native small inputs: a data set's channel count and size found from its files, augmentation presets that
/// never use colour on grey data, and per-channel statistics against a plain two-pass computation.
@Suite struct SmallInputTests {
    /// A grey image whose pixel (x, y) of image `i` is `(7x + 3y + 11i) mod 256`.
    static func greyImage(_ i: Int, width: Int = 28, height: Int = 28) -> PixelImage {
        var img = PixelImage(width: width, height: height, channels: 1)
        for y in 0..<height { for x in 0..<width { img[x, y, 0] = UInt8((7 * x + 3 * y + 11 * i) % 256) } }
        return img
    }

    /// Writes `images` as PNG files `root/<class>/<i>.png` (classes a, b alternating).
    static func writeFolder(_ root: String, _ images: [PixelImage]) throws {
        for (i, img) in images.enumerated() {
            let folder = root + "/" + (i % 2 == 0 ? "a" : "b")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(try PNGEncoder.encode(img)).write(to: URL(fileURLWithPath: folder + String(format: "/%03d.png", i)))
        }
    }

    /// A folder of grey PNGs is 1 channel at its common size; a grey JPEG counts as grey; one colour image
    /// makes the folder RGB (the mixed-folder rule), and sizes that differ give no common size.
    @Test func channelsAndSizeComeFromTheFiles() throws {
        let grey = try temporaryFolder("grey-folder")
        try Self.writeFolder(grey, (0..<6).map { Self.greyImage($0) })
        let info = try ImageFolderDataset(directory: grey).imageInfo()
        #expect(info == ImageInfo(channels: 1, width: 28, height: 28, inspected: 6))
        // A file whose header cannot be read is left out, as the loader skips it.
        #expect(FileManager.default.createFile(atPath: grey + "/a/empty.png", contents: Data()))
        #expect(try ImageFolderDataset(directory: grey).imageInfo() == info)
        // Decoded samples are RGB (torchvision's loader) with equal channels; a 1-channel pipeline gives the
        // file's grey values exactly.
        let sample = try ImageFolderDataset(directory: grey).sample(at: 0).image
        #expect(sample.channels == 3 && sample.converted(toChannels: 1) == Self.greyImage(0))

        let withJPEG = try temporaryFolder("grey-jpeg")
        try Self.writeFolder(withJPEG, [Self.greyImage(0)])
        try FileManager.default.copyItem(atPath: Fixtures.path("decode/grey.jpg"), toPath: withJPEG + "/a/grey.jpg")
        let jpeg = try ImageFolderDataset(directory: withJPEG).imageInfo()
        #expect(jpeg.channels == 1 && jpeg.width == nil && jpeg.inspected == 2)

        let mixed = try temporaryFolder("mixed-folder")
        var colour = PixelImage(width: 28, height: 28, channels: 3)
        colour[3, 4, 0] = 200
        try Self.writeFolder(mixed, (0..<5).map { Self.greyImage($0) } + [colour])
        #expect(try ImageFolderDataset(directory: mixed).imageInfo().channels == 3)
        // The embedded CIFAR-10 subset: RGB, 32×32.
        let embedded = try EmbeddedCIFAR10.train.imageInfo()
        #expect(embedded.channels == 3 && embedded.width == 32 && embedded.height == 32 && embedded.inspected == 1000)
    }

    @Test func inspectionPositionsAreSpreadEvenly() {
        #expect(ImageInfo.evenlySpaced(count: 5, limit: 1000) == [0, 1, 2, 3, 4])
        #expect(ImageInfo.evenlySpaced(count: 10, limit: 4) == [0, 3, 6, 9])
        let many = ImageInfo.evenlySpaced(count: 1_281_167, limit: 1000)
        #expect(many.count == 1000 && many.first == 0 && many.last == 1_281_166 && zip(many, many.dropFirst()).allSatisfy { $0 < $1 })
    }

    /// Colour → grey is Pillow's luma; grey → RGB replicates.
    @Test func channelConversion() {
        let rgb = PixelImage(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 10, 20, 30])
        #expect(rgb.converted(toChannels: 1).pixels == [ColorAdjust.luma(255, 0, 0), ColorAdjust.luma(10, 20, 30)])
        #expect(rgb.converted(toChannels: 1).pixels == [76, 18])  // PIL: Image.new("RGB", …).convert("L")
        #expect(PixelImage(width: 1, height: 1, channels: 1, pixels: [9]).converted(toChannels: 3).pixels == [9, 9, 9])
    }

    /// On 1-channel data no preset contains a colour step, and none changes a constant image's values (a
    /// brightness or contrast jitter would); on RGB data `full` and `cifar` do contain them.
    @Test(arguments: Augmentation.allCases)
    func greyAugmentationsNeverUseColour(_ augmentation: Augmentation) {
        for size in [28, 224] {
            let p = TransformPipeline.augmented(augmentation, size: size, channels: 1, mean: [0.5], std: [0.25])
            #expect(!p.steps.contains { if case .colorJitter = $0 { true } else if case .randomGrayscale = $0 { true } else { false } },
                    "\(augmentation) at \(size): \(p.steps)")
            let rgb = TransformPipeline.augmented(augmentation, size: size, channels: 3, mean: [0.5], std: [0.25])
            #expect(rgb.steps.contains { if case .colorJitter = $0 { true } else { false } } == [.full, .cifar].contains(augmentation))
        }
        let p = TransformPipeline.augmented(augmentation, size: 28, channels: 1, mean: [0.5], std: [0.25])
        let constant = PixelImage(width: 28, height: 28, channels: 3, repeating: 100)
        let expected = (Float(100) / 255 - 0.5) / 0.25
        for seed in 0..<200 {
            var rng = Xoshiro256(seed: UInt64(seed))
            let t = p.tensor(constant, using: &rng)
            #expect(t.shape == [1, 28, 28])
            if let bad = t.scalars.first(where: { $0 != expected }) {
                Issue.record("\(augmentation), seed \(seed): a pixel became \(bad), expected \(expected)")
                break
            }
        }
    }

    /// The reference's names and the official levels name the same presets; levels are stored as numbers.
    @Test func presetNamesAndStorage() throws {
        #expect(Augmentation(rawValue: "full") == .full && Augmentation(rawValue: "3") == .full)
        #expect(Augmentation(rawValue: "crop_flip") == .cropFlip && Augmentation(rawValue: "none") == .unaugmented)
        #expect(Augmentation(rawValue: "crop") == .crop && Augmentation(rawValue: "4") == nil)
        #expect(String(decoding: try JSONEncoder().encode([Augmentation.full, .crop]), as: UTF8.self) == #"[3,"crop"]"#)
        #expect(try JSONDecoder().decode([Augmentation].self, from: Data(#"[0,"crop","crop_flip"]"#.utf8)) == [.unaugmented, .crop, .cropFlip])
        // `crop` is the reference's RandomResizedCrop(scale 0.2–1) back to the input size, nothing else.
        #expect(TransformPipeline.augmented(.crop, size: 28, channels: 1, mean: [0], std: [1]).steps
                == [.resize(28), .randomResizedCrop(28, scale: 0.2...1.0)])
    }

    /// Streamed statistics equal a plain two-pass mean and population standard deviation over the pixels (on
    /// the evaluation geometry: here a resize from 30×30 to 28×28), for any thread count.
    @Test func channelStatisticsMatchAPlainComputation() throws {
        let root = try temporaryFolder("stats")
        var images = (0..<7).map { Self.greyImage($0, width: 30, height: 30).converted(toChannels: 3) }
        for i in images.indices { for p in stride(from: 0, to: images[i].pixels.count, by: 3) { images[i].pixels[p] &+= UInt8(5 * i) } }
        try Self.writeFolder(root, images)
        let data = try ImageFolderDataset(directory: root)
        for channels in [1, 3] {
            let geometry = TransformPipeline.augmented(.unaugmented, size: 28, channels: channels, mean: [0], std: [1])
            var values = [[Double]](repeating: [], count: channels)
            for i in 0..<data.count {
                var rng = Xoshiro256(seed: 0)
                let img = geometry.transform(try data.sample(at: i).image, using: &rng)
                #expect(img.width == 28 && img.channels == channels)
                for (k, v) in img.pixels.enumerated() { values[k % channels].append(Double(v) / 255) }
            }
            let mean = values.map { $0.reduce(0, +) / Double($0.count) }
            let std = zip(values, mean).map { v, m in (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count)).squareRoot() }
            for threads in [1, 3] {
                let s = try ChannelStatistics.compute(dataset: data, transform: geometry, threads: threads)
                #expect(s.images == 7 && s.skipped.isEmpty)
                expectClose(s.mean, mean, rtol: 1e-12, "mean, \(channels) channel(s), \(threads) thread(s)")
                expectClose(s.std, std, rtol: 1e-10, "std, \(channels) channel(s), \(threads) thread(s)")
            }
        }
    }
}
