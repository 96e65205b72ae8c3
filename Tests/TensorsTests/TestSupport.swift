import Tensors
import Testing

/// All multi-indices of `shape` in row-major order (the plain reference iteration).
func allIndices(_ shape: [Int]) -> [[Int]] {
    if shape.contains(0) { return [] }
    var result: [[Int]] = [[]]
    for extent in shape { result = result.flatMap { prefix in (0..<extent).map { prefix + [$0] } } }
    return result
}

/// Element of `t` for an output index of a broadcast result of rank `rank` (plain reference rule).
func broadcastElement(_ t: Tensor, _ index: [Int]) -> Float {
    let lead = index.count - t.rank
    let own = (0..<t.rank).map { t.shape[$0] == 1 ? 0 : index[$0 + lead] }
    return t.rank == 0 ? t.scalar : t[own]
}

extension Tensor {
    subscript(_ indices: [Int]) -> Float {
        var at = offset
        for (axis, i) in indices.enumerated() { at += i * strides[axis] }
        return storage.base[at]
    }
}

/// Random tensor with values in [-2, 2), seeded.
func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = Xoshiro256(seed: seed)
    return Tensor.randomUniform(shape, low: -2, high: 2, using: &rng)
}

/// Expects two float arrays to agree elementwise within `rtol·|b| + atol`; reports the first mismatch and the
/// caller's location.
func expectClose(_ a: [Float], _ b: [Float], rtol: Float = 1e-5, atol: Float = 1e-6, _ what: String = "",
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) elements", sourceLocation: sourceLocation)
    guard a.count == b.count else { return }
    for i in 0..<a.count {
        let ok = (a[i].isNaN && b[i].isNaN) || a[i] == b[i] || Swift.abs(a[i] - b[i]) <= rtol * Swift.abs(b[i]) + atol
        if !ok {
            Issue.record("\(what): element \(i): \(a[i]) vs expected \(b[i])", sourceLocation: sourceLocation)
            return
        }
    }
}
