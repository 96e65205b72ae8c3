import DataPipeline
import Foundation
import Tensors
import Testing

/// Random transforms by the distributions torchvision specifies, and exact reproducibility for a seed.
@Suite struct RandomTransformTests {
    static func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
    static func variance(_ v: [Double]) -> Double {
        let m = mean(v)
        return v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)
    }

    @Test func randomResizedCropAreaAndRatioDistributions() {
        // On a 1000x1000 image with scale (0.1, 0.5) every first attempt fits, so the area fraction is
        // U(0.1, 0.5) and the log aspect ratio U(log 3/4, log 4/3) up to rounding of w and h.
        var rng = Xoshiro256(seed: 42)
        let n = 20_000
        var areas: [Double] = [], logRatios: [Double] = []
        for _ in 0..<n {
            let b = CropBox.randomResized(width: 1000, height: 1000, scale: 0.1...0.5,
                                          ratio: (3.0 / 4.0)...(4.0 / 3.0), using: &rng)
            #expect(b.top >= 0 && b.left >= 0 && b.top + b.height <= 1000 && b.left + b.width <= 1000)
            areas.append(Double(b.width * b.height) / 1e6)
            logRatios.append(log(Double(b.width) / Double(b.height)))
        }
        let a = (0.1, 0.5), r = (log(3.0 / 4.0), log(4.0 / 3.0))
        // Standard error of the mean: sqrt(var/n) ~ 0.0008 for the area; allow ~6 of them.
        #expect(abs(Self.mean(areas) - 0.3) < 0.005, "area mean \(Self.mean(areas))")
        #expect(abs(Self.variance(areas) - (a.1 - a.0) * (a.1 - a.0) / 12) < 0.0006, "area var")
        #expect(areas.min()! >= 0.099 && areas.max()! <= 0.501)
        #expect(abs(Self.mean(logRatios)) < 0.005, "log-ratio mean \(Self.mean(logRatios))")
        #expect(abs(Self.variance(logRatios) - (r.1 - r.0) * (r.1 - r.0) / 12) < 0.002, "log-ratio var")
        // Uniformity of the area: each fifth of the range holds about 20%.
        for k in 0..<5 {
            let lo = 0.1 + 0.08 * Double(k), hi = lo + 0.08
            let f = Double(areas.filter { $0 >= lo && $0 < hi }.count) / Double(n)
            #expect(abs(f - 0.2) < 0.02, "area bin \(k): \(f)")
        }
    }

    @Test func randomResizedCropFallsBackToTheClampedCentralCrop() {
        var rng = Xoshiro256(seed: 1)
        // A 1000x10 strip cannot hold a box of 90% of its area with ratio <= 4/3: central crop, w = round(10·4/3).
        let b = CropBox.randomResized(width: 1000, height: 10, scale: 0.9...1.0, ratio: (3.0 / 4.0)...(4.0 / 3.0),
                                      using: &rng)
        #expect(b == CropBox(top: 0, left: 493, height: 10, width: 13))
        let tall = CropBox.randomResized(width: 10, height: 1000, scale: 0.9...1.0,
                                         ratio: (3.0 / 4.0)...(4.0 / 3.0), using: &rng)
        #expect(tall == CropBox(top: 493, left: 0, height: 13, width: 10))
    }

    @Test func flipAndGrayscaleRates() {
        var rng = Xoshiro256(seed: 7)
        let n = 20_000
        var flips = 0, greys = 0
        for _ in 0..<n {
            if case .flip(true) = ImageTransform.randomHorizontalFlip(p: 0.5).sampleParameters(
                width: 4, height: 4, using: &rng) { flips += 1 }
            if case .grayscale(true) = ImageTransform.randomGrayscale(p: 0.2).sampleParameters(
                width: 4, height: 4, using: &rng) { greys += 1 }
        }
        // 5 standard errors: 0.5 ± 0.018, 0.2 ± 0.014.
        #expect(abs(Double(flips) / Double(n) - 0.5) < 0.018, "flip rate \(flips)")
        #expect(abs(Double(greys) / Double(n) - 0.2) < 0.014, "grey rate \(greys)")
    }

    @Test func colorJitterFactorsAndOrder() {
        var rng = Xoshiro256(seed: 9)
        var orders = Set<[Int]>()
        var b: [Double] = [], h: [Double] = []
        for _ in 0..<5_000 {
            let p = ColorJitterParameters.sample(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.4,
                                                 using: &rng)
            orders.insert(p.order)
            #expect(p.order.sorted() == [0, 1, 2, 3])
            for f in [p.brightness!, p.contrast!, p.saturation!] { #expect(f >= 0.6 && f <= 1.4) }
            #expect(p.hue! >= -0.4 && p.hue! <= 0.4)
            b.append(Double(p.brightness!)); h.append(Double(p.hue!))
        }
        #expect(orders.count == 24, "all 24 orders appear")
        #expect(abs(Self.mean(b) - 1) < 0.01 && abs(Self.mean(h)) < 0.01)
        #expect(abs(Self.variance(b) - 0.8 * 0.8 / 12) < 0.003)
        let none = ColorJitterParameters.sample(brightness: 0, contrast: 0.2, saturation: 0, hue: 0, using: &rng)
        #expect(none.brightness == nil && none.saturation == nil && none.hue == nil && none.contrast != nil)
    }

    @Test func sameSeedSameTensorDifferentSeedDifferentTensor() throws {
        let img = try ImageDecoder().decodeFile(Fixtures.path("decode/photo.png"))
        let p = TransformPipeline.official(augs: 3, cropSize: 24)!
        var a = Xoshiro256(seed: 5), b = Xoshiro256(seed: 5), c = Xoshiro256(seed: 6)
        let ta = p.tensor(img, using: &a), tb = p.tensor(img, using: &b), tc = p.tensor(img, using: &c)
        #expect(ta.shape == [3, 24, 24])
        #expect(ta.scalars == tb.scalars)
        #expect(ta.scalars != tc.scalars)
    }
}
