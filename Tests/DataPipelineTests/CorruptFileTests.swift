import DataPipeline
import Foundation
import TestSupport
import Testing

/// Hostile image files: one corrupt file must never affect another, files that end before their image data
/// and decompression bombs are skipped and counted, symbolic-link loops list nothing twice.
@Suite struct CorruptFileTests {
    /// The first `count` JPEG files of the embedded CIFAR-10 training subset (real 32×32 photos, ~1 KB each).
    static func cifarJPEGs(_ count: Int) throws -> [[UInt8]] {
        let pack = try EmbeddedCIFAR10.train
        return (0..<count).map { pack.encodedBytes(at: $0 * (pack.count / count)) }
    }

    /// A JPEG whose SOF header claims `width` × `height` (the scan data stays that of a 32×32 image).
    static func claimingSize(_ jpeg: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        var b = jpeg
        let sof = try #require((2..<(b.count - 9)).first { b[$0] == 0xFF && (0xC0...0xC2).contains(b[$0 + 1]) })
        b[sof + 5] = UInt8(height >> 8); b[sof + 6] = UInt8(height & 0xFF)
        b[sof + 7] = UInt8(width >> 8); b[sof + 8] = UInt8(width & 0xFF)
        return b
    }

    static func write(_ bytes: [UInt8], _ path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test("a JPEG that fails while its header is read does not break the next files on the same decoder")
    func headerFailureDoesNotPoisonTheDecoder() throws {
        let good = try Self.cifarJPEGs(300)
        let decoder = ImageDecoder()
        _ = try decoder.decode(good[0], name: "good-0")
        let half = Array(good[1].prefix(good[1].count / 2))
        #expect(throws: DataPipelineError.self) { try decoder.decode(half, name: "half.jpg") }
        var failed: [Int] = []
        for (i, g) in good.enumerated() {
            do { _ = try decoder.decode(g, name: "good-\(i)") } catch { failed.append(i) }
        }
        #expect(failed.isEmpty, "\(failed.count) of 300 good files failed after one corrupt file: \(failed.prefix(10))")
    }

    @Test("300 good CIFAR JPEGs and one half file: the loader delivers all 300, names the bad file once, counts 1")
    func loaderSkipsExactlyTheCorruptFile() throws {
        let dir = try temporaryFolder("dp")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = try Self.cifarJPEGs(300)
        for (i, g) in good.enumerated() { try Self.write(g, dir + String(format: "/%04d.jpg", i)) }
        let badName = dir + "/0150-half.jpg"  // sorts in the middle: good files follow it on the same worker
        try Self.write(Array(good[7].prefix(good[7].count / 2)), badName)
        let ds = try ImageFolderDataset(directory: dir)
        #expect(ds.count == 301)
        for workers in [0, 1, 2] {
            let log = WarningLog()
            let loader = BatchLoader(dataset: ds, transform: .cifarNativeEvaluation(), batchSize: 64, shuffle: false,
                                     seed: 0, workers: workers, warn: log.add)
            for epoch in 0..<2 {
                let it = loader.epoch(epoch)
                var delivered = 0
                while let b = try it.next() { delivered += b.indices.count }
                #expect(delivered == 300, "workers \(workers), epoch \(epoch)")
                #expect(it.skipped.map { ds.describeSample($0.index) } == [badName], "workers \(workers)")
            }
            let named = log.all.filter { $0.contains(badName) }
            #expect(named.count == 1, "the bad file is named once over both epochs: \(log.all)")
            #expect(log.all.filter { $0.contains("1 corrupt file(s) skipped") }.count == 2, "\(log.all)")
            #expect(log.all.count == 3, "\(log.all)")
        }
    }

    @Test("every prefix of a JPEG either decodes to a non-empty image or throws (20 and 609 bytes included)")
    func truncatedBeforeImageData() throws {
        let jpegs = [try Fixtures.bytes("decode/large.jpg"), try Self.cifarJPEGs(1)[0]]
        let decoder = ImageDecoder(minimumShorterSide: 16)
        for jpeg in jpegs {
            for n in Array(1..<min(jpeg.count, 1200)) + [jpeg.count - 1] {
                do {
                    let img = try decoder.decode(Array(jpeg.prefix(n)), name: "prefix-\(n)")
                    #expect(img.width > 0 && img.height > 0, "\(n) bytes gave \(img.width)×\(img.height)")
                } catch let e as DataPipelineError {
                    guard case .corruptImage = e else { Issue.record("\(n) bytes: \(e)"); continue }
                }
            }
        }
        // Through the loader with a resizing pipeline (where a 0×0 image trapped): skipped and counted.
        let dir = try temporaryFolder("dp")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let large = jpegs[0]
        try Self.write(Array(large.prefix(20)), dir + "/a20.jpg")
        try Self.write(Array(large.prefix(609)), dir + "/b609.jpg")
        try Self.write(large, dir + "/c.jpg")
        let log = WarningLog()
        let loader = BatchLoader(dataset: try ImageFolderDataset(directory: dir), transform: .evaluation(imageSize: 40, cropSize: 32),
                                 batchSize: 3, shuffle: false, seed: 0, workers: 1, warn: log.add)
        let it = loader.epoch(0)
        var n = 0
        while let b = try it.next() { n += b.indices.count }
        #expect(n == 1 && it.skipped.map(\.index) == [0, 1], "\(log.all)")
    }

    @Test("an image whose header claims more pixels than the limit is refused before decoding; the limit is settable")
    func decompressionBomb() throws {
        let jpeg = try Self.cifarJPEGs(1)[0]
        let bomb = try Self.claimingSize(jpeg, width: 20000, height: 20000)
        let start = Date()
        #expect(throws: DataPipelineError.imageTooLarge(path: "bomb.jpg", width: 20000, height: 20000,
                                                        limit: ImageDecoder.defaultMaximumPixels)) {
            try ImageDecoder().decode(bomb, name: "bomb.jpg")
        }
        #expect(Date().timeIntervalSince(start) < 1, "refused from the header, without decoding")
        // The limit is per image and configurable: a 32×32 file passes at 1024 pixels, not at 1023.
        #expect(try ImageDecoder(maximumPixels: 1024).decode(jpeg, name: "ok").width == 32)
        #expect(throws: DataPipelineError.imageTooLarge(path: "small.jpg", width: 32, height: 32, limit: 1023)) {
            try ImageDecoder(maximumPixels: 1023).decode(jpeg, name: "small.jpg")
        }
        // PNG: the IHDR size is checked before libpng allocates.
        var png = try Fixtures.bytes("decode/photo.png")
        for i in 16..<24 { png[i] = i % 4 == 0 ? 0x00 : 0xFF }  // 0x00FFFFFF × 0x00FFFFFF
        #expect(throws: DataPipelineError.imageTooLarge(path: "bomb.png", width: 0xFFFFFF, height: 0xFFFFFF,
                                                        limit: ImageDecoder.defaultMaximumPixels)) {
            try ImageDecoder().decode(png, name: "bomb.png")
        }
        // In the loader: skipped with a warning naming the file; the process-wide limit applies to its workers.
        let dir = try temporaryFolder("dp")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write(bomb, dir + "/bomb.jpg")
        try Self.write(jpeg, dir + "/good.jpg")
        let log = WarningLog()
        let loader = BatchLoader(dataset: try ImageFolderDataset(directory: dir), transform: .cifarNativeEvaluation(),
                                 batchSize: 2, shuffle: false, seed: 0, workers: 1, fastDecoding: false, warn: log.add)
        let it = loader.epoch(0)
        var n = 0
        while let b = try it.next() { n += b.indices.count }
        #expect(n == 1 && it.skipped.map(\.index) == [0])
        #expect(log.all.first?.contains("bomb.jpg claims 20000×20000 pixels") == true, "\(log.all)")
    }

    @Test("symbolic-link loops and repeated links: every folder is scanned once, no image listed twice")
    func symlinkLoops() throws {
        let dir = try temporaryFolder("dp")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let jpeg = try Self.cifarJPEGs(1)[0]
        let fm = FileManager.default
        for c in ["cat", "dog"] {
            try fm.createDirectory(atPath: "\(dir)/\(c)/sub", withIntermediateDirectories: true)
            try Self.write(jpeg, "\(dir)/\(c)/a.jpg")
            try Self.write(jpeg, "\(dir)/\(c)/sub/b.jpg")
        }
        try fm.createSymbolicLink(atPath: dir + "/cat/sub/loop", withDestinationPath: "..")  // cat/sub/loop → cat
        try fm.createSymbolicLink(atPath: dir + "/dog/self", withDestinationPath: ".")         // dog/self → dog
        try fm.createDirectory(atPath: dir + "/elk", withIntermediateDirectories: true)
        try Self.write(jpeg, dir + "/elk/e.jpg")
        try fm.createSymbolicLink(atPath: dir + "/elk/other", withDestinationPath: "../cat/sub")  // seen under cat
        let ds = try ImageFolderDataset(directory: dir)
        let relative = ds.paths.map { String($0.dropFirst(dir.count + 1)) }
        #expect(relative == ["cat/a.jpg", "cat/sub/b.jpg", "dog/a.jpg", "dog/sub/b.jpg", "elk/e.jpg"], "\(relative)")
        #expect(ds.targets == [0, 0, 1, 1, 2])
    }
}
