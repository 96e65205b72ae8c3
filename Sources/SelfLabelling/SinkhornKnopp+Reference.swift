import Foundation

/// SeLa's Sinkhorn-Knopp label optimisation as the paper and its official CPU loop state it: the library's
/// executable specification, against which every fast method of `SinkhornKnoppSolver` is tested.
public enum SinkhornKnopp {
    /// The result of the reference loop.
    public struct ReferenceResult: Sendable {
        /// `label_n = argmax_k P^λ_nk r_k` (first maximum).
        public var labels: [Int32]
        /// Iterations run (one `r` and one `c` update each).
        public var iterations: Int
        /// Every checked error (iterations 0, 10, 20, …; every `checkInterval`-th).
        public var errors: [Double]
        /// r: the per-cluster scaling (K) after the last iteration.
        public var clusterScaling: [Double]
        /// c: the per-sample scaling (N) after the last iteration.
        public var sampleScaling: [Double]
        /// Whether the stop rule ended the loop (not the cap).
        public var converged: Bool
    }

    /// The official loop (`optimize_L_sk` / `cpu_sk` of Asano et al., ICLR 2020), plainly, in float64, two
    /// passes per iteration, no shifts:
    ///
    ///     P = softmax(z) row-wise (logits) or the given P (probabilities);  A = P^λ  (N x K)
    ///     r = 1/K per cluster (K),  c = 1/N per sample (N)
    ///     repeat:  r = (1/K) / (Aᵀ c);  c_new = (1/N) / (A r)
    ///              every 10th iteration (0, 10, …): err = Σ_n |c_n / c_new_n − 1|  (NaN terms skipped, as
    ///              `np.nansum`);  c = c_new
    ///     while err > tol (and fewer than `maxIterations` iterations)
    ///     label_n = argmax_k A_nk r_k
    ///
    /// `r` is per cluster and `c` per sample, as in the paper's plan `Q = diag(c) P^λ diag(r)` with samples as
    /// rows. Where float64 cannot hold `P^λ` (λ in the thousands) it breaks down exactly as the official
    /// loop does (zero rows give infinite `c`, NaN errors are skipped). Memory: N x K doubles.
    /// `checkInterval`: the official loop checks every 10th iteration; 1 checks every iteration (the rule
    /// evaluated on every official iteration, as the accelerated solver's early checks may).
    /// `startsBalanced`: instead of the uniform `c`, the loop starts from `c = (1/N) / (A r̂)` for
    /// `r̂_k = 1 / max_n (A_nk / max_j A_nj)` (every column's largest entry of the row-normalised plan; the
    /// accelerated solver's balanced start, `SinkhornOptions.startsBalanced`, whose pass 0 computes this `c`).
    public static func reference(_ scores: [Float], samples n: Int, clusters k: Int, lambda: Double,
                                 kind: SinkhornScoreKind = .logits, tolerance: Double = 0.1,
                                 maxIterations: Int = 100_000, checkInterval: Int = 10,
                                 startsBalanced: Bool = false) -> ReferenceResult {
        precondition(checkInterval >= 1, "SinkhornKnopp.reference: check interval \(checkInterval)")
        precondition(scores.count == n * k, "SinkhornKnopp.reference: \(scores.count) scores for \(n) x \(k)")
        var a = [Double](repeating: 0, count: n * k)
        // Column maxima of the row-normalised plan A_nk / max_j A_nj (the balanced start).
        var normalisedMax = [Double](repeating: 0, count: k)
        for i in 0..<n {
            let z = scores[(i * k)..<((i + 1) * k)].map(Double.init)
            let m = z.max() ?? 0
            if kind == .probabilities {
                for j in 0..<k {
                    a[i * k + j] = pow(z[j], lambda)
                    normalisedMax[j] = max(normalisedMax[j], pow(z[j] / m, lambda))
                }
                continue
            }
            var s = 0.0
            for j in 0..<k { s += exp(z[j] - m) }
            for j in 0..<k {
                a[i * k + j] = pow(exp(z[j] - m) / s, lambda)
                normalisedMax[j] = max(normalisedMax[j], exp(lambda * (z[j] - m)))
            }
        }
        var r = [Double](repeating: 1 / Double(k), count: k)
        var c = [Double](repeating: 1 / Double(n), count: n)
        if startsBalanced {
            for i in 0..<n {
                var s = 0.0
                for j in 0..<k { s += a[i * k + j] / normalisedMax[j] }
                c[i] = (1 / Double(n)) / s
            }
        }
        var err = 1e6, counter = 0
        var errors: [Double] = []
        while err > tolerance && counter < maxIterations {
            var colSum = [Double](repeating: 0, count: k)
            for i in 0..<n { for j in 0..<k { colSum[j] += a[i * k + j] * c[i] } }
            for j in 0..<k { r[j] = (1 / Double(k)) / colSum[j] }
            var cNew = [Double](repeating: 0, count: n)
            for i in 0..<n {
                var s = 0.0
                for j in 0..<k { s += a[i * k + j] * r[j] }
                cNew[i] = (1 / Double(n)) / s
            }
            if counter % checkInterval == 0 {
                err = 0
                for i in 0..<n where !(c[i] / cNew[i]).isNaN { err += abs(c[i] / cNew[i] - 1) }
                errors.append(err)
            }
            c = cNew
            counter += 1
        }
        var labels = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            var best = -Double.infinity, arg = 0
            for j in 0..<k where a[i * k + j] * r[j] > best { best = a[i * k + j] * r[j]; arg = j }
            labels[i] = Int32(arg)
        }
        return ReferenceResult(labels: labels, iterations: counter, errors: errors, clusterScaling: r,
                               sampleScaling: c, converged: err <= tolerance)
    }
}
