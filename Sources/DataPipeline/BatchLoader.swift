import Foundation
import Tensors

/// One mini-batch: images `[N, C, H, W]` float32 (transformed and normalised), the targets (-1 where the
/// dataset has no labels) and each image's dataset index. N is the batch size, smaller for the last batch of an
/// epoch, and smaller by one for each corrupt file skipped.
public struct Batch: Sendable {
    /// `[N, C, H, W]` float32, normalised.
    public var images: Tensor
    /// Class per image (`-1` when the dataset has no labels).
    public var targets: [Int]
    /// Dataset index per image (what SeLa uses to look up pseudo-labels).
    public var indices: [Int]
}

/// A file skipped because it could not be decoded.
public struct SkippedSample: Sendable, Equatable {
    /// The sample's dataset index.
    public var index: Int
    /// The decoding error, as one line.
    public var reason: String
}

/// Multi-threaded, prefetching mini-batch loader (PyTorch `DataLoader` with `drop_last=False`).
///
/// - Order: with `shuffle`, a permutation of `0 ..< count` drawn from `Xoshiro256(seed:, 0x5348_5546, epoch)`
///   per epoch (depends only on seed and epoch); without, dataset order (pseudo-label pass, feature extraction).
/// - Randomness: sample `i` of epoch `e` is transformed with `Xoshiro256(seed: seed, e, i)`, so the batches are
///   identical for any number of workers.
/// - Threads: `workers` threads each build whole batches (decode, transform, write into the batch tensor) into
///   a queue of at most `prefetch` finished or in-progress batches ahead of the consumer; memory is bounded by
///   it. `workers == 0` builds batches on the calling thread.
/// - Corrupt files: skipped, each named in one warning (`warn`) the first time any epoch of this loader meets
///   it, listed in `EpochIterator.skipped` and counted at the end of every epoch; with `strict`, `next()` throws
///   the decoding error instead. Decoding one file never affects another (see `ImageDecoder`).
public final class BatchLoader: Sendable {
    /// The samples.
    public let dataset: any Dataset
    /// Applied to every sample with its own generator.
    public let transform: TransformPipeline
    /// Images per batch (the last batch of an epoch may be smaller).
    public let batchSize: Int
    /// Shuffle per epoch (training) or keep dataset order (pseudo-label pass, features, evaluation).
    public let shuffle: Bool
    /// Seed of the shuffles and of every sample's augmentation.
    public let seed: UInt64
    /// Worker threads (0: batches are built on the consumer's thread).
    public let workers: Int
    /// Most batches claimed or finished ahead of the consumer; memory is about `(prefetch + 1)` batches.
    public let prefetch: Int
    /// Throw on a corrupt file instead of skipping it.
    public let strict: Bool
    /// Allow JPEG DCT-domain downscaling down to the pipeline's `decodeHint`.
    public let fastDecoding: Bool
    /// Where warnings go (default: standard error).
    public let warn: @Sendable (String) -> Void
    /// Data-parallel training: this rank's share of every batch (nil: the whole batch).
    public let shard: BatchShard?
    /// Only these positions of each epoch's order, batched from the first (nil: all): a rank's rows of the
    /// data-parallel pseudo-label pass.
    public let positions: Range<Int>?

    /// A loader; `batchSize >= 1`, `workers >= 0`, `prefetch >= 1` (default `2 * max(workers, 1)`).
    public init(dataset: any Dataset, transform: TransformPipeline, batchSize: Int, shuffle: Bool, seed: UInt64,
                workers: Int, prefetch: Int? = nil, strict: Bool = false, fastDecoding: Bool = true,
                shard: BatchShard? = nil, positions: Range<Int>? = nil,
                warn: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        precondition(batchSize >= 1, "BatchLoader: batchSize must be >= 1, got \(batchSize)")
        precondition(workers >= 0, "BatchLoader: workers must be >= 0, got \(workers)")
        let prefetch = prefetch ?? 2 * max(workers, 1)
        precondition(prefetch >= 1, "BatchLoader: prefetch must be >= 1, got \(prefetch)")
        self.dataset = dataset
        self.transform = transform
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.workers = workers
        self.prefetch = prefetch
        self.strict = strict
        self.fastDecoding = fastDecoding
        self.warn = warn
        self.shard = shard
        self.positions = positions
    }

    /// Batches per epoch (the last may be partial).
    public var batchCount: Int { ((positions?.count ?? dataset.count) + batchSize - 1) / batchSize }

    /// The sample order of `epoch`.
    public func order(epoch: Int) -> [Int] {
        if !shuffle { return Array(positions ?? 0..<dataset.count) }
        var rng = Xoshiro256(seed: seed, 0x5348_5546, UInt64(epoch))
        let all = rng.permutation(dataset.count)
        return positions.map { Array(all[$0]) } ?? all
    }

    /// The generator that transforms sample `index` in `epoch`.
    public func sampleGenerator(epoch: Int, index: Int) -> Xoshiro256 {
        Xoshiro256(seed: seed, UInt64(epoch), UInt64(index))
    }

    /// Starts producing the batches of `epoch`; iterate with `next()`. Threads stop when the iterator has
    /// delivered every batch, when `stop()` is called, or when it is released.
    public func epoch(_ epoch: Int) -> EpochIterator {
        EpochIterator(loader: self, epoch: epoch)
    }

    /// Like `epoch(_:)`, but starting at batch `first` of that epoch (the same batches as a full epoch from
    /// there on: resuming a run in the middle of an epoch).
    public func epoch(_ epoch: Int, startingAt first: Int) -> EpochIterator {
        EpochIterator(loader: self, epoch: epoch, startingAt: first)
    }

    /// Number of loader worker threads alive in the process (for diagnostics).
    public static var liveWorkerThreads: Int { LiveThreads.process.count }

    /// Number of this loader's worker threads alive, over all its epochs (for tests: unlike the process-wide
    /// count, loaders running concurrently elsewhere do not change it).
    public var liveWorkerThreads: Int { liveThreads.count }
    let liveThreads = LiveThreads()

    private let namedSkipsLock = NSLock()
    nonisolated(unsafe) private var namedSkips: Set<Int> = []

    /// True the first time a skipped sample is reported by any epoch of this loader: each file is named once,
    /// while every epoch's count of skipped files stays complete.
    func firstSkip(of index: Int) -> Bool {
        namedSkipsLock.lock(); defer { namedSkipsLock.unlock() }
        return namedSkips.insert(index).inserted
    }

    /// Builds batch `b` of `epoch` from `order`. Corrupt samples are skipped (or thrown when strict).
    func buildBatch(_ b: Int, epoch: Int, order: [Int], decoder: ImageDecoder,
                    tables: inout [[Float]]?) throws -> (Batch, [SkippedSample]) {
        var lo = b * batchSize, hi = min(lo + batchSize, order.count)
        if let shard { (lo, hi) = (shard.positions(lo..<hi).lowerBound, shard.positions(lo..<hi).upperBound) }
        var skipped: [SkippedSample] = []
        var images: Tensor?
        var shape: [Int] = []
        var targets: [Int] = [], indices: [Int] = []
        for pos in lo..<hi {
            let index = order[pos]
            let sample: Sample
            do {
                sample = try dataset.sample(at: index, decoder: decoder)
            } catch {
                if strict { throw error }
                skipped.append(SkippedSample(index: index, reason: "\(error)"))
                continue
            }
            var rng = sampleGenerator(epoch: epoch, index: index)
            let (img, flip) = transform.transformDeferringFlip(sample.image, using: &rng)
            let s = [img.channels, img.height, img.width]
            if images == nil {
                shape = s
                images = Tensor(uninitializedShape: [hi - lo] + s)
                if tables == nil || tables!.count != img.channels {
                    tables = transform.normalizationTables(channels: img.channels)
                }
            } else if s != shape {
                throw DataPipelineError.inconsistentSampleShape(index: index, expected: shape, got: s)
            }
            let k = targets.count, per = s[0] * s[1] * s[2]
            let t = tables!
            images!.withUnsafeMutableBufferPointer { buf in
                transform.write(img, flip: flip, into: buf.baseAddress! + k * per, tables: t)
            }
            targets.append(sample.target ?? -1)
            indices.append(index)
        }
        guard var out = images else {
            return (Batch(images: Tensor.zeros([0, 0, 0, 0]), targets: [], indices: []), skipped)
        }
        if targets.count < hi - lo {  // corrupt files were skipped: keep the filled rows only
            let kept = targets.count, per = shape[0] * shape[1] * shape[2]
            var smaller = Tensor(uninitializedShape: [kept] + shape)
            out.withUnsafeMutableBufferPointer { src in
                smaller.withUnsafeMutableBufferPointer { dst in
                    if kept > 0 { dst.baseAddress!.update(from: src.baseAddress!, count: kept * per) }
                }
            }
            out = smaller
        }
        return (Batch(images: out, targets: targets, indices: indices), skipped)
    }
}

/// A count of live loader threads: one per loader, and one for the process.
final class LiveThreads: @unchecked Sendable {
    static let process = LiveThreads()
    private let lock = NSLock()
    private var n = 0
    var count: Int { lock.lock(); defer { lock.unlock() }; return n }
    func add(_ d: Int) { lock.lock(); n += d; lock.unlock() }
}
