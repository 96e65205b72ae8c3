import Tensors

/// The labels matrix `L[h][n]`: one pseudo-label per image per head (SeLa's self-labels).
public struct PseudoLabels: Sendable, Equatable {
    /// Number of heads.
    public let heads: Int
    /// Number of images.
    public let count: Int
    /// Clusters per head.
    public let clusters: [Int]
    /// Row-major (heads, count).
    public private(set) var values: [Int32]

    /// Wraps an existing (heads, count) matrix; every label must lie in its head's cluster range.
    public init(clusters: [Int], count: Int, values: [Int32]) {
        precondition(values.count == clusters.count * count,
                     "PseudoLabels: \(values.count) values for \(clusters.count) heads x \(count) images")
        self.heads = clusters.count
        self.count = count
        self.clusters = clusters
        self.values = values
        for h in 0..<heads {
            for v in values[(h * count)..<((h + 1) * count)] {
                precondition(v >= 0 && Int(v) < clusters[h], "PseudoLabels: label \(v) outside 0..<\(clusters[h]) in head \(h)")
            }
        }
    }

    /// The official initialisation: for each head, a random permutation of `n mod K` — an exact equipartition.
    public static func randomEquipartition(clusters: [Int], count: Int,
                                           using rng: inout some RandomNumberGenerator) -> PseudoLabels {
        var values = [Int32](repeating: 0, count: clusters.count * count)
        for (h, k) in clusters.enumerated() {
            let perm = rng.permutation(count)
            for n in 0..<count { values[h * count + n] = Int32(perm[n] % k) }
        }
        return PseudoLabels(clusters: clusters, count: count, values: values)
    }

    /// Labels of head `h`.
    public func head(_ h: Int) -> ArraySlice<Int32> { values[(h * count)..<((h + 1) * count)] }

    /// Replaces head `h`'s labels; returns the fraction of images whose label changed.
    @discardableResult
    public mutating func replace(head h: Int, with labels: [Int32]) -> Double {
        precondition(labels.count == count, "PseudoLabels.replace: \(labels.count) labels for \(count) images")
        var changed = 0
        for n in 0..<count {
            let v = labels[n]
            precondition(v >= 0 && Int(v) < clusters[h], "PseudoLabels.replace: label \(v) outside 0..<\(clusters[h])")
            if values[h * count + n] != v { changed += 1 }
            values[h * count + n] = v
        }
        return count == 0 ? 0 : Double(changed) / Double(count)
    }

    /// The targets of a batch for every head: `result[h][i] = L[h][indices[i]]`.
    public func targets(for indices: [Int]) -> [[Int32]] {
        (0..<heads).map { h in indices.map { values[h * count + $0] } }
    }

    /// Cluster sizes of head `h`.
    public func clusterSizes(head h: Int) -> [Int] {
        var sizes = [Int](repeating: 0, count: clusters[h])
        for v in head(h) { sizes[Int(v)] += 1 }
        return sizes
    }
}
