import DataPipeline
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A cheap identity of a training set, stored in every checkpoint so `--resume` can refuse different data
/// given the same way (issue 12 §2.8: a different `--data` of the same size used to be accepted).
///
/// What it covers, and why:
/// - `images`, and in `listHash` every target and class name;
/// - the source files (image-folder files by their path relative to the split folder, CIFAR batch files and
///   pack files by name), each with its size in bytes, also in `listHash`: one `stat` per file;
/// - in `contentHash`, up to `sampledFiles` files spread evenly over the list, each read at its first and last
///   `sampleBytes` bytes; for a data set without files (MNIST IDX, subsets) the decoded pixels of up to
///   `sampledFiles` evenly spread samples.
///
/// Modification times are deliberately left out: a copied data folder (`cp -r`, `rsync` without `-t`) gets new
/// ones and must still resume, while changed contents of the sampled files change `contentHash`. A change to an
/// unsampled file that keeps its size goes unnoticed: the fingerprint guards against the wrong folder, not
/// against tampering. Folder locations do not enter it, so data may move between runs.
public struct DatasetFingerprint: Codable, Sendable, Equatable {
    /// Number of samples.
    public var images: Int
    /// Source files listed (0 for a data set held without files).
    public var files: Int
    /// Their total size in bytes.
    public var bytes: Int
    /// FNV-1a 64 (hex) of the file names and sizes, the targets and the class names, in index order.
    public var listHash: String
    /// FNV-1a 64 (hex) of the sampled contents.
    public var contentHash: String

    /// Files whose contents are sampled.
    public static let sampledFiles = 64
    /// Bytes read at each end of a sampled file.
    public static let sampleBytes = 65_536

    public init(images: Int, files: Int, bytes: Int, listHash: String, contentHash: String) {
        self.images = images; self.files = files; self.bytes = bytes
        self.listHash = listHash; self.contentHash = contentHash
    }

    /// The fingerprint of `dataset`; throws `FileIOError`-style `DataPipelineError.cannotOpen` for a source file
    /// that cannot be read (it was readable when the data set was opened).
    public init(of dataset: any Dataset) throws {
        let sources = Self.sourceFiles(of: dataset)
        var list = FNV1a64(), content = FNV1a64()
        list.add("images \(dataset.count)\n")
        for name in dataset.classNames ?? [] { list.add("class \(name)\n") }
        if let targets = dataset.targets { for t in targets { list.add(integer: t) } }
        var total = 0
        for (name, path) in sources {
            var st = stat()
            guard stat(path, &st) == 0 else {
                throw DataPipelineError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
            }
            total += Int(st.st_size)
            list.add("\n\(name) \(st.st_size)")
        }
        let picks = Self.evenlySpaced(count: sources.isEmpty ? dataset.count : sources.count)
        if sources.isEmpty {
            for i in picks {  // a corrupt sample (skipped by the loader) counts as such
                if let s = try? dataset.sample(at: i) { content.add(s.image.pixels) } else { content.add("corrupt \(i)") }
            }
        } else {
            for i in picks { try Self.addEnds(of: sources[i].path, to: &content) }
        }
        self.init(images: dataset.count, files: sources.count, bytes: total, listHash: list.hex,
                  contentHash: content.hex)
    }

    /// What differs from `other`, in words ("1000 vs 5000 images", "file names or sizes", "contents"), or nil.
    public func difference(from other: DatasetFingerprint) -> String? {
        if images != other.images { return "\(images) vs \(other.images) images" }
        if files != other.files || bytes != other.bytes {
            return "\(files) files of \(bytes) bytes vs \(other.files) files of \(other.bytes) bytes"
        }
        if listHash != other.listHash { return "the same number of images and bytes, but other file names, sizes or classes" }
        if contentHash != other.contentHash { return "the same files and sizes, but other contents" }
        return nil
    }

    /// Indices `⌊i · count / sampledFiles⌋` (every index when there are fewer).
    static func evenlySpaced(count: Int) -> [Int] {
        count <= sampledFiles ? Array(0..<count) : (0..<sampledFiles).map { $0 * count / sampledFiles }
    }

    /// The files a data set reads, as (name that enters the fingerprint, path).
    static func sourceFiles(of dataset: any Dataset) -> [(name: String, path: String)] {
        switch dataset {
        case let d as ImageFolderDataset:
            let prefix = d.root.hasSuffix("/") ? d.root : d.root + "/"
            return d.paths.map { ($0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0, $0) }
        case let d as CIFARDataset:
            return d.files.map { (($0 as NSString).lastPathComponent, $0) }
        case let d as PackedImageDataset:
            return [((d.path as NSString).lastPathComponent, d.path)]
        default:
            return []
        }
    }

    /// Adds the first and last `sampleBytes` bytes of `path` (the whole file when shorter) and its length.
    static func addEnds(of path: String, to hash: inout FNV1a64) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataPipelineError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let size = Int(lseek(fd, 0, SEEK_END))
        var buffer = [UInt8](repeating: 0, count: sampleBytes)
        for offset in Set([0, max(size - sampleBytes, 0)]).sorted() {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, min(sampleBytes, size - offset), off_t(offset)) }
            guard n >= 0 else { throw DataPipelineError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
            hash.add(buffer[0..<n])
        }
        hash.add(" \(size)")
    }
}

/// The 64-bit FNV-1a hash (Fowler–Noll–Vo): `h = (h ⊕ byte) · 1099511628211` from 14695981039346656037.
struct FNV1a64 {
    private(set) var value: UInt64 = 14_695_981_039_346_656_037

    mutating func add<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for b in bytes { value = (value ^ UInt64(b)) &* 1_099_511_628_211 }
    }

    mutating func add(_ text: String) { add(text.utf8) }

    /// Adds the 8 little-endian bytes of `v`.
    mutating func add(integer v: Int) {
        var x = UInt64(bitPattern: Int64(v))
        for _ in 0..<8 { value = (value ^ (x & 0xFF)) &* 1_099_511_628_211; x >>= 8 }
    }

    /// The value as 16 hex digits.
    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
