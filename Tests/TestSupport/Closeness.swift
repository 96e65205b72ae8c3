import Tensors
import Testing

// The comparisons every test target shares. Two meanings, two names:
// - `expectClose(_:_:rtol:floor:)`: the largest difference measured against the *scale of the expected values*,
//   `max_i |a_i − e_i| ≤ rtol · max(max_i |e_i|, floor)` — for layer outputs and gradients compared with PyTorch
//   or a plain reference, where elements near zero must not demand a tiny absolute error;
// - `expectAllClose(_:_:rtol:atol:)`: every element within its own bound, `|a_i − b_i| ≤ rtol·|b_i| + atol`
//   (NumPy's `allclose`), for kernels whose every element must be right on its own.
// Both report the count mismatch, the worst (or first) element's index and values, and point at the caller.

/// The worst element of a scale-relative comparison (see `scaleRelativeDifference`).
public struct ScaledDifference: Sendable {
    /// `max_i |a_i − e_i|`, or `+∞` when an element is NaN on one side only.
    public var largest: Double
    /// Index of that element (0 when the arrays are empty).
    public var index: Int
    /// `max(max_i |e_i|, floor)`: the scale the difference is measured against.
    public var scale: Double
    /// `largest / scale`.
    public var relative: Double { largest / scale }
}

/// `max_i |a_i − e_i|` and `max(max_i |e_i|, floor)` over the common prefix of two arrays; a NaN on one side
/// counts as an infinite difference (two NaNs agree).
public func scaleRelativeDifference<A: BinaryFloatingPoint, E: BinaryFloatingPoint>(
    _ actual: [A], _ expected: [E], floor: Double = 1e-6
) -> ScaledDifference {
    var largest = 0.0, index = 0, scale = floor
    for i in 0..<min(actual.count, expected.count) {
        let a = Double(actual[i]), e = Double(expected[i])
        scale = max(scale, abs(e))
        let d = a.isNaN && e.isNaN ? 0 : (a.isNaN || e.isNaN ? Double.infinity : abs(a - e))
        if d > largest { largest = d; index = i }
    }
    return ScaledDifference(largest: largest, index: index, scale: scale)
}

/// Expects `max_i |a_i − e_i| ≤ rtol · max(max_i |e_i|, floor)` (scale-relative); reports the counts, the worst
/// element and the bound at the caller's location.
public func expectClose<A: BinaryFloatingPoint, E: BinaryFloatingPoint>(
    _ actual: [A], _ expected: [E], rtol: Double, floor: Double = 1e-6, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) elements, expected \(expected.count)",
            sourceLocation: sourceLocation)
    let d = scaleRelativeDifference(actual, expected, floor: floor)
    let shown = actual.isEmpty || expected.isEmpty ? "" : " (actual \(actual[d.index]), expected \(expected[d.index]))"
    #expect(d.largest <= rtol * d.scale,
            "\(what): max |difference| \(d.largest) at \(d.index)\(shown), allowed \(rtol * d.scale)",
            sourceLocation: sourceLocation)
}

/// Tensor form of `expectClose(_:_:rtol:floor:)`: shapes must match first.
public func expectClose(_ actual: Tensor, _ expected: Tensor, rtol: Double, floor: Double = 1e-6, _ what: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape), expected \(expected.shape)",
            sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    expectClose(actual.scalars, expected.scalars, rtol: rtol, floor: floor, what, sourceLocation: sourceLocation)
}

/// Expects every element within its own bound, `|a_i − b_i| ≤ rtol·|b_i| + atol` (NumPy's `allclose`; equal
/// infinities and two NaNs agree); reports the first element outside it at the caller's location.
public func expectAllClose(_ a: [Float], _ b: [Float], rtol: Float = 1e-5, atol: Float = 1e-6, _ what: String = "",
                           sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) elements", sourceLocation: sourceLocation)
    guard a.count == b.count else { return }
    for i in 0..<a.count {
        let ok = (a[i].isNaN && b[i].isNaN) || a[i] == b[i] || Swift.abs(a[i] - b[i]) <= rtol * Swift.abs(b[i]) + atol
        if !ok {
            Issue.record("\(what): element \(i): \(a[i]) vs expected \(b[i]) (allowed \(rtol * Swift.abs(b[i]) + atol))",
                         sourceLocation: sourceLocation)
            return
        }
    }
}
