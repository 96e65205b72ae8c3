import DataPipeline
import Foundation
import TestSupport
import Testing

/// The image-folder reader on real CIFAR-10 JPEG files: a subset of ../shared/data/cifar10-jpg.tar.gz
/// (relative to the package root) extracted into a temporary folder. Skipped when ../shared is absent.
@Suite struct RealCIFARFolderTests {
    static let archive: String = {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.appendingPathComponent("../shared/data/cifar10-jpg.tar.gz").standardized.path
    }()

    static var available: Bool { FileManager.default.fileExists(atPath: archive) }

    @Test(.enabled(if: available, "../shared/data/cifar10-jpg.tar.gz not found next to the package: skipping the real CIFAR-10 folder test"))
    func readsTheRealTestFolderSubset() throws {
        let dir = try temporaryFolder("dp")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "xzf", Self.archive, "-C", dir, "--wildcards", "cifar10-jpg/test/*/000[0-4].jpg"]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        let ds = try ImageFolderDataset.split(root: dir + "/cifar10-jpg", .evaluation)
        #expect(ds.count == 50)
        #expect(ds.classNames == EmbeddedCIFAR10.classNames)
        #expect(ds.targets == (0..<10).flatMap { [Int](repeating: $0, count: 5) })
        // The embedded test split holds the first 100 files of each class: its images must be identical.
        let embedded = try EmbeddedCIFAR10.test
        let decoder = ImageDecoder()
        for i in 0..<50 {
            let s = try ds.sample(at: i, decoder: decoder)
            #expect(s.image.width == 32 && s.image.height == 32)
            let e = try embedded.sample(at: (i / 5) * 100 + i % 5, decoder: decoder)
            #expect(e.image == s.image && e.target == s.target, "image \(ds.paths[i])")
        }
    }
}
