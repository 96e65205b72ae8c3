/// CIFAR-10 / CIFAR-100 in the "binary version" (Krizhevsky 2009), held in memory.
///
/// CIFAR-10: `data_batch_1.bin` … `data_batch_5.bin` (train) and `test_batch.bin`, records of 1 label byte +
/// 3072 pixel bytes (1024 red, 1024 green, 1024 blue, row-major 32x32). Class names from `batches.meta.txt`.
/// CIFAR-100: `train.bin` / `test.bin`, records of coarse label, fine label, 3072 pixel bytes; names from
/// `fine_label_names.txt` / `coarse_label_names.txt`. The folder may be the one holding the files or its
/// parent with `cifar-10-batches-bin/` or `cifar-100-binary/`.
public struct CIFARDataset: Dataset {
    /// Which CIFAR and which labels.
    public enum Variant: Sendable, Equatable {
        case cifar10
        case cifar100(coarse: Bool)
    }

    /// Which CIFAR and which labels were read.
    public let variant: Variant
    /// The files read, in order.
    public let files: [String]
    /// Interleaved RGB (HWC) pixels of all images, 3072 bytes each.
    let pixels: [UInt8]
    /// Label per record.
    public let targets: [Int]?
    /// Names from the metadata file, when present and complete.
    public let classNames: [String]?
    /// Number of records.
    public let count: Int

    /// Loads the training (`train == true`) or test split from `directory`.
    public init(directory: String, variant: Variant = .cifar10, train: Bool) throws {
        let subfolder = variant == .cifar10 ? "cifar-10-batches-bin" : "cifar-100-binary"
        let dir = FileBytes.isDirectory(directory + "/" + subfolder) ? directory + "/" + subfolder : directory
        let names: [String]
        switch (variant, train) {
        case (.cifar10, true): names = (1...5).map { "data_batch_\($0).bin" }
        case (.cifar10, false): names = ["test_batch.bin"]
        case (.cifar100, true): names = ["train.bin"]
        case (.cifar100, false): names = ["test.bin"]
        }
        let labelBytes = variant == .cifar10 ? 1 : 2
        let labelOffset: Int
        if case .cifar100(let coarse) = variant { labelOffset = coarse ? 0 : 1 } else { labelOffset = 0 }
        let record = labelBytes + 3072
        var pixels: [UInt8] = []
        var targets: [Int] = []
        var files: [String] = []
        for name in names {
            let path = dir + "/" + name
            let bytes = try FileBytes.read(path)
            guard !bytes.isEmpty, bytes.count % record == 0 else {
                throw DataPipelineError.malformedFile(
                    path: path, reason: "\(bytes.count) bytes is not a whole number of \(record)-byte records")
            }
            let n = bytes.count / record
            pixels.reserveCapacity(pixels.count + n * 3072)
            for r in 0..<n {
                let base = r * record
                targets.append(Int(bytes[base + labelOffset]))
                let p = base + labelBytes
                for i in 0..<1024 {
                    pixels.append(bytes[p + i]); pixels.append(bytes[p + 1024 + i]); pixels.append(bytes[p + 2048 + i])
                }
            }
            files.append(path)
        }
        self.variant = variant
        self.files = files
        self.pixels = pixels
        self.targets = targets
        self.count = targets.count
        let maxLabel = variant == .cifar10 ? 10 : (labelOffset == 0 ? 20 : 100)
        if let bad = targets.first(where: { $0 >= maxLabel }) {
            throw DataPipelineError.malformedFile(path: files.joined(separator: ", "),
                                                  reason: "label \(bad) out of range 0..<\(maxLabel)")
        }
        let namesFile: String
        switch variant {
        case .cifar10: namesFile = "batches.meta.txt"
        case .cifar100(let coarse): namesFile = coarse ? "coarse_label_names.txt" : "fine_label_names.txt"
        }
        if let text = try? FileBytes.read(dir + "/" + namesFile) {
            let lines = String(decoding: text, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map(CIFARDataset.trimmed).filter { !$0.isEmpty }
            self.classNames = lines.count == maxLabel ? lines : nil
        } else {
            self.classNames = nil
        }
    }

    public func describeSample(_ index: Int) -> String { "CIFAR record \(index)" }

    public func sample(at index: Int, decoder: ImageDecoder) throws -> Sample {
        precondition(index >= 0 && index < count, "CIFARDataset: index \(index) outside 0..<\(count)")
        let px = Array(pixels[(index * 3072)..<((index + 1) * 3072)])
        return Sample(image: PixelImage(width: 32, height: 32, channels: 3, pixels: px),
                      target: targets?[index], index: index)
    }

    /// `line` without leading and trailing blanks.
    static func trimmed(_ line: Substring) -> String {
        var s = line
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
