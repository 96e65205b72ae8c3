/// The contingency table of a clustering against ground-truth classes.
///
/// `counts[i][j]` = number of samples in cluster `clusters[i]` whose true class is `classes[j]`
/// (rows: the distinct predicted labels present, sorted; columns: the distinct true labels present, sorted).
/// Matches `sklearn.metrics.cluster.contingency_matrix(labels_pred, labels_true)` (our rows are clusters, so
/// it is the transpose of sklearn's `contingency_matrix(labels_true, labels_pred)`). Labels are arbitrary
/// integers; only labels that occur get a row or column.
public struct ContingencyTable: Sendable, Equatable {
    /// Distinct predicted labels, ascending (row keys).
    public let clusters: [Int]
    /// Distinct true labels, ascending (column keys).
    public let classes: [Int]
    /// Row-major counts, `clusters.count × classes.count`.
    public let counts: [Int]
    /// Samples per cluster (row sums).
    public let clusterSizes: [Int]
    /// Samples per class (column sums).
    public let classSizes: [Int]
    /// Number of samples.
    public let sampleCount: Int

    /// Builds the table from two label arrays of equal length.
    /// - Throws: `EvaluationError.lengthMismatch` when the lengths differ.
    public init(predicted: [Int], truth: [Int]) throws {
        guard predicted.count == truth.count else {
            throw EvaluationError.lengthMismatch(predicted: predicted.count, truth: truth.count)
        }
        let (clusters, rowOf) = ContingencyTable.denseIndex(predicted)
        let (classes, colOf) = ContingencyTable.denseIndex(truth)
        var counts = [Int](repeating: 0, count: clusters.count * classes.count)
        for n in 0..<predicted.count { counts[rowOf[n] * classes.count + colOf[n]] += 1 }
        self.init(clusters: clusters, classes: classes, counts: counts)
    }

    /// A table from precomputed counts (row-major, `clusters.count × classes.count`).
    public init(clusters: [Int], classes: [Int], counts: [Int]) {
        precondition(counts.count == clusters.count * classes.count,
                     "ContingencyTable: \(counts.count) counts for \(clusters.count)×\(classes.count)")
        self.clusters = clusters
        self.classes = classes
        self.counts = counts
        var rows = [Int](repeating: 0, count: clusters.count), cols = [Int](repeating: 0, count: classes.count)
        for i in 0..<clusters.count {
            for j in 0..<classes.count {
                rows[i] += counts[i * classes.count + j]
                cols[j] += counts[i * classes.count + j]
            }
        }
        clusterSizes = rows
        classSizes = cols
        sampleCount = rows.reduce(0, +)
    }

    /// Count for row `i` (cluster) and column `j` (class).
    @inlinable public subscript(i: Int, j: Int) -> Int { counts[i * classes.count + j] }

    /// Sorted distinct values of `labels` and, for every sample, the index of its value in that list.
    static func denseIndex(_ labels: [Int]) -> (values: [Int], index: [Int]) {
        guard let lo = labels.min(), let hi = labels.max() else { return ([], []) }
        let (span, overflow) = hi.subtractingReportingOverflow(lo)
        if !overflow && span < max(4 * labels.count, 1 << 16) {
            // Dense labels (the usual case: 0..<K): a lookup table.
            var slot = [Int](repeating: -1, count: span + 1)
            for l in labels { slot[l - lo] = 0 }
            var values: [Int] = []
            for v in 0...span where slot[v] == 0 { slot[v] = values.count; values.append(v + lo) }
            return (values, labels.map { slot[$0 - lo] })
        }
        let values = Array(Set(labels)).sorted()
        var position: [Int: Int] = [:]
        for (k, v) in values.enumerated() { position[v] = k }
        return (values, labels.map { position[$0]! })
    }
}

extension ContingencyTable {
    /// The table of two `Int32` labellings (the labels matrix type of the trainer).
    public init(predicted: [Int32], truth: [Int32]) throws {
        try self.init(predicted: predicted.map(Int.init), truth: truth.map(Int.init))
    }
}

extension ClusteringMetrics {
    /// NMI (arithmetic normalisation) of two labellings, e.g. consecutive pseudo-labellings of one head;
    /// symmetric in its arguments. Same as `normalizedMutualInformation(ContingencyTable(predicted: a, truth: b))`.
    public static func normalizedMutualInformation(_ a: [Int], _ b: [Int]) throws -> Double {
        normalizedMutualInformation(try ContingencyTable(predicted: a, truth: b))
    }

    /// NMI of two `Int32` labellings.
    public static func normalizedMutualInformation(_ a: [Int32], _ b: [Int32]) throws -> Double {
        normalizedMutualInformation(try ContingencyTable(predicted: a, truth: b))
    }
}
