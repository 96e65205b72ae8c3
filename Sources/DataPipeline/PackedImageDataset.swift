/// Encoded images (JPEG/PNG bytes as stored in their original files) with labels, in one "pack" file held in
/// memory. This is the format of the embedded CIFAR-10 subset (`EmbeddedCIFAR10`), written by
/// `scripts/data/make_embedded_cifar10.py`.
///
/// Layout (all integers little-endian):
///
///     "SLPACK01"                              8 bytes magic
///     count: UInt32, classCount: UInt32
///     classCount x (length: UInt16, UTF-8 name)
///     count x (offset: UInt64, length: UInt32, label: Int32)   offset into the data section; label -1 = none
///     data section: the encoded files back to back
public struct PackedImageDataset: Dataset {
    /// Where the pack was read from (for messages).
    public let path: String
    let bytes: [UInt8]
    let offsets: [Int]
    let lengths: [Int]
    let dataStart: Int
    /// Labels (nil when any record has label −1).
    public let targets: [Int]?
    /// Class names stored in the pack.
    public let classNames: [String]?
    /// Number of records.
    public var count: Int { offsets.count }

    /// Reads and checks the pack file at `path`.
    public init(path: String) throws {
        try self.init(bytes: try FileBytes.read(path), name: path)
    }

    /// Parses a pack held in memory; `name` is used in messages.
    public init(bytes: [UInt8], name: String) throws {
        func bad(_ reason: String) -> DataPipelineError { .malformedFile(path: name, reason: reason) }
        var at = 0
        func need(_ n: Int) throws { if at + n > bytes.count { throw bad("truncated at byte \(at)") } }
        func u(_ n: Int) throws -> UInt64 {
            try need(n)
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
            at += n
            return v
        }
        try need(8)
        guard Array(bytes[0..<8]) == Array("SLPACK01".utf8) else { throw bad("not a SelfLabel pack (bad magic)") }
        at = 8
        let count = Int(try u(4)), classCount = Int(try u(4))
        var names: [String] = []
        for _ in 0..<classCount {
            let n = Int(try u(2))
            try need(n)
            names.append(String(decoding: bytes[at..<(at + n)], as: UTF8.self))
            at += n
        }
        var offsets: [Int] = [], lengths: [Int] = [], labels: [Int] = []
        offsets.reserveCapacity(count); lengths.reserveCapacity(count); labels.reserveCapacity(count)
        for _ in 0..<count {
            offsets.append(Int(try u(8)))
            lengths.append(Int(try u(4)))
            labels.append(Int(Int32(bitPattern: UInt32(try u(4)))))
        }
        let dataStart = at
        for i in 0..<count where dataStart + offsets[i] + lengths[i] > bytes.count {
            throw bad("record \(i) (offset \(offsets[i]), \(lengths[i]) bytes) runs past the end of the file")
        }
        let labelled = labels.allSatisfy { $0 >= 0 }
        if labelled, let l = labels.first(where: { $0 >= max(classCount, 1) }), classCount > 0 {
            throw bad("label \(l) out of range 0..<\(classCount)")
        }
        self.path = name
        self.bytes = bytes
        self.offsets = offsets
        self.lengths = lengths
        self.dataStart = dataStart
        self.targets = labelled ? labels : nil
        self.classNames = classCount > 0 ? names : nil
    }

    public func describeSample(_ index: Int) -> String { "\(path)#\(index)" }

    /// The encoded file of record `index` exactly as stored (JPEG or PNG bytes), e.g. to write it out as a file.
    public func encodedBytes(at index: Int) -> [UInt8] {
        precondition(index >= 0 && index < count, "PackedImageDataset: index \(index) outside 0..<\(count)")
        let start = dataStart + offsets[index]
        return Array(bytes[start..<(start + lengths[index])])
    }

    public func sample(at index: Int, decoder: ImageDecoder) throws -> Sample {
        precondition(index >= 0 && index < count, "PackedImageDataset: index \(index) outside 0..<\(count)")
        let start = dataStart + offsets[index]
        let image = try bytes.withUnsafeBytes { raw in
            try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[start..<(start + lengths[index])]),
                               name: describeSample(index))
        }
        return Sample(image: image, target: targets?[index], index: index)
    }
}
