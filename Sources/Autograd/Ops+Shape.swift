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
