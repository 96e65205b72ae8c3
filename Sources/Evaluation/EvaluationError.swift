/// Errors from evaluation code that a user can cause (mismatched label files, bad options, non-finite data).
/// Each case carries the offending values so the CLI can print one clear line.
public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    /// Predicted and true label arrays have different lengths.
    case lengthMismatch(predicted: Int, truth: Int)
    /// An array that must not be empty was empty (`what` names it).
    case empty(what: String)
    /// A cost-matrix entry is NaN or -infinity (the assignment problem is undefined).
    case invalidCost(row: Int, column: Int, value: Double)
    /// No complete assignment exists (every remaining choice costs +infinity).
    case infeasibleAssignment(row: Int)
    /// A feature matrix has the wrong width.
    case featureDimensionMismatch(expected: Int, got: Int, what: String)
    /// Feature matrix and label count disagree.
    case labelCountMismatch(rows: Int, labels: Int, what: String)
    /// A class label is negative.
    case negativeLabel(index: Int, value: Int)
    /// A kNN option is invalid (`k` must be in 1...train count, σ must be finite and > 0).
    case invalidKNNOption(name: String, value: Double)
    /// The PCA dimension is not in 1...min(feature dimension, train count).
    case invalidPCADimension(requested: Int, maximum: Int)
    /// A feature value is NaN or infinite.
    case nonFiniteFeature(row: Int, column: Int, value: Float)
    /// LAPACK's symmetric eigensolver reported failure (`info` as returned by `dsyevd`).
    case eigensolverFailed(info: Int)

    /// One line for users, naming the offending values.
    public var description: String {
        switch self {
        case let .lengthMismatch(p, t): return "predicted labels have \(p) entries but true labels have \(t)"
        case let .empty(what): return "\(what) is empty"
        case let .invalidCost(r, c, v): return "cost matrix entry (\(r), \(c)) is \(v); costs must be finite or +inf"
        case let .infeasibleAssignment(r): return "no finite-cost assignment exists for row \(r)"
        case let .featureDimensionMismatch(e, g, what): return "\(what) features have \(g) dimensions, expected \(e)"
        case let .labelCountMismatch(rows, labels, what): return "\(what): \(rows) feature rows but \(labels) labels"
        case let .negativeLabel(i, v): return "class label at index \(i) is negative (\(v))"
        case let .invalidKNNOption(name, v): return "invalid kNN option \(name) = \(v)"
        case let .invalidPCADimension(r, m): return "PCA dimension \(r) must be between 1 and \(m)"
        case let .nonFiniteFeature(r, c, v): return "feature (\(r), \(c)) is \(v)"
        case let .eigensolverFailed(info): return "LAPACK dsyevd failed with info = \(info)"
        }
    }
}
