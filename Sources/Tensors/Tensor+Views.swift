/// Views: reshape, slicing along the first axis, axis permutation. All share storage with `self`.
extension Tensor {
    /// The same elements with a new shape. One extent may be -1 (inferred). Free when `self` is contiguous,
    /// a copy otherwise.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var newShape = newShape
        if let unknown = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != unknown }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0,
                         "Tensor.reshaped: cannot infer -1 in \(newShape) for \(count) elements (shape \(shape))")
            newShape[unknown] = count / known
        }
        precondition(Tensor.elementCount(newShape) == count,
                     "Tensor.reshaped: shape \(shape) (\(count) elements) cannot become \(newShape)")
        let c = contiguous()
        return Tensor(storage: c.storage, offset: c.offset, shape: newShape)
    }

    /// Collapses all axes from `startAxis` on into one (PyTorch `flatten(start_dim)`).
    public func flattened(from startAxis: Int = 0) -> Tensor {
        precondition(startAxis >= 0 && startAxis <= Swift.max(rank - 1, 0), "Tensor.flattened: axis \(startAxis), rank \(rank)")
        if rank == 0 { return reshaped([1]) }
        return reshaped(Array(shape[..<startAxis]) + [shape[startAxis...].reduce(1, *)])
    }

    /// Rows `range` of the first axis (a view).
    public subscript(range: Range<Int>) -> Tensor {
        precondition(rank >= 1, "Tensor: cannot slice a scalar")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "Tensor: rows \(range) out of range for shape \(shape)")
        var newShape = shape
        newShape[0] = range.count
        return Tensor(storage: storage, offset: offset + range.lowerBound * strides[0], shape: newShape,
                      strides: strides)
    }

    /// Row `i` of the first axis, with that axis removed (a view).
    public func row(_ i: Int) -> Tensor {
        precondition(rank >= 1 && i >= 0 && i < shape[0], "Tensor.row: index \(i) out of range for shape \(shape)")
        return Tensor(storage: storage, offset: offset + i * strides[0], shape: Array(shape.dropFirst()),
                      strides: Array(strides.dropFirst()))
    }

    /// Axes reordered: result axis `k` is input axis `axes[k]` (a view; not contiguous in general).
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "Tensor.permuted: \(axes) is not a permutation of 0..<\(rank)")
        return Tensor(storage: storage, offset: offset, shape: axes.map { shape[$0] },
                      strides: axes.map { strides[$0] })
    }

    /// A matrix's transpose (a view).
    public func transposed() -> Tensor {
        precondition(rank == 2, "Tensor.transposed: needs rank 2, got shape \(shape)")
        return permuted([1, 0])
    }

    /// A new axis of extent 1 at `axis`.
    public func unsqueezed(at axis: Int) -> Tensor {
        precondition(axis >= 0 && axis <= rank, "Tensor.unsqueezed: axis \(axis) for rank \(rank)")
        var s = shape, st = strides
        s.insert(1, at: axis)
        st.insert(axis < rank ? strides[axis] * shape[axis] : 1, at: axis)
        return Tensor(storage: storage, offset: offset, shape: s, strides: st)
    }

    /// Removes axis `axis`, whose extent must be 1.
    public func squeezed(at axis: Int) -> Tensor {
        precondition(axis >= 0 && axis < rank && shape[axis] == 1,
                     "Tensor.squeezed: axis \(axis) of shape \(shape) is not of extent 1")
        var s = shape, st = strides
        s.remove(at: axis)
        st.remove(at: axis)
        return Tensor(storage: storage, offset: offset, shape: s, strides: st)
    }
}
