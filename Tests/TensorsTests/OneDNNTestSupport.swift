import TestSupport
import Testing
import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// Helpers for comparing `OneDNNBackend` with `ReferenceBackend`.
enum OneDNNCheck {
    /// Relative error of `actual` against `expected`: `max|a − e| / max(max|e|, 1e-30)` (the largest deviation
    /// measured against the tensor's scale, so it is meaningful for values near zero too; NaN gives +∞).
    static func relativeError(_ actual: Tensor, _ expected: Tensor) -> Double {
        precondition(actual.shape == expected.shape, "relativeError: shapes \(actual.shape) and \(expected.shape)")
        return scaleRelativeDifference(actual.scalars, expected.scalars, floor: 1e-30).relative
    }

    /// Tolerance for every op comparison (the acceptance bound).
    static let tolerance = 1e-4

    /// Records the error and checks it against `tolerance`, naming the case.
    static func expectClose(_ actual: Tensor, _ expected: Tensor, _ what: String,
                            tolerance: Double = OneDNNCheck.tolerance,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs \(expected.shape)",
                sourceLocation: sourceLocation)
        guard actual.shape == expected.shape else { return }
        let err = relativeError(actual, expected)
        #expect(err <= tolerance, "\(what): relative error \(err) > \(tolerance)", sourceLocation: sourceLocation)
        worst.record(what, err)
        if printErrors { print("relative error \(what): \(err)") }
    }

    /// Set `ONEDNN_TEST_ERRORS=1` to print every measured error (used for docs/PERFORMANCE.md).
    static let printErrors = getenv("ONEDNN_TEST_ERRORS") != nil

    /// Largest error seen per op family (printed by the summary test for the docs).
    static let worst = WorstErrors()

    static func normal(_ shape: [Int], seed: UInt64, std: Float = 1, mean: Float = 0) -> Tensor {
        var rng = Xoshiro256(seed: seed)
        return Tensor.randomNormal(shape, mean: mean, std: std, using: &rng)
    }
}

/// Thread-safe record of the largest relative error per case family (the text before the first space).
final class WorstErrors: @unchecked Sendable {
    private var values: [String: Double] = [:]
    private let queue = DispatchQueueLite()
    func record(_ what: String, _ err: Double) {
        let family = String(what.split(separator: " ").first ?? "")
        queue.sync { values[family] = max(values[family] ?? 0, err) }
    }
    var summary: String { queue.sync { values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") } }
}

import Dispatch
/// Serial queue wrapper.
struct DispatchQueueLite {
    let q = DispatchQueue(label: "OneDNNTests.worst")
    func sync<R>(_ body: () -> R) -> R { q.sync(execute: body) }
}
