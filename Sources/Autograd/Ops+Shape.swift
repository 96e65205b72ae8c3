import Tensors

/// The same elements with a new shape (one extent may be −1), PyTorch `view`/`reshape`. Backward reshapes the
/// gradient back. Converts a backend-native value to the public layout (a chain boundary).
public func reshaped(_ x: Variable, to shape: [Int]) -> Variable {
    let y = x.value.reshaped(shape)
    let xShape = x.shape
    return x.tape.record(.dense(y), inputs: [x]) { gy in [.dense(gy.dense().reshaped(xShape))] }
}

/// Collapses axes `startAxis...` into one (PyTorch `flatten(start_dim)`), e.g. (N, C, H, W) → (N, C·H·W).
public func flattened(_ x: Variable, from startAxis: Int = 1) -> Variable {
    let s = x.shape
    precondition(startAxis >= 0 && startAxis < s.count, "flattened: axis \(startAxis) for shape \(s)")
    return reshaped(x, to: Array(s[..<startAxis]) + [s[startAxis...].reduce(1, *)])
}

/// Rows `rows` of the first axis, in that order (PyTorch `x[rows]` with an index list), e.g. (N, K) → (R, K).
/// Backward: each selected row's gradient is added into a zero gradient of x's shape (a row selected twice
/// receives both).
public func selectingRows(_ x: Variable, _ rows: [Int]) -> Variable {
    let xv = x.value
    let shape = xv.shape
    precondition(xv.rank >= 1, "selectingRows: needs at least one axis, got shape \(shape)")
    let n = shape[0], width = n == 0 ? 0 : xv.count / n
    for r in rows { precondition(r >= 0 && r < n, "selectingRows: row \(r) out of range for shape \(shape)") }
    var outShape = shape
    outShape[0] = rows.count
    var y = Tensor(uninitializedShape: outShape)
    xv.withUnsafeBufferPointer { src in
        y.withUnsafeMutableBufferPointer { dst in
            for (i, r) in rows.enumerated() { (dst.baseAddress! + i * width).update(from: src.baseAddress! + r * width, count: width) }
        }
    }
    return x.tape.record(.dense(y), inputs: [x]) { gy in
        let g = gy.dense()
        var gx = Tensor(shape: shape, repeating: 0)
        g.withUnsafeBufferPointer { src in
            gx.withUnsafeMutableBufferPointer { dst in
                for (i, r) in rows.enumerated() {
                    for j in 0..<width { dst[r * width + j] += src[i * width + j] }
                }
            }
        }
        return [.dense(gx)]
    }
}
