import Foundation
import Tensors

/// Per-channel mean and standard deviation of a data set's pixels on the [0, 1] scale (what torchvision's
/// `ToTensor` yields), for `Normalize(mean, std)`: over every pixel of every image, after a deterministic
/// transform (the evaluation geometry, so the statistics are of what the network sees unaugmented).
///
/// `mean_c = Σ v / (255 n)`, `std_c = √(Σ v² / (255² n) − mean_c²)` (population standard deviation, NumPy's
/// `std` with ddof 0), where v are the 8-bit values of channel c and n the pixel count. The sums are exact
/// integers, so the result does not depend on the thread count or order. Images are streamed: memory stays at
/// one image per thread.
public struct ChannelStatistics: Sendable, Equatable {
    /// Mean per channel.
    public var mean: [Double]
    /// Standard deviation per channel.
    public var std: [Double]
    /// Images included.
    public var images: Int
    /// Indices of images that could not be decoded and were left out.
    public var skipped: [Int]

    /// The statistics of `dataset` after `transform`'s steps and channel conversion (its normalisation is not
    /// applied; its steps must not be random, or their draws would be those of one fixed generator), computed on
    /// `threads` threads. Corrupt images are left out and listed in `skipped`; throws
    /// `DataPipelineError.corruptImage` naming the first image when none could be decoded.
    public static func compute(dataset: any Dataset, transform: TransformPipeline,
                               threads: Int = 2) throws -> ChannelStatistics {
        let n = dataset.count
        let parts = max(1, min(threads, n))
        let results = UnsafeSendable(UnsafeMutablePointer<Partial>.allocate(capacity: parts))
        results.value.initialize(repeating: Partial(), count: parts)
        defer { results.value.deinitialize(count: parts); results.value.deallocate() }
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let decoder = ImageDecoder(minimumShorterSide: transform.decodeHint)
            var acc = Partial()
            for i in (part * n / parts)..<((part + 1) * n / parts) {
                guard let sample = try? dataset.sample(at: i, decoder: decoder) else { acc.skipped.append(i); continue }
                var rng = Xoshiro256(seed: 0)
                acc.add(transform.transform(sample.image, using: &rng))
            }
            results.value[part] = acc
        }
        var total = Partial()
        for p in 0..<parts { total.merge(results.value[p]) }
        guard total.pixels > 0 else {
            throw DataPipelineError.corruptImage(path: dataset.describeSample(0),
                                                 reason: "no image of the data set could be decoded to compute its statistics")
        }
        let count = Double(total.pixels)
        let mean = total.sum.map { Double($0) / (255 * count) }
        let std = zip(total.sumOfSquares, mean).map { sq, m in max(0, Double(sq) / (255 * 255 * count) - m * m).squareRoot() }
        return ChannelStatistics(mean: mean, std: std, images: total.images, skipped: total.skipped)
    }

    /// Integer sums of one thread.
    struct Partial {
        var sum: [UInt64] = [], sumOfSquares: [UInt64] = []
        var pixels = 0, images = 0
        var skipped: [Int] = []

        mutating func add(_ image: PixelImage) {
            let c = image.channels
            if sum.isEmpty { sum = [UInt64](repeating: 0, count: c); sumOfSquares = sum }
            precondition(sum.count == c, "ChannelStatistics: an image has \(c) channels, earlier ones \(sum.count)")
            image.pixels.withUnsafeBufferPointer { px in
                for ch in 0..<c {
                    var s: UInt64 = 0, q: UInt64 = 0
                    var i = ch
                    while i < px.count { let v = UInt64(px[i]); s += v; q += v * v; i += c }
                    sum[ch] += s; sumOfSquares[ch] += q
                }
            }
            pixels += image.width * image.height
            images += 1
        }

        mutating func merge(_ other: Partial) {
            if sum.isEmpty { sum = other.sum; sumOfSquares = other.sumOfSquares }
            else if !other.sum.isEmpty {
                for c in sum.indices { sum[c] += other.sum[c]; sumOfSquares[c] += other.sumOfSquares[c] }
            }
            pixels += other.pixels; images += other.images; skipped += other.skipped
        }
    }
}
