/// A view of some samples of another dataset, in the given order (like `torch.utils.data.Subset`), for example
/// the first N images of a folder for a quick run. Sample `i` of the subset is sample `indices[i]` of the base,
/// reported with index `i` (the subset's own numbering, which pseudo-labels use).
public struct SubsetDataset: Dataset {
    /// The underlying dataset.
    public let base: any Dataset
    /// Base indices, in subset order.
    public let indices: [Int]

    /// A subset; every index must lie in `0 ..< base.count`.
    public init(base: any Dataset, indices: [Int]) {
        precondition(indices.allSatisfy { $0 >= 0 && $0 < base.count },
                     "SubsetDataset: indices must lie in 0..<\(base.count)")
        self.base = base
        self.indices = indices
    }

    /// Number of samples in the subset.
    public var count: Int { indices.count }
    /// The base dataset's class names.
    public var classNames: [String]? { base.classNames }
    /// The base targets of the chosen samples.
    public var targets: [Int]? { base.targets.map { t in indices.map { t[$0] } } }

    public func describeSample(_ index: Int) -> String { base.describeSample(indices[index]) }

    public func sample(at index: Int, decoder: ImageDecoder) throws -> Sample {
        var s = try base.sample(at: indices[index], decoder: decoder)
        s.index = index
        return s
    }
}
