import DataPipeline
import Foundation
import Testing
import TestSupport

/// `DecodedImageCache`: the wrapped dataset's samples, decoded once when the set fits its budget; corrupt files
/// throw on every pass as without it; a set over budget is never cached.
@Suite struct DecodedImageCacheTests {
    /// Counts decodes of the wrapped dataset.
    final class Counting: Dataset, @unchecked Sendable {
        let base: any Dataset
        private let lock = NSLock()
        private(set) var decodes = 0
        init(_ base: any Dataset) { self.base = base }
        var count: Int { base.count }
        var classNames: [String]? { base.classNames }
        var targets: [Int]? { base.targets }
        func imageInfo() throws -> ImageInfo { try base.imageInfo() }
        func sample(at index: Int, decoder: ImageDecoder) throws -> Sample {
            lock.lock(); decodes += 1; lock.unlock()
            return try base.sample(at: index, decoder: decoder)
        }
    }

    @Test func decodesOnceKeepsSamplesAndCorruptFilesStillThrow() throws {
        let root = try temporaryFolder("decoded-cache")
        try SmallInputTests.writeFolder(root, (0..<8).map { SmallInputTests.greyImage($0) })
        #expect(FileManager.default.createFile(atPath: root + "/b/zz-corrupt.png", contents: Data("not a png".utf8)))
        let folder = try ImageFolderDataset(directory: root)
        let counting = Counting(folder)
        let cache = DecodedImageCache(counting, budgetBytes: 1 << 20)
        #expect(cache.isCaching && cache.count == 9)
        let corrupt = (0..<9).first { folder.describeSample($0).hasSuffix("zz-corrupt.png") }!
        let decoder = ImageDecoder()
        for pass in 0..<3 {
            for i in 0..<9 where i != corrupt {
                let a = try cache.sample(at: i, decoder: decoder), b = try folder.sample(at: i, decoder: decoder)
                #expect(a.image == b.image && a.target == b.target && a.index == i, "pass \(pass) sample \(i)")
            }
            #expect(throws: DataPipelineError.self) { try cache.sample(at: corrupt, decoder: decoder) }
        }
        // 8 good files decoded once; the corrupt one tried on each of the 3 passes.
        #expect(counting.decodes == 8 + 3)
        // Through the loader: the same batches as the folder itself, with the corrupt file skipped each epoch.
        let transform = TransformPipeline([], mean: [0, 0, 0], std: [1, 1, 1])
        func batches(_ d: any Dataset, epoch: Int) throws -> [Batch] {
            let it = BatchLoader(dataset: d, transform: transform, batchSize: 4, shuffle: true, seed: 3, workers: 2,
                                 warn: { _ in }).epoch(epoch)
            var out: [Batch] = []
            while let b = try it.next() { out.append(b) }
            return out
        }
        for epoch in 0..<2 {
            let viaCache = try batches(cache, epoch: epoch), direct = try batches(folder, epoch: epoch)
            let kept = viaCache.map { $0.indices.count }.reduce(0, +)
            #expect(kept == 8, "the corrupt file is skipped")
            #expect(viaCache.map(\.indices) == direct.map(\.indices))
            #expect(viaCache.map(\.images.scalars) == direct.map(\.images.scalars))
        }
    }

    @Test func overBudgetIsNotCached() throws {
        let root = try temporaryFolder("decoded-cache-big")
        try SmallInputTests.writeFolder(root, (0..<4).map { SmallInputTests.greyImage($0) })
        let counting = Counting(try ImageFolderDataset(directory: root))
        // Decoded RGB 28×28 = 2,352 bytes each: 4 need 9,408; a budget of 9,000 keeps nothing.
        let cache = DecodedImageCache(counting, budgetBytes: 9_000)
        #expect(!cache.isCaching)
        for _ in 0..<2 { for i in 0..<4 { _ = try cache.sample(at: i, decoder: ImageDecoder()) } }
        #expect(counting.decodes == 8)
    }
}
