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
