import Tensors
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Clustering-against-ground-truth scores computed from a `ContingencyTable`, each matching scikit-learn 1.9
/// (`sklearn.metrics.cluster`) including its special cases, or SciPy for the matched accuracy.
///
/// Notation: n_ij = table count (cluster i, class j), a_i = cluster sizes, b_j = class sizes, N = samples.
public enum ClusteringMetrics {
    /// Entropy of a labelling from its group sizes, in nats: `H = −Σ (s/N) log(s/N)` over non-empty groups;
    /// 0 for one group (sklearn `_entropy`).
    public static func entropy(sizes: [Int]) -> Double {
        let nonEmpty = sizes.filter { $0 > 0 }
        if nonEmpty.count <= 1 { return 0 }
        let total = Double(nonEmpty.reduce(0, +)), logTotal = log(total)
        var h = 0.0
        for s in nonEmpty { h -= (Double(s) / total) * (log(Double(s)) - logTotal) }
        return h
    }

    /// Mutual information in nats, `MI = Σ_ij (n_ij/N) log(N n_ij / (a_i b_j))`, exactly as
    /// `sklearn.metrics.mutual_info_score` (terms below machine epsilon are zeroed, the sum is clipped at 0,
    /// and it is 0 when either labelling has a single group).
    public static func mutualInformation(_ t: ContingencyTable) -> Double {
        if t.clusters.count == 1 || t.classes.count == 1 || t.sampleCount == 0 { return 0 }
        let total = Double(t.sampleCount), logTotal = log(total)
        let logSums = log(Double(t.clusterSizes.reduce(0, +))) + log(Double(t.classSizes.reduce(0, +)))
        var mi = 0.0
        for i in 0..<t.clusters.count {
            for j in 0..<t.classes.count {
                let nij = t[i, j]
                if nij == 0 { continue }
                let p = Double(nij) / total
                let logOuter = -log(Double(t.clusterSizes[i] * t.classSizes[j])) + logSums
                let term = p * (log(Double(nij)) - logTotal) + p * logOuter
                if abs(term) >= Double.ulpOfOne { mi += term }
            }
        }
        return max(mi, 0)
    }

    /// Normalised mutual information with arithmetic normalisation (scikit-learn's default
    /// `average_method="arithmetic"`): `NMI = MI / ((H(clusters) + H(classes)) / 2)`.
    /// 1 when both labellings have one group (or none); 0 when MI is 0.
    public static func normalizedMutualInformation(_ t: ContingencyTable) -> Double {
        if t.classes.count == t.clusters.count && t.classes.count <= 1 { return 1 }
        let mi = mutualInformation(t)
        if mi == 0 { return 0 }
        let normalizer = (entropy(sizes: t.classSizes) + entropy(sizes: t.clusterSizes)) / 2
        return mi / normalizer
    }

    /// Adjusted mutual information, arithmetic normalisation (sklearn's default):
    /// `AMI = (MI − E[MI]) / (mean(H_U, H_V) − E[MI])`, with E[MI] under the hypergeometric
    /// permutation model (`expectedMutualInformation`). Special cases as sklearn: 1 when both have one group
    /// (or none), 0 when exactly one has a single group; numerator and denominator kept at least machine
    /// epsilon away from 0 with their sign.
    public static func adjustedMutualInformation(_ t: ContingencyTable) -> Double {
        if t.classes.count == t.clusters.count && t.classes.count <= 1 { return 1 }
        if t.classes.count == 1 || t.clusters.count == 1 { return 0 }
        let mi = mutualInformation(t)
        let emi = expectedMutualInformation(t)
        let normalizer = (entropy(sizes: t.classSizes) + entropy(sizes: t.clusterSizes)) / 2
        let eps = Double.ulpOfOne
        var denominator = normalizer - emi
        denominator = denominator < 0 ? min(denominator, -eps) : max(denominator, eps)
        var numerator = mi - emi
        numerator = numerator < 0 ? min(numerator, -eps) : max(numerator, eps)
        return numerator / denominator
    }

    /// Expected mutual information of two labellings with the table's marginals under random permutation
    /// (Vinh, Epps & Bailey 2010), computed term by term with log-gamma exactly as sklearn's
    /// `_expected_mutual_info_fast.expected_mutual_information`:
    /// `E = Σ_i Σ_j Σ_{n=max(1, a_i+b_j−N)}^{min(a_i,b_j)} (n/N) log(N n/(a_i b_j)) ·
    ///      exp(lnΓ(a_i+1)+lnΓ(b_j+1)+lnΓ(N−a_i+1)+lnΓ(N−b_j+1) − lnΓ(n+1) − lnΓ(N+1) − lnΓ(a_i−n+1)
    ///          − lnΓ(b_j−n+1) − lnΓ(N−a_i−b_j+n+1))`. 0 when either labelling has one group.
    /// Cost O(Σ_ij min(a_i, b_j)) table lookups and exps (ln Γ tabulated once for 0...N+1, O(N) memory), rows in
    /// parallel, row sums added in row order so the result does not depend on the thread count.
    public static func expectedMutualInformation(_ t: ContingencyTable) -> Double {
        let a = t.clusterSizes, b = t.classSizes, n = t.sampleCount
        if a.count == 1 || b.count == 1 { return 0 }
        let nD = Double(n)
        let maxNij = max(a.max() ?? 0, b.max() ?? 0)
        var term1 = [Double](repeating: 0, count: maxNij + 1)
        var logNnij = [Double](repeating: 0, count: maxNij + 1)
        var glnNnij = [Double](repeating: 0, count: maxNij + 1)
        let glnN1 = logGamma(nD + 1)
        for k in 0...maxNij {
            let v = Double(k == 0 ? 1 : k)  // sklearn sets nijs[0] = 1 (unused)
            term1[k] = v / nD
            logNnij[k] = log(nD) + log(v)
            glnNnij[k] = logGamma(v + 1) + glnN1
        }
        let logA = a.map { log(Double($0)) }, logB = b.map { log(Double($0)) }
        // ln Γ(m) for every integer argument 0...N+1 that occurs, computed once (the same libm values the
        // per-term calls would give, so the result is unchanged).
        let lnGamma = (0...(n + 1)).map { $0 == 0 ? Double.infinity : logGamma(Double($0)) }
        let glnA = a.map { lnGamma[$0 + 1] }, glnB = b.map { lnGamma[$0 + 1] }
        let glnNa = a.map { lnGamma[n - $0 + 1] }, glnNb = b.map { lnGamma[n - $0 + 1] }
        // One partial sum per row, computed in parallel and added in row order (deterministic).
        var rowSums = [Double](repeating: 0, count: a.count)
        rowSums.withUnsafeMutableBufferPointer { out in
            let box = UnsafeSendable(out)
            parallelChunks(a.count, minChunk: 1) { rows in
                for i in rows {
                    var emi = 0.0
                    for j in 0..<b.count {
                        let start = max(1, a[i] - n + b[j]), end = min(a[i], b[j]) + 1
                        if start >= end { continue }
                        let fixed = glnA[i] + glnB[j] + glnNa[i] + glnNb[j]
                        // The hypergeometric weights exp(gln) are unimodal in nij; past the mode, once exp(gln)
                        // is exactly 0 in float64 (gln < −746) every later term is 0 too, so stopping there
                        // leaves the sum bit-for-bit unchanged.
                        let mode = (a[i] + 1) * (b[j] + 1) / (n + 2)
                        for nij in start..<end {
                            let term2 = logNnij[nij] - logA[i] - logB[j]
                            let gln = fixed - glnNnij[nij] - lnGamma[a[i] - nij + 1] - lnGamma[b[j] - nij + 1]
                                - lnGamma[n - a[i] - b[j] + nij + 1]
                            if gln < -746 && nij > mode { break }
                            emi += term1[nij] * term2 * exp(gln)
                        }
                    }
                    box.value[i] = emi
                }
            }
        }
        var emi = 0.0
        for r in rowSums { emi += r }
        return emi
    }

    /// Adjusted Rand index as `sklearn.metrics.adjusted_rand_score`, from the pair confusion matrix:
    /// `ARI = 2 (tp·tn − fn·fp) / ((tp+fn)(fn+tn) + (tp+fp)(fp+tn))`; 1 when fn = fp = 0 (perfect agreement,
    /// including the empty and one-sample cases). Pair counts are exact integers; the final products are in
    /// Double (relative error about 1e-16; sklearn uses exact Python integers).
    public static func adjustedRandIndex(_ t: ContingencyTable) -> Double {
        let n = t.sampleCount
        var sumSquares = 0
        for c in t.counts { sumSquares += c * c }
        // sklearn: C[0,1] = Σ_ij n_ij·(class size of j) − Σn², with its contingency rows = classes.
        var rowDotClass = 0, colDotCluster = 0
        for i in 0..<t.clusters.count {
            for j in 0..<t.classes.count {
                let c = t[i, j]
                rowDotClass += c * t.clusterSizes[i]
                colDotCluster += c * t.classSizes[j]
            }
        }
        let tp = Double(sumSquares - n)
        let fp = Double(rowDotClass - sumSquares)      // same cluster, different class
        let fn = Double(colDotCluster - sumSquares)    // same class, different cluster
        let tn = Double(n) * Double(n) - fp - fn - Double(sumSquares)
        if fn == 0 && fp == 0 { return 1 }
        return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
    }

    /// Fraction of samples correctly labelled after the best one-to-one matching of clusters to classes
    /// (maximum-weight bipartite matching on the table, solved by `LinearAssignment`; equal to
    /// `scipy.optimize.linear_sum_assignment(-table)` total / N). With unequal numbers of clusters and classes,
    /// `min(#clusters, #classes)` pairs are matched and the rest count as wrong.
    /// - Returns: the accuracy and, for each cluster row, its matched class index into `t.classes` (or nil).
    public static func matchedAccuracy(_ t: ContingencyTable) -> (accuracy: Double, classForCluster: [Int?]) {
        let rows = t.clusters.count, cols = t.classes.count
        if rows == 0 || cols == 0 { return (0, [Int?](repeating: nil, count: rows)) }
        let cost = t.counts.map { -Double($0) }
        // Finite costs never fail.
        let assignment = try! LinearAssignment.solve(costs: cost, rows: rows, columns: cols)
        var correct = 0
        for (i, j) in assignment.enumerated() { if let j { correct += t[i, j] } }
        return (Double(correct) / Double(t.sampleCount), assignment)
    }

    /// Many-to-one (majority-vote) accuracy: each cluster is labelled with its most frequent class,
    /// `Σ_i max_j n_ij / N`. This is by definition the same number as purity (Zhao & Karypis); the two names
    /// are both in common use.
    public static func majorityAccuracy(_ t: ContingencyTable) -> Double {
        if t.sampleCount == 0 { return 0 }
        return Double(clusterPurities(t).majorityCounts.reduce(0, +)) / Double(t.sampleCount)
    }

    /// Per-cluster majority class (index into `t.classes`, the lowest on ties), its count, and the cluster's
    /// purity `max_j n_ij / a_i`.
    public static func clusterPurities(_ t: ContingencyTable)
        -> (majorityClass: [Int], majorityCounts: [Int], purity: [Double]) {
        var cls = [Int](), cnt = [Int](), pur = [Double]()
        for i in 0..<t.clusters.count {
            var best = 0
            for j in 0..<t.classes.count where t[i, j] > t[i, best] { best = j }
            cls.append(best)
            cnt.append(t.classes.isEmpty ? 0 : t[i, best])
            pur.append(t.clusterSizes[i] == 0 ? 0 : Double(cnt.last!) / Double(t.clusterSizes[i]))
        }
        return (cls, cnt, pur)
    }
}

/// Natural log usable where a local name shadows `log`.
@inline(__always) func _log(_ x: Double) -> Double { log(x) }

/// ln Γ(x) for x > 0 (C `lgamma_r`, reentrant; the same libm function SciPy's `gammaln` agrees with to ~1 ulp).
@inline(__always) func logGamma(_ x: Double) -> Double {
    var sign: Int32 = 0
    return lgamma_r(x, &sign)
}
