/// One item of a dataset: the decoded image, its class if known, and its position in the dataset.
public struct Sample: Sendable {
    /// The decoded, untransformed image.
    public var image: PixelImage
    /// The class index (in `classNames` order), or nil when the dataset has no labels (a flat folder).
    public var target: Int?
    /// The sample's index in the dataset (what SeLa uses to look up its pseudo-label).
    public var index: Int

    /// A sample.
    public init(image: PixelImage, target: Int?, index: Int) {
        self.image = image; self.target = target; self.index = index
    }
}

/// A random-access collection of images, like a torchvision dataset wrapped by SeLa's `DataSet` (which also
/// returns the index). Implementations are immutable and safe to share between loader threads.
public protocol Dataset: Sendable {
    /// Number of samples.
    var count: Int { get }
    /// Class names, index-aligned with targets, when the dataset has classes.
    var classNames: [String]? { get }
    /// All targets in index order, when known without decoding (used for evaluation and statistics).
    var targets: [Int]? { get }
    /// A short description of sample `index` for messages (for example its file path).
    func describeSample(_ index: Int) -> String
    /// Decodes sample `index` (`0 ..< count`) with `decoder` (one per thread). Throws
    /// `DataPipelineError.corruptImage` for a file that cannot be decoded.
    func sample(at index: Int, decoder: ImageDecoder) throws -> Sample
    /// The channel count and common size of the images (`ImageInfo`; default: those of the first sample).
    func imageInfo() throws -> ImageInfo
}

extension Dataset {
    /// Decodes sample `index` with a fresh decoder (convenient, slower for many small images).
    public func sample(at index: Int) throws -> Sample {
        try sample(at: index, decoder: ImageDecoder())
    }

    /// Default description: `sample <index>`.
    public func describeSample(_ index: Int) -> String { "sample \(index)" }
}
