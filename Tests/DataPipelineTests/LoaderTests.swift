import DataPipeline
import Foundation
import Tensors
import TestSupport
import Testing

/// A synthetic dataset: image `i` is 8x6 RGB with pixel (x, y) = (i mod 256, i / 256, x + 8y); indices listed in
/// `corrupt` throw like an undecodable file.
struct SyntheticDataset: Dataset {
    var count: Int
    var corrupt: Set<Int> = []
    var oddSized: Set<Int> = []
    var classNames: [String]? { ["even", "odd"] }
    var targets: [Int]? { (0..<count).map { $0 % 2 } }

    func sample(at index: Int, decoder: ImageDecoder) throws -> Sample {
        if corrupt.contains(index) {
            throw DataPipelineError.corruptImage(path: "synthetic/\(index).jpg", reason: "broken on purpose")
        }
        let w = oddSized.contains(index) ? 9 : 8, h = 6
        var img = PixelImage(width: w, height: h, channels: 3)
        for y in 0..<h { for x in 0..<w {
            img[x, y, 0] = UInt8(index % 256); img[x, y, 1] = UInt8(index / 256); img[x, y, 2] = UInt8(x + 8 * y)
        } }
        return Sample(image: img, target: index % 2, index: index)
    }
}

/// Collects warnings from loader threads.
final class WarningLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

@Suite(.serialized) struct LoaderTests {
    static let identity = TransformPipeline([], mean: [0], std: [1])  // tensor value = byte / 255

    static func collect(_ loader: BatchLoader, epoch: Int) throws -> [Batch] {
        let it = loader.epoch(epoch)
        var out: [Batch] = []
        while let b = try it.next() { out.append(b) }
        return out
    }

    @Test func everyIndexOnceWithPartialLastBatchAndMatchingPixels() throws {
        let ds = SyntheticDataset(count: 103)
        let loader = BatchLoader(dataset: ds, transform: Self.identity, batchSize: 10, shuffle: true, seed: 1,
                                 workers: 2)
        let batches = try Self.collect(loader, epoch: 0)
        #expect(batches.count == 11 && loader.batchCount == 11)
        #expect(batches.map { $0.indices.count } == [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3])
        let all = batches.flatMap(\.indices)
        #expect(all.sorted() == Array(0..<103))
        #expect(all != Array(0..<103), "shuffled")
        for b in batches {
            #expect(b.images.shape == [b.indices.count, 3, 6, 8])
            #expect(b.targets == b.indices.map { $0 % 2 })
            let v = b.images.scalars
            for (k, i) in b.indices.enumerated() {
                #expect(v[k * 144] == Float(i % 256) / 255 && v[k * 144 + 48] == Float(i / 256) / 255)
                #expect(v[k * 144 + 96 + 8 * 5 + 7] == Float(7 + 8 * 5) / 255)
            }
        }
    }

    @Test func orderDependsOnlyOnSeedAndEpoch() throws {
        let ds = SyntheticDataset(count: 50)
        func order(_ seed: UInt64, _ epoch: Int, workers: Int) throws -> [Int] {
            let l = BatchLoader(dataset: ds, transform: Self.identity, batchSize: 7, shuffle: true, seed: seed,
                                workers: workers)
            return try Self.collect(l, epoch: epoch).flatMap(\.indices)
        }
        #expect(try order(3, 0, workers: 1) == order(3, 0, workers: 3))
        #expect(try order(3, 0, workers: 1) != order(3, 1, workers: 1))
        #expect(try order(3, 0, workers: 1) != order(4, 0, workers: 1))
        let inOrder = BatchLoader(dataset: ds, transform: Self.identity, batchSize: 7, shuffle: false, seed: 3,
                                  workers: 2)
        #expect(try Self.collect(inOrder, epoch: 5).flatMap(\.indices) == Array(0..<50))
    }

    @Test func sameBatchesForAnyWorkerCountWithRandomAugmentation() throws {
        let ds = try CIFARDataset(directory: Fixtures.path("cifar10"), train: true)
        func run(_ workers: Int) throws -> [Batch] {
            let l = BatchLoader(dataset: ds, transform: TransformPipeline.cifarNative(), batchSize: 3, shuffle: true,
                                seed: 11, workers: workers, prefetch: 2)
            return try Self.collect(l, epoch: 2)
        }
        let a = try run(0), b = try run(1), c = try run(3)
        #expect(a.count == 3 && b.count == 3 && c.count == 3)
        for k in 0..<3 {
            #expect(a[k].indices == b[k].indices && b[k].indices == c[k].indices)
            #expect(a[k].images.shape == [a[k].indices.count, 3, 32, 32])
            #expect(a[k].images.scalars == b[k].images.scalars && b[k].images.scalars == c[k].images.scalars)
        }
    }

    @Test func earlyStopLeavesNoThreadsRunning() throws {
        let ds = SyntheticDataset(count: 10_000)
        let loader = BatchLoader(dataset: ds, transform: Self.identity, batchSize: 16, shuffle: true, seed: 0,
                                 workers: 3, prefetch: 4)
        do {
            let it = loader.epoch(0)
            _ = try it.next()
            _ = try it.next()
            #expect(loader.liveWorkerThreads >= 1)
        }  // released here: deinit stops and joins
        #expect(loader.liveWorkerThreads == 0)
        let it = loader.epoch(1)
        _ = try it.next()
        it.stop()
        #expect(loader.liveWorkerThreads == 0)
        #expect(try it.next() == nil, "after stop() the epoch is over")
    }

    @Test func corruptFilesAreSkippedCountedAndWarnedOnce() throws {
        let ds = SyntheticDataset(count: 30, corrupt: [4, 17, 29])
        let log = WarningLog()
        let loader = BatchLoader(dataset: ds, transform: Self.identity, batchSize: 8, shuffle: false, seed: 0,
                                 workers: 2, warn: { log.add($0) })
        let it = loader.epoch(0)
        var seen: [Int] = []
        while let b = try it.next() {
            seen += b.indices
            #expect(b.images.shape[0] == b.indices.count)
        }
        #expect(seen == (0..<30).filter { ![4, 17, 29].contains($0) })
        #expect(it.skipped.map(\.index) == [4, 17, 29])
        #expect(log.all.filter { $0.contains("synthetic/17.jpg") }.count == 1)
        #expect(log.all.last!.contains("3 corrupt file(s) skipped"))
    }

    @Test func strictModeThrowsTheTypedError() throws {
        let ds = SyntheticDataset(count: 30, corrupt: [17])
        let loader = BatchLoader(dataset: ds, transform: Self.identity, batchSize: 8, shuffle: false, seed: 0,
                                 workers: 2, strict: true, warn: { _ in })
        let it = loader.epoch(0)
        #expect(throws: DataPipelineError.corruptImage(path: "synthetic/17.jpg", reason: "broken on purpose")) {
            while try it.next() != nil {}
        }
        #expect(loader.liveWorkerThreads == 0)
    }

    @Test func inconsistentSizesAreATypedError() throws {
        let ds = SyntheticDataset(count: 10, oddSized: [3])
        let loader = BatchLoader(dataset: ds, transform: Self.identity, batchSize: 5, shuffle: false, seed: 0,
                                 workers: 0)
        #expect(throws: DataPipelineError.inconsistentSampleShape(index: 3, expected: [3, 6, 8], got: [3, 6, 9])) {
            while try loader.epoch(0).next() != nil {}
        }
    }
}

/// In the serialized `LoaderTests` suite: `earlyStopLeavesNoThreadsRunning` counts the process's loader threads.
extension LoaderTests {
    @Test func corruptFilesInAFolderAreSkippedWithTheirPaths() throws {
        let dir = try temporaryFolder("dp")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(dir)/a", withIntermediateDirectories: true)
        for name in ["photo.jpg", "truncated.jpg", "notimage.jpg", "cmyk.jpg", "grey16.png"] {
            try fm.copyItem(atPath: Fixtures.path("decode/\(name)"), toPath: "\(dir)/a/\(name)")
        }
        let ds = try ImageFolderDataset(directory: dir)
        let log = WarningLog()
        let loader = BatchLoader(dataset: ds, transform: TransformPipeline.evaluation(imageSize: 24, cropSize: 20),
                                 batchSize: 8, shuffle: false, seed: 0, workers: 2, warn: { log.add($0) })
        let it = loader.epoch(0)
        let batch = try #require(try it.next())
        #expect(try it.next() == nil)
        // Sorted: cmyk.jpg, grey16.png, notimage.jpg, photo.jpg, truncated.jpg.
        #expect(batch.indices == [0, 1, 3] && batch.images.shape == [3, 3, 20, 20])
        #expect(it.skipped.map(\.index) == [2, 4])
        #expect(log.all.contains { $0.contains("\(dir)/a/notimage.jpg") })
        #expect(log.all.contains { $0.contains("\(dir)/a/truncated.jpg") })
        let strict = BatchLoader(dataset: ds, transform: TransformPipeline.evaluation(imageSize: 24, cropSize: 20),
                                 batchSize: 8, shuffle: false, seed: 0, workers: 1, strict: true, warn: { _ in })
        #expect(throws: DataPipelineError.self) { while try strict.epoch(0).next() != nil {} }
    }
}
