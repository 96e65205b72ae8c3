/// Problems with the input or options of a Sinkhorn-Knopp solve, each carrying the offending value.
public enum SinkhornError: Error, Equatable, CustomStringConvertible {
    /// N = 0: there is nothing to label.
    case noSamples
    /// K = 0: there is no cluster to assign to.
    case noClusters
    /// K > N: equal-sized clusters are impossible (each cluster must receive N/K ≥ 1 sample).
    case moreClustersThanSamples(clusters: Int, samples: Int)
    /// λ must be a finite number > 0.
    case invalidLambda(Double)
    /// The tolerance must be a finite number > 0.
    case invalidTolerance(Double)
    /// The iteration cap must be ≥ 0 (0: automatic).
    case invalidMaxIterations(Int)
    /// The thread count must be ≥ 1.
    case invalidThreadCount(Int)
    /// A score is NaN or ±Inf (the first one in row-major order; `head` is 0 for a single problem).
    case nonFiniteScore(head: Int, row: Int, column: Int, value: Float)
    /// A probability is negative or above 1.
    case invalidProbability(head: Int, row: Int, column: Int, value: Float)
    /// A probability row is all zero: it gives no cluster any mass.
    case zeroProbabilityRow(head: Int, row: Int)
    /// The scores buffer does not hold `heads x n x k` elements.
    case shapeMismatch(count: Int, heads: Int, samples: Int, clusters: Int)
    /// A warm-start scaling has the wrong length or a non-positive or non-finite entry.
    case invalidWarmStart(expectedCount: Int, count: Int, badIndex: Int?)
    /// Option combination that has no meaning (for example bf16 storage with f64 precision).
    case incompatibleOptions(String)
    /// The iteration broke down numerically (a non-finite error) even after the repairs, so the labels are
    /// unusable; `representableLambda` is a λ at which float64 can hold the reference's `P^λ`.
    case numericalBreakdown(head: Int, lambda: Double, precision: SinkhornPrecision, iterations: Int,
                            representableLambda: Double)
    /// Some clusters received no sample and `SinkhornEmptyClusterPolicy.refuse` was asked for.
    case emptyClusters(head: Int, count: Int)
    /// The stored matrix and work buffers do not fit in the memory available.
    case insufficientMemory(needed: Int, available: Int, fittingStorage: SinkhornStorage?)

    public var description: String {
        switch self {
        case .noSamples: return "no samples: the score matrix has N = 0 rows"
        case .noClusters: return "no clusters: the score matrix has K = 0 columns"
        case let .moreClustersThanSamples(k, n):
            return "K = \(k) clusters > N = \(n) samples: equal-sized clusters are impossible"
        case let .invalidLambda(l): return "lambda must be finite and > 0, got \(l)"
        case let .invalidTolerance(t): return "tolerance must be finite and > 0, got \(t)"
        case let .invalidMaxIterations(m): return "max iterations must be >= 0 (0 = automatic), got \(m)"
        case let .invalidThreadCount(t): return "thread count must be >= 1, got \(t)"
        case let .nonFiniteScore(h, r, c, v):
            return "non-finite score \(v) at head \(h), row \(r), column \(c)"
        case let .invalidProbability(h, r, c, v):
            return "probability \(v) outside [0, 1] at head \(h), row \(r), column \(c)"
        case let .zeroProbabilityRow(h, r):
            return "probability row \(r) of head \(h) is all zero: every sample needs some probability mass"
        case let .shapeMismatch(count, h, n, k):
            return "scores hold \(count) values, expected heads x N x K = \(h) x \(n) x \(k) = \(h * n * k)"
        case let .invalidWarmStart(expected, count, bad):
            if let bad { return "warm-start scaling r[\(bad)] is not finite and > 0" }
            return "warm-start scaling has \(count) entries, expected K = \(expected)"
        case let .incompatibleOptions(why): return "incompatible options: \(why)"
        case let .emptyClusters(h, count):
            return "head \(h): \(count) clusters received no sample (refused; the split policy repairs them)"
        case let .numericalBreakdown(h, lambda, precision, iterations, representable):
            var hint = representable.isFinite && representable >= 1
                ? "; λ ≤ \(Int(representable.rounded(.down))) keeps float64 P^λ representable for these scores"
                : ""
            if precision == .f64 { hint += "; the log-domain truncated method (--dtype f32 --truncation auto) may solve a larger λ" }
            return "head \(h): the Sinkhorn-Knopp iteration broke down numerically at λ = \(lambda) after "
                + "\(iterations) iterations (a non-finite error); its labels are unusable\(hint)"
        case let .insufficientMemory(needed, available, fitting):
            let hint = fitting.map { "; storage \($0.rawValue) would fit" } ?? "; no storage option fits"
            return "not enough memory: needs \(needed) bytes, \(available) available\(hint)"
        }
    }

    /// Whether the error is about the scores themselves (their shape or values), so that a command reading them
    /// from a file names the file; the others concern the options, the solve or the machine.
    public var concernsScores: Bool {
        switch self {
        case .noSamples, .noClusters, .moreClustersThanSamples, .nonFiniteScore, .invalidProbability,
             .zeroProbabilityRow, .shapeMismatch:
            return true
        case .invalidLambda, .invalidTolerance, .invalidMaxIterations, .invalidThreadCount, .invalidWarmStart,
             .incompatibleOptions, .numericalBreakdown, .emptyClusters, .insufficientMemory:
            return false
        }
    }
}
