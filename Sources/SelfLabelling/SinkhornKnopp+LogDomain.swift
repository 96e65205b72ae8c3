import Foundation

extension SinkhornKnopp {
    /// The official loop (`reference`) carried out on logarithms, in float64, so it stays finite at any λ:
    ///
    ///     L_nk = λ log P_nk = λ (z_nk − logsumexp_j z_nj)       (never stored: recomputed from the scores)
    ///     log r_k = −log K − logsumexp_n (L_nk + log c_n)
    ///     log c_new_n = −log N − logsumexp_k (L_nk + log r_k)
    ///     every 10th iteration: err = Σ_n |exp(log c_n − log c_new_n) − 1|
    ///     label_n = argmax_k (L_nk + log r_k)
    ///
    /// Where float64 holds `P^λ` it is the reference loop (the same iterations, errors and labels up to
    /// rounding); beyond that (λ in the thousands) `P^λ` underflows and the reference breaks down, this does
    /// not. The price: an exponential per entry and per pass, three passes per iteration, one thread. The
    /// trainer uses it as the last resort when the fast methods break down (issue 12 §2.5). Logits only;
    /// `scores` are N x K row-major.
    /// Returns the reference's result, with the scalings normalised so that their largest entry is 1, and the
    /// final `max_k |K · r_k · (Aᵀ c)_k − 1|` (`SinkhornDiagnostics.maxMarginalDeviation`).
    public static func logDomain(_ scores: UnsafePointer<Float>, samples n: Int, clusters k: Int, lambda: Double,
                                 tolerance: Double = 0.1, maxIterations: Int = 100_000)
        -> (result: ReferenceResult, marginalDeviation: Double) {
        precondition(n > 0 && k > 0, "SinkhornKnopp.logDomain: N = \(n), K = \(k)")
        var rowLSE = [Double](repeating: 0, count: n)
        for i in 0..<n { rowLSE[i] = logSumExp(k) { Double(scores[i * k + $0]) } }
        func l(_ i: Int, _ j: Int) -> Double { lambda * (Double(scores[i * k + j]) - rowLSE[i]) }
        var logR = [Double](repeating: -log(Double(k)), count: k)
        var logC = [Double](repeating: -log(Double(n)), count: n)
        var logCNew = logC
        var err = 1e6, counter = 0
        var errors: [Double] = []
        var colMax = [Double](repeating: 0, count: k), colSum = [Double](repeating: 0, count: k)
        while err > tolerance && counter < maxIterations {
            colMax.withUnsafeMutableBufferPointer { $0.update(repeating: -.infinity) }
            for i in 0..<n { for j in 0..<k { colMax[j] = max(colMax[j], l(i, j) + logC[i]) } }
            colSum.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            for i in 0..<n { for j in 0..<k { colSum[j] += exp(l(i, j) + logC[i] - colMax[j]) } }
            for j in 0..<k { logR[j] = -log(Double(k)) - (colMax[j] + log(colSum[j])) }
            for i in 0..<n { logCNew[i] = -log(Double(n)) - logSumExp(k) { l(i, $0) + logR[$0] } }
            if counter % 10 == 0 {
                err = 0
                for i in 0..<n { err += abs(exp(logC[i] - logCNew[i]) - 1) }
                errors.append(err)
            }
            swap(&logC, &logCNew)
            counter += 1
        }
        var labels = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            var best = -Double.infinity, arg = 0
            for j in 0..<k where l(i, j) + logR[j] > best { best = l(i, j) + logR[j]; arg = j }
            labels[i] = Int32(arg)
        }
        var deviation = 0.0
        for j in 0..<k {
            let logColumn = logSumExp(n) { l($0, j) + logC[$0] }
            deviation = max(deviation, abs(exp(log(Double(k)) + logR[j] + logColumn) - 1))
        }
        let maxR = logR.max() ?? 0, maxC = logC.max() ?? 0
        return (ReferenceResult(labels: labels, iterations: counter, errors: errors,
                                clusterScaling: logR.map { exp($0 - maxR) }, sampleScaling: logC.map { exp($0 - maxC) },
                                converged: err <= tolerance), deviation)
    }

    /// `log Σ_j exp(term(j))` over `0..<count`, shifted by the largest term (−∞ when every term is −∞).
    static func logSumExp(_ count: Int, _ term: (Int) -> Double) -> Double {
        var m = -Double.infinity
        for j in 0..<count { m = max(m, term(j)) }
        guard m.isFinite else { return m }
        var s = 0.0
        for j in 0..<count { s += exp(term(j) - m) }
        return m + log(s)
    }
}

extension SinkhornResult {
    /// The result of `SinkhornKnopp.logDomain` on N x K scores, as the solver reports its own
    /// (`solvedInLogDomain` set, timings in `iterateSeconds`, no stored matrix).
    init(logDomain r: SinkhornKnopp.ReferenceResult, marginalDeviation: Double, samples n: Int, clusters k: Int,
         seconds: Double) {
        var sizes = [Int](repeating: 0, count: k)
        for l in r.labels { sizes[Int(l)] += 1 }
        let empty = sizes.filter { $0 == 0 }.count, largest = sizes.max() ?? 0
        var d = SinkhornDiagnostics(
            iterations: r.iterations, converged: r.converged, finalError: r.errors.last ?? .nan, errorHistory: r.errors,
            maxMarginalDeviation: marginalDeviation, minClusterSize: sizes.min() ?? 0, maxClusterSize: largest,
            emptyClusters: empty, storedMatrixBytes: 0, prepareSeconds: 0, iterateSeconds: seconds, labelSeconds: 0)
        d.solvedInLogDomain = true
        d.degenerateLabels = SinkhornDiagnostics.isDegenerate(emptyClusters: empty, maxClusterSize: largest,
                                                              samples: n, clusters: k)
        self.init(labels: r.labels,
                  clusterScaling: r.clusterScaling.map { Swift.max($0, Double.leastNormalMagnitude) }, diagnostics: d)
    }
}
