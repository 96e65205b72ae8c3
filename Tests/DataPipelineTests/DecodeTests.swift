import DataPipeline
import Testing

/// Decoders against Pillow's `Image.open(f).convert("RGB")` on the same files.
@Suite struct DecodeTests {
    static let cases: [(file: String, tolerance: Int)] = [
        ("photo.png", 0), ("rgba.png", 0), ("palette.png", 0), ("grey_alpha.png", 0), ("rgb16.png", 0),
        ("grey16.png", 0),
        // JPEG: same libjpeg algorithm (integer DCT, fancy upsampling) in both; allow the 1-2 levels that
        // different libjpeg-turbo builds may differ by.
        ("photo.jpg", 2), ("grey.jpg", 2), ("cmyk.jpg", 2),
    ]

    @Test(arguments: cases.map(\.file))
    func decodesLikePillow(file: String) throws {
        let tolerance = Self.cases.first { $0.file == file }!.tolerance
        let e = Fixtures.entry("decode", file)
        let want = try Fixtures.rgbImage("decode/\(file).rgb", width: e["width"] as! Int, height: e["height"] as! Int)
        let got = try ImageDecoder().decodeFile(Fixtures.path("decode/\(file)"))
        expectImagesClose(got, want, tolerance: tolerance, file)
    }

    @Test func truncatedJPEGIsATypedError() throws {
        let path = Fixtures.path("decode/truncated.jpg")
        #expect(throws: DataPipelineError.self) { try ImageDecoder().decodeFile(path) }
        do { _ = try ImageDecoder().decodeFile(path) } catch let DataPipelineError.corruptImage(p, _) {
            #expect(p == path)
        }
    }

    @Test func nonImageWithJPGNameIsATypedError() throws {
        let path = Fixtures.path("decode/notimage.jpg")
        #expect(throws: DataPipelineError.corruptImage(path: path, reason: "neither a JPEG nor a PNG file (128 bytes)")) {
            try ImageDecoder().decodeFile(path)
        }
    }

    @Test func truncatedPNGIsATypedError() throws {
        let bytes = try Fixtures.bytes("decode/photo.png")
        #expect(throws: DataPipelineError.self) {
            try ImageDecoder().decode(Array(bytes.prefix(bytes.count / 2)), name: "half.png")
        }
    }

    @Test func missingFileIsATypedError() {
        #expect(throws: DataPipelineError.self) { try ImageDecoder().decodeFile("/nonexistent/x.jpg") }
    }

    @Test func dctScalingPicksTheStrongestFactorThatKeepsTheSize() {
        #expect(ImageDecoder.jpegScaleDenominator(width: 400, height: 300, minimumShorterSide: nil) == 1)
        #expect(ImageDecoder.jpegScaleDenominator(width: 400, height: 300, minimumShorterSide: 224) == 1)
        #expect(ImageDecoder.jpegScaleDenominator(width: 400, height: 300, minimumShorterSide: 150) == 2)
        #expect(ImageDecoder.jpegScaleDenominator(width: 400, height: 300, minimumShorterSide: 75) == 4)
        #expect(ImageDecoder.jpegScaleDenominator(width: 400, height: 300, minimumShorterSide: 38) == 8)
        #expect(ImageDecoder.jpegScaleDenominator(width: 400, height: 300, minimumShorterSide: 37) == 8)
        #expect(ImageDecoder.jpegScaleDenominator(width: 400, height: 300, minimumShorterSide: 39) == 4)
    }

    @Test func dctScaledDecodeIsAFaithfulSmallerImage() throws {
        let path = Fixtures.path("decode/large.jpg")
        let full = try ImageDecoder().decodeFile(path)
        #expect(full.width == 400 && full.height == 300)
        let quarter = try ImageDecoder(minimumShorterSide: 75).decodeFile(path)
        #expect(quarter.width == 100 && quarter.height == 75)
        // Compare with a box-filtered full decode: DCT scaling is an (approximate) area average.
        var worstMeanError = 0.0
        for c in 0..<3 {
            var sum = 0.0
            for y in 0..<75 { for x in 0..<100 {
                var box = 0
                for dy in 0..<4 { for dx in 0..<4 { box += Int(full[4 * x + dx, 4 * y + dy, c]) } }
                sum += abs(Double(box) / 16 - Double(quarter[x, y, c]))
            } }
            worstMeanError = max(worstMeanError, sum / 7500)
        }
        #expect(worstMeanError < 3, "mean |DCT-scaled − box-averaged| = \(worstMeanError) levels")
    }
}
