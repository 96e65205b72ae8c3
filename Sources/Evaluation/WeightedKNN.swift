#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Tensors

/// Weighted k-nearest-neighbour classification of frozen features, the protocol of the official SeLa code
/// (after Wu et al. 2018, "instance discrimination"):
///
/// 1. train and test features are L2-normalised row-wise, or with PCA to `pcaDimensions` first projected (see
///    `PCAOrder`) and then L2-normalised;
/// 3. cosine similarity `S = test · trainᵀ` (SGEMM), computed in chunks of test rows so that at most
///    `similarityBudgetBytes` of similarities exist at once;
/// 4. for each test sample, its top-k train neighbours by similarity (ties: lower train index first), each
///    voting for its class with weight `exp(s/σ)`; classes ranked by summed votes (ties: lower class first);
/// 5. top-1 / top-5: the true class is ranked first / among the first min(5, C).
///
/// Every (k, σ) pair of the lists is scored from one similarity pass (neighbours of the largest k are kept).
/// Unlike the official code, every train sample is used (it drops the last partial batch).
public enum WeightedKNN {
    /// Where PCA sits relative to the L2 normalisation.
    public enum PCAOrder: String, Sendable, CaseIterable {
        /// The official order (`cifar_utils.kNN` with `use_pca`): PCA (sklearn's, centred, not whitened) fitted on
        /// the raw train features, both sets projected, then L2-normalised.
        case official
        /// L2-normalise, fit PCA on the normalised train features and project, L2-normalise again (SelfLabel's
        /// earlier order; docs/EVALUATION.md has the measured difference).
        case normalizedFirst = "normalized-first"
    }

    /// One (k, σ) result.
    public struct Score: Sendable, Equatable {
        /// Number of neighbours.
        public let k: Int
        /// Temperature σ of the weights exp(sim/σ).
        public let sigma: Double
        /// Test samples whose true class is ranked first / within the first five.
        public let correctTop1: Int, correctTop5: Int
        /// Number of test samples.
        public let total: Int
        /// Top-1 fraction in [0, 1].
        public var top1: Double { total == 0 ? 0 : Double(correctTop1) / Double(total) }
        /// Top-5 fraction in [0, 1].
        public var top5: Double { total == 0 ? 0 : Double(correctTop5) / Double(total) }
    }

    /// The scores of every (k, σ) pair (k-major order) and the PCA used, if any.
    public struct Evaluation: Sendable {
        /// Scores in the order `for k in ks { for σ in sigmas }`.
        public let scores: [Score]
        /// The fitted PCA when `pcaDimensions` was given.
        public let pca: PCA?
        /// The score for a given pair.
        public func score(k: Int, sigma: Double) -> Score? { scores.first { $0.k == k && $0.sigma == sigma } }
    }

    /// Runs the protocol.
    /// - Parameters:
    ///   - trainFeatures: (N, D) memory-bank features; `trainLabels`: N class labels ≥ 0.
    ///   - testFeatures: (M, D); `testLabels`: M class labels ≥ 0.
    ///   - ks: neighbour counts, each in 1...N. `sigmas`: temperatures, each finite and > 0.
    ///   - pcaDimensions: if non-nil, the PCA dimension (the official value is 128); `pcaOrder` where it sits.
    ///   - similarityBudgetBytes: bound on the similarity chunk (default 256 MiB).
    /// - Throws: `EvaluationError` for mismatched shapes, negative labels, bad k/σ, non-finite features.
    public static func evaluate(trainFeatures: Tensor, trainLabels: [Int], testFeatures: Tensor, testLabels: [Int],
                                ks: [Int], sigmas: [Double], pcaDimensions: Int? = nil, pcaOrder: PCAOrder = .official,
                                similarityBudgetBytes: Int = 256 << 20) throws -> Evaluation {
        precondition(trainFeatures.rank == 2 && testFeatures.rank == 2,
                     "WeightedKNN: features must be matrices, got \(trainFeatures.shape) and \(testFeatures.shape)")
        let n = trainFeatures.shape[0], m = testFeatures.shape[0]
        if n == 0 { throw EvaluationError.empty(what: "train feature matrix") }
        guard trainLabels.count == n else { throw EvaluationError.labelCountMismatch(rows: n, labels: trainLabels.count, what: "train") }
        guard testLabels.count == m else { throw EvaluationError.labelCountMismatch(rows: m, labels: testLabels.count, what: "test") }
        guard testFeatures.shape[1] == trainFeatures.shape[1] else {
            throw EvaluationError.featureDimensionMismatch(expected: trainFeatures.shape[1], got: testFeatures.shape[1], what: "test")
        }
        if let (i, v) = trainLabels.enumerated().first(where: { $0.element < 0 }) { throw EvaluationError.negativeLabel(index: i, value: v) }
        if let (i, v) = testLabels.enumerated().first(where: { $0.element < 0 }) { throw EvaluationError.negativeLabel(index: i, value: v) }
        if ks.isEmpty { throw EvaluationError.empty(what: "list of k") }
        if sigmas.isEmpty { throw EvaluationError.empty(what: "list of sigma") }
        for k in ks where k < 1 || k > n { throw EvaluationError.invalidKNNOption(name: "k", value: Double(k)) }
        for s in sigmas where !(s.isFinite && s > 0) { throw EvaluationError.invalidKNNOption(name: "sigma", value: s) }

        var train = trainFeatures, test = testFeatures
        var pca: PCA?
        if let dims = pcaDimensions {
            if pcaOrder == .normalizedFirst {
                train = try FeatureNormalization.l2Normalized(train)
                test = try FeatureNormalization.l2Normalized(test)
            }
            let fitted = try PCA.fit(train, dimensions: dims)
            train = try fitted.transform(train)
            test = try fitted.transform(test)
            pca = fitted
        }
        train = try FeatureNormalization.l2Normalized(train)
        test = try FeatureNormalization.l2Normalized(test)
        let classCount = max(trainLabels.max() ?? 0, testLabels.max() ?? 0) + 1
        let kMax = ks.max()!
        let configs = ks.flatMap { k in sigmas.map { (k, $0) } }
        var top1 = [Int](repeating: 0, count: configs.count), top5 = top1
        let chunk = max(1, min(m, similarityBudgetBytes / max(n * MemoryLayout<Float>.stride, 1)))
        var start = 0
        while start < m {
            let rows = min(chunk, m - start)
            let sims = Tensor.matmul(test[start..<(start + rows)], train, transposeB: true)
            // Per row: one byte per config, bit 0 = top-1 hit, bit 1 = top-5 hit.
            var hits = [UInt8](repeating: 0, count: rows * configs.count)
            sims.withUnsafeBufferPointer { s in
                hits.withUnsafeMutableBufferPointer { h in
                    let sBox = UnsafeSendable(s), hBox = UnsafeSendable(h)
                    parallelChunks(rows, minChunk: 4) { range in
                        var idx = [Int](repeating: 0, count: kMax), val = [Float](repeating: 0, count: kMax)
                        var votes = [Double](repeating: 0, count: classCount)
                        for r in range {
                            topK(row: UnsafeBufferPointer(rebasing: sBox.value[(r * n)..<((r + 1) * n)]),
                                 k: kMax, indices: &idx, values: &val)
                            let target = testLabels[start + r]
                            for (c, (k, sigma)) in configs.enumerated() {
                                for v in 0..<classCount { votes[v] = 0 }
                                for q in 0..<k { votes[trainLabels[idx[q]]] += exp(Double(val[q]) / sigma) }
                                var rank = 0
                                let mine = votes[target]
                                for v in 0..<classCount where votes[v] > mine || (votes[v] == mine && v < target) { rank += 1 }
                                hBox.value[r * configs.count + c] = (rank == 0 ? 1 : 0) | (rank < 5 ? 2 : 0)
                            }
                        }
                    }
                }
            }
            for r in 0..<rows {
                for c in 0..<configs.count {
                    let h = hits[r * configs.count + c]
                    top1[c] += Int(h & 1)
                    top5[c] += Int((h >> 1) & 1)
                }
            }
            start += rows
        }
        let scores = configs.enumerated().map { c, kc in
            Score(k: kc.0, sigma: kc.1, correctTop1: top1[c], correctTop5: top5[c], total: m)
        }
        return Evaluation(scores: scores, pca: pca)
    }

    /// The `k` largest entries of `row`, sorted descending (ties: lower index first), into `indices`/`values`.
    static func topK(row: UnsafeBufferPointer<Float>, k: Int, indices: inout [Int], values: inout [Float]) {
        indices.withUnsafeMutableBufferPointer { idx in
            values.withUnsafeMutableBufferPointer { val in
                var filled = 0
                var threshold = -Float.infinity  // smallest kept value once k are kept
                for j in 0..<row.count {
                    let s = row[j]
                    if filled == k && !(s > threshold) { continue }
                    var p = filled == k ? k - 1 : filled
                    if filled < k { filled += 1 }
                    while p > 0 && s > val[p - 1] {
                        val[p] = val[p - 1]
                        idx[p] = idx[p - 1]
                        p -= 1
                    }
                    val[p] = s
                    idx[p] = j
                    if filled == k { threshold = val[k - 1] }
                }
            }
        }
    }
}
