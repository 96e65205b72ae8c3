/// Images and labels in the IDX format of MNIST (LeCun et al. 1998) and Fashion-MNIST, plain or gzipped.
///
/// An IDX file starts with two zero bytes, a type byte (0x08 = unsigned byte) and the number of dimensions,
/// then each dimension as a big-endian UInt32, then the data. Images are `n x rows x cols` (grey, yielded as
/// 1-channel `PixelImage`s, PIL mode "L" as in torchvision's MNIST); labels are `n`.
public struct IDXDataset: Dataset {
    /// Grey pixels, `count * rows * cols` bytes.
    let pixels: [UInt8]
    /// Image height.
    public let rows: Int
    /// Image width.
    public let columns: Int
    /// Labels, when a labels file was given.
    public let targets: [Int]?
    /// Class names given by the caller (IDX files carry none).
    public let classNames: [String]?
    /// Number of images.
    public let count: Int

    /// Reads an images file and, optionally, its labels file (each plain or `.gz`).
    public init(imagesFile: String, labelsFile: String?, classNames: [String]? = nil) throws {
        let (idims, ipix) = try IDXDataset.read(imagesFile)
        guard idims.count == 3 else {
            throw DataPipelineError.malformedFile(path: imagesFile, reason: "expected 3 dimensions, got \(idims)")
        }
        self.count = idims[0]; self.rows = idims[1]; self.columns = idims[2]
        self.pixels = ipix
        if let labelsFile {
            let (ldims, lbytes) = try IDXDataset.read(labelsFile)
            guard ldims.count == 1, ldims[0] == idims[0] else {
                throw DataPipelineError.malformedFile(
                    path: labelsFile, reason: "labels shape \(ldims) does not match \(idims[0]) images")
            }
            self.targets = lbytes.map(Int.init)
        } else {
            self.targets = nil
        }
        self.classNames = classNames
    }

    /// MNIST-style folder: `train-images-idx3-ubyte` / `train-labels-idx1-ubyte` (or `t10k-…` for the test
    /// split), each optionally with `.gz`.
    public init(mnistDirectory directory: String, train: Bool, classNames: [String]? = nil) throws {
        let prefix = train ? "train" : "t10k"
        func find(_ base: String) throws -> String {
            for name in [base, base + ".gz"] where FileBytes.isFile(directory + "/" + name) {
                return directory + "/" + name
            }
            throw DataPipelineError.cannotOpen(path: directory + "/" + base + "[.gz]", reason: "no such file")
        }
        try self.init(imagesFile: try find("\(prefix)-images-idx3-ubyte"),
                      labelsFile: try find("\(prefix)-labels-idx1-ubyte"), classNames: classNames)
    }

    /// Parses an IDX file of unsigned bytes: its dimensions and data.
    public static func read(_ path: String) throws -> (dims: [Int], data: [UInt8]) {
        var bytes = try FileBytes.read(path)
        if Gzip.isGzip(bytes) { bytes = try Gzip.decompress(bytes, name: path) }
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw DataPipelineError.malformedFile(path: path, reason: "not an IDX file (bad magic number)")
        }
        guard bytes[2] == 0x08 else {
            throw DataPipelineError.malformedFile(path: path, reason: "element type 0x\(String(bytes[2], radix: 16)) "
                                                  + "is not unsigned byte (0x08)")
        }
        let nd = Int(bytes[3])
        guard bytes.count >= 4 + 4 * nd else {
            throw DataPipelineError.malformedFile(path: path, reason: "header truncated")
        }
        var dims: [Int] = []
        for d in 0..<nd {
            let o = 4 + 4 * d
            dims.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        let n = dims.reduce(1, *)
        let start = 4 + 4 * nd
        guard bytes.count - start == n else {
            throw DataPipelineError.malformedFile(
                path: path, reason: "dimensions \(dims) need \(n) data bytes, file has \(bytes.count - start)")
        }
        return (dims, Array(bytes[start...]))
    }

    public func describeSample(_ index: Int) -> String { "IDX image \(index)" }

    public func sample(at index: Int, decoder: ImageDecoder) throws -> Sample {
        precondition(index >= 0 && index < count, "IDXDataset: index \(index) outside 0..<\(count)")
        let n = rows * columns
        let px = Array(pixels[(index * n)..<((index + 1) * n)])
        return Sample(image: PixelImage(width: columns, height: rows, channels: 1, pixels: px),
                      target: targets?[index], index: index)
    }
}
