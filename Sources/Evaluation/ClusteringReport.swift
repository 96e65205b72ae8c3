/// Every clustering-vs-ground-truth score for one labelling (one head), as `selflabel eval cluster` reports it.
///
/// NMI and AMI use arithmetic normalisation (scikit-learn's default). When the number of distinct clusters
/// equals the number of distinct classes, `hungarianAccuracy` is the accuracy after the optimal one-to-one
/// matching; otherwise it is nil and `majorityAccuracy` (many-to-one, identical to purity) is the accuracy to
/// quote. `oneToOneAccuracy` is always computed (rectangular matching, unmatched clusters count as wrong).
public struct ClusteringReport: Sendable, Equatable {
    /// The table everything is computed from.
    public let table: ContingencyTable
    /// Normalised mutual information, arithmetic mean normalisation.
    public let nmi: Double
    /// Adjusted mutual information, arithmetic mean normalisation.
    public let ami: Double
    /// Adjusted Rand index.
    public let ari: Double
    /// One-to-one matched accuracy when #clusters == #classes, else nil.
    public let hungarianAccuracy: Double?
    /// One-to-one matched accuracy, rectangular matching when the counts differ.
    public let oneToOneAccuracy: Double
    /// Many-to-one (majority vote) accuracy = purity.
    public let majorityAccuracy: Double
    /// Purity, `Σ_i max_j n_ij / N` (the same number as `majorityAccuracy`).
    public var purity: Double { majorityAccuracy }
    /// Cluster sizes.
    public let sizes: ClusterSizeSummary

    /// Scores `predicted` against `truth`.
    /// - Parameters:
    ///   - clusterCount: the number of clusters K the labels were drawn from (labels 0..<K), so empty clusters
    ///     are counted in `sizes`; nil to count only the clusters that occur.
    /// - Throws: `EvaluationError.lengthMismatch`, or `.empty` for zero samples.
    public init(predicted: [Int], truth: [Int], clusterCount: Int? = nil) throws {
        if predicted.isEmpty && truth.isEmpty { throw EvaluationError.empty(what: "label array") }
        let t = try ContingencyTable(predicted: predicted, truth: truth)
        table = t
        nmi = ClusteringMetrics.normalizedMutualInformation(t)
        ami = ClusteringMetrics.adjustedMutualInformation(t)
        ari = ClusteringMetrics.adjustedRandIndex(t)
        oneToOneAccuracy = ClusteringMetrics.matchedAccuracy(t).accuracy
        hungarianAccuracy = t.clusters.count == t.classes.count ? oneToOneAccuracy : nil
        majorityAccuracy = ClusteringMetrics.majorityAccuracy(t)
        sizes = ClusterSizeSummary(table: t, clusterCount: clusterCount)
    }
}

/// The distribution of cluster sizes of one labelling.
public struct ClusterSizeSummary: Sendable, Equatable {
    /// Number of clusters considered (the given K, or the number that occur).
    public let clusterCount: Int
    /// Clusters with no sample (only knowable when K is given).
    public let emptyClusters: Int
    /// Smallest, largest and median size over all `clusterCount` clusters (empty ones count as 0).
    public let min: Int, max: Int, median: Double
    /// Mean and population standard deviation of the sizes.
    public let mean: Double, standardDeviation: Double
    /// Entropy of the size distribution divided by log(clusterCount): 1 for an exact equipartition.
    public let normalizedEntropy: Double
    /// Sizes in descending order.
    public let sortedSizes: [Int]

    /// Summarises the row sums of `table`, padding with empty clusters up to `clusterCount` if given.
    public init(table: ContingencyTable, clusterCount: Int? = nil) {
        var sizes = table.clusterSizes
        let k = Swift.max(clusterCount ?? sizes.count, sizes.count)
        sizes += [Int](repeating: 0, count: k - sizes.count)
        sizes.sort(by: >)
        self.clusterCount = k
        sortedSizes = sizes
        emptyClusters = sizes.filter { $0 == 0 }.count
        min = sizes.last ?? 0
        max = sizes.first ?? 0
        if sizes.isEmpty {
            median = 0
        } else if sizes.count % 2 == 1 {
            median = Double(sizes[sizes.count / 2])
        } else {
            median = Double(sizes[sizes.count / 2 - 1] + sizes[sizes.count / 2]) / 2
        }
        let m = sizes.isEmpty ? 0 : Double(sizes.reduce(0, +)) / Double(sizes.count)
        mean = m
        standardDeviation = sizes.isEmpty ? 0
            : (sizes.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(sizes.count)).squareRoot()
        normalizedEntropy = k > 1 ? ClusteringMetrics.entropy(sizes: sizes) / _log(Double(k)) : 1
    }
}
