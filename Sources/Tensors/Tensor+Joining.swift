/// Joining tensors: concatenation along an existing axis and stacking along a new one.
extension Tensor {
    /// Joins `tensors` along `axis`; all other extents must agree (`torch.cat`).
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "Tensor.concatenate: no tensors")
        let first = tensors[0]
        precondition(axis >= 0 && axis < first.rank, "Tensor.concatenate: axis \(axis) for rank \(first.rank)")
        for t in tensors {
            precondition(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == axis || t.shape[$0] == first.shape[$0] },
                         "Tensor.concatenate: shape \(t.shape) does not match \(first.shape) off axis \(axis)")
        }
        var shape = first.shape
        shape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        let out = Tensor(uninitializedShape: shape)
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let rowOut = shape[axis] * inner
        var column = 0
        for t in tensors {
            let c = t.contiguous()
            let run = t.shape[axis] * inner
            let src = c.storage.base + c.offset
            if run > 0 {
                for b in 0..<outer { (out.storage.base + b * rowOut + column).update(from: src + b * run, count: run) }
            }
            column += run
        }
        return out
    }

    /// Stacks equally shaped `tensors` along a new axis `axis` (`torch.stack`).
    public static func stack(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "Tensor.stack: no tensors")
        let shape = tensors[0].shape
        for t in tensors { precondition(t.shape == shape, "Tensor.stack: shape \(t.shape) differs from \(shape)") }
        return concatenate(tensors.map { $0.unsqueezed(at: axis) }, alongAxis: axis)
    }
}

extension Tensor {
    /// The rows `indices` of the first axis, in that order, as a new contiguous tensor (`x[indices]`).
    public func rows(_ indices: [Int]) -> Tensor {
        precondition(rank >= 1, "Tensor.rows: cannot index a scalar")
        let c = contiguous()
        let rowSize = shape[1...].reduce(1, *)
        let out = Tensor(uninitializedShape: [indices.count] + shape[1...])
        for (k, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[0], "Tensor.rows: index \(i) out of range for shape \(shape)")
            (out.storage.base + k * rowSize).update(from: c.storage.base + c.offset + i * rowSize, count: rowSize)
        }
        return out
    }
}
