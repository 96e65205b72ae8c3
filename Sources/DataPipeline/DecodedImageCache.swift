import Foundation

/// A dataset whose decoded images are kept in memory after their first decode, when the whole dataset fits in
/// `budgetBytes` — for the small image folders (CIFAR-sized, 28×28 digits) that SeLa reads twice per epoch
/// and more (training batches, the pseudo-label passes, the held-out features): decoding their PNG/JPEG files
/// again on every pass took CPU from the network on a 2-core machine (a grey 4,000-image folder: 0.08 s of
/// decoding per pass, 135 passes in a 45-epoch run).
///
/// The decision is made once, from the dataset's reported image size (`imageInfo()`): count × 3 × width ×
/// height ≤ budget; otherwise (an ImageNet folder, or images of unknown size) nothing is cached and
/// every call goes to the wrapped dataset; images beyond the budget (files larger than the inspected ones) are
/// not kept. Only successful decodes are kept: a corrupt file throws on every
/// pass, exactly as without the cache, so skipping and its warnings are unchanged. The files are assumed not
/// to change during the run (their fingerprint is checked on resume).
public final class DecodedImageCache: Dataset, @unchecked Sendable {
    /// The decoded-bytes budget used by `selflabel train` (and `bench sela`) for the training images.
    public static let defaultBudgetBytes = 512 << 20

    public let base: any Dataset
    /// Whether images are being kept (the dataset fits the budget).
    public let isCaching: Bool
    /// The budget; images beyond it (a file larger than the inspected ones) are not kept.
    public let budgetBytes: Int
    private let lock = NSLock()
    private var keptBytes = 0
    private var samples: [Sample?]

    /// Wraps `base`; caches when `count × 3 × width × height ≤ budgetBytes` by its `imageInfo()` (3: the
    /// decoder gives RGB even for a grey folder, which the pipeline converts later).
    public init(_ base: any Dataset, budgetBytes: Int = DecodedImageCache.defaultBudgetBytes) {
        self.base = base
        self.budgetBytes = budgetBytes
        var fits = false
        if let info = try? base.imageInfo(), let w = info.width, let h = info.height, info.inspected > 0 {
            let (perImage, overflow) = (3 * w * h).multipliedReportingOverflow(by: max(base.count, 1))
            fits = !overflow && perImage <= budgetBytes
        }
        isCaching = fits
        samples = fits ? [Sample?](repeating: nil, count: base.count) : []
    }

    public var count: Int { base.count }
    public var classNames: [String]? { base.classNames }
    public var targets: [Int]? { base.targets }
    public func describeSample(_ index: Int) -> String { base.describeSample(index) }
    public func imageInfo() throws -> ImageInfo { try base.imageInfo() }

    public func sample(at index: Int, decoder: ImageDecoder) throws -> Sample {
        guard isCaching else { return try base.sample(at: index, decoder: decoder) }
        lock.lock()
        let kept = samples[index]
        lock.unlock()
        if let kept { return kept }
        let s = try base.sample(at: index, decoder: decoder)
        let bytes = s.image.pixels.count
        lock.lock()
        if samples[index] == nil && keptBytes + bytes <= budgetBytes {
            samples[index] = s
            keptBytes += bytes
        }
        lock.unlock()
        return s
    }
}
