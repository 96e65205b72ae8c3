import DataPipeline
import Foundation
import TestSupport
import Testing

@Suite struct DatasetTests {
    @Test func cifar10TrainAndTest() throws {
        let train = try CIFARDataset(directory: Fixtures.path("cifar10"), train: true)
        #expect(train.count == 8)
        #expect(train.targets == Fixtures.ints("cifar10", "train_labels"))
        #expect(train.classNames?.first == "airplane" && train.classNames?.count == 10)
        let expected = try Fixtures.bytes("cifar10/train_expected.rgb")
        for i in 0..<train.count {
            let s = try train.sample(at: i)
            #expect(s.index == i && s.target == train.targets![i])
            #expect(s.image.width == 32 && s.image.height == 32 && s.image.channels == 3)
            #expect(s.image.pixels == Array(expected[(i * 3072)..<((i + 1) * 3072)]), "record \(i)")
        }
        let test = try CIFARDataset(directory: Fixtures.path("cifar10"), train: false)
        #expect(test.targets == Fixtures.ints("cifar10", "test_labels"))
    }

    @Test func cifar100FineAndCoarseLabels() throws {
        let fine = try CIFARDataset(directory: Fixtures.path("cifar100"), variant: .cifar100(coarse: false), train: true)
        let coarse = try CIFARDataset(directory: Fixtures.path("cifar100"), variant: .cifar100(coarse: true), train: true)
        #expect(fine.targets == Fixtures.ints("cifar100", "fine"))
        #expect(coarse.targets == Fixtures.ints("cifar100", "coarse"))
        #expect(fine.classNames?[5] == "fine5" && coarse.classNames == nil)
        let expected = try Fixtures.bytes("cifar100/train_expected.rgb")
        #expect(try fine.sample(at: 2).image.pixels == Array(expected[6144..<9216]))
    }

    @Test func malformedCIFARIsATypedError() {
        #expect(throws: DataPipelineError.self) {
            try CIFARDataset(directory: Fixtures.path("cifar10_bad"), train: false)
        }
        #expect(throws: DataPipelineError.self) { try CIFARDataset(directory: "/nonexistent", train: true) }
    }

    @Test func mnistPlainAndGzip() throws {
        let train = try IDXDataset(mnistDirectory: Fixtures.path("mnist"), train: true)
        let test = try IDXDataset(mnistDirectory: Fixtures.path("mnist"), train: false)
        #expect(train.count == 3 && test.count == 2 && train.rows == 5 && train.columns == 4)
        #expect(train.targets == Fixtures.ints("mnist", "train_labels"))
        #expect(test.targets == Fixtures.ints("mnist", "test_labels"))
        let px = Fixtures.ints("mnist", "test_pixels").map(UInt8.init)
        let s = try test.sample(at: 1)
        #expect(s.image.channels == 1 && s.image.width == 4 && s.image.height == 5)
        #expect(s.image.pixels == Array(px[20..<40]))
        let trainPx = Fixtures.ints("mnist", "train_pixels").map(UInt8.init)
        #expect(try train.sample(at: 0).image.pixels == Array(trainPx[0..<20]))
    }

    @Test func imageFolderWithClassesAndFlat() throws {
        let dir = try temporaryFolder("dp")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        for cls in ["dog", "cat", "Zebra"] { try fm.createDirectory(atPath: "\(dir)/train/\(cls)", withIntermediateDirectories: true) }
        try fm.createDirectory(atPath: "\(dir)/test/cat", withIntermediateDirectories: true)
        let jpg = Fixtures.path("decode/photo.jpg"), png = Fixtures.path("decode/photo.png")
        try fm.copyItem(atPath: jpg, toPath: "\(dir)/train/dog/b.JPG")
        try fm.copyItem(atPath: png, toPath: "\(dir)/train/dog/a.png")
        try fm.copyItem(atPath: jpg, toPath: "\(dir)/train/cat/x.jpeg")
        try fm.copyItem(atPath: jpg, toPath: "\(dir)/train/Zebra/z.jpg")
        try fm.copyItem(atPath: jpg, toPath: "\(dir)/test/cat/t.jpg")
        try "not an image".write(toFile: "\(dir)/train/dog/notes.txt", atomically: true, encoding: .utf8)
        let train = try ImageFolderDataset.split(root: dir, .train)
        // Code-point order: "Zebra" < "cat" < "dog", as Python's sorted().
        #expect(train.classNames == ["Zebra", "cat", "dog"])
        #expect(train.paths.map { ($0 as NSString).lastPathComponent } == ["z.jpg", "x.jpeg", "a.png", "b.JPG"])
        #expect(train.targets == [0, 1, 2, 2])
        let s = try train.sample(at: 2)
        #expect(s.target == 2 && s.index == 2 && s.image.width == 61 && s.image.height == 47)
        let eval = try ImageFolderDataset.split(root: dir, .evaluation)
        #expect(eval.count == 1 && eval.classNames == ["cat"])
        let flat = try ImageFolderDataset(directory: "\(dir)/train/dog")
        #expect(flat.count == 2 && flat.targets == nil && flat.classNames == nil)
        #expect(try flat.sample(at: 0).target == nil)
        #expect(throws: DataPipelineError.missingSplit(root: dir + "/test", tried: ["train"])) {
            try ImageFolderDataset.split(root: dir + "/test", .train)
        }
        #expect(throws: DataPipelineError.noImages(path: "\(dir)/test/cat/empty")) {
            try fm.createDirectory(atPath: "\(dir)/test/cat/empty", withIntermediateDirectories: true)
            return try ImageFolderDataset(directory: "\(dir)/test/cat/empty")
        }
    }

    @Test func packFileRoundTripAndErrors() throws {
        let jpg = try Fixtures.bytes("decode/photo.jpg"), png = try Fixtures.bytes("decode/rgba.png")
        var pack = Array("SLPACK01".utf8)
        func le(_ v: UInt64, _ n: Int) { for i in 0..<n { pack.append(UInt8((v >> (8 * UInt64(i))) & 0xFF)) } }
        le(2, 4); le(2, 4)
        for name in ["a", "bb"] { le(UInt64(name.utf8.count), 2); pack += Array(name.utf8) }
        le(0, 8); le(UInt64(jpg.count), 4); le(1, 4)
        le(UInt64(jpg.count), 8); le(UInt64(png.count), 4); le(0, 4)
        pack += jpg + png
        let ds = try PackedImageDataset(bytes: pack, name: "test.slpack")
        #expect(ds.count == 2 && ds.targets == [1, 0] && ds.classNames == ["a", "bb"])
        #expect(try ds.sample(at: 0).image == ImageDecoder().decodeFile(Fixtures.path("decode/photo.jpg")))
        #expect(try ds.sample(at: 1).image == ImageDecoder().decodeFile(Fixtures.path("decode/rgba.png")))
        #expect(throws: DataPipelineError.self) { try PackedImageDataset(bytes: Array(pack.prefix(40)), name: "t") }
        #expect(throws: DataPipelineError.self) { try PackedImageDataset(bytes: Array(pack.dropLast()), name: "t") }
    }

    @Test func embeddedCIFAR10IsBalancedAndDecodes() throws {
        let train = try EmbeddedCIFAR10.train, test = try EmbeddedCIFAR10.test
        #expect(train.count == 5000 && test.count == 1000)
        #expect(train.classNames == EmbeddedCIFAR10.classNames && test.classNames == EmbeddedCIFAR10.classNames)
        for c in 0..<10 {
            #expect(train.targets!.filter { $0 == c }.count == 500)
            #expect(test.targets!.filter { $0 == c }.count == 100)
        }
        let decoder = ImageDecoder()
        var sum = [Double](repeating: 0, count: 3)
        for i in stride(from: 0, to: 5000, by: 50) {
            let s = try train.sample(at: i, decoder: decoder)
            #expect(s.image.width == 32 && s.image.height == 32 && s.image.channels == 3)
            for p in 0..<1024 { for c in 0..<3 { sum[c] += Double(s.image.pixels[3 * p + c]) } }
        }
        // CIFAR-10 channel means are about (125.3, 122.9, 113.9); a 100-image sample lands within a few levels.
        let means = sum.map { $0 / (100 * 1024) }
        #expect(abs(means[0] - 125.3) < 8 && abs(means[1] - 122.9) < 8 && abs(means[2] - 113.9) < 8, "\(means)")
    }
}

@Suite struct SubsetDatasetTests {
    @Test func subsetRenumbersAndKeepsTargets() throws {
        let base = try CIFARDataset(directory: Fixtures.path("cifar10"), train: true)
        let sub = SubsetDataset(base: base, indices: [5, 2, 7])
        #expect(sub.count == 3 && sub.targets == [base.targets![5], base.targets![2], base.targets![7]])
        let s = try sub.sample(at: 1)
        let expected = try base.sample(at: 2).image
        #expect(s.index == 1 && s.image == expected)
    }
}
