/// Problems in a forward pass that the data, not the program, can cause.
public enum AutogradError: Error, Equatable, CustomStringConvertible {
    /// Training-mode batch norm saw only one value per channel (N·H·W = 1), so the batch variance is
    /// undefined; PyTorch raises "Expected more than 1 value per channel when training" in the same case.
    case batchNormNeedsMoreThanOneValue(inputShape: [Int])
    /// A class index outside 0..<classes for cross-entropy.
    case targetOutOfRange(target: Int, row: Int, classes: Int)
    /// Number of targets does not match the number of logit rows.
    case targetCountMismatch(targets: Int, rows: Int)

    public var description: String {
        switch self {
        case .batchNormNeedsMoreThanOneValue(let shape):
            return "batch norm in training mode needs more than 1 value per channel, got input of shape \(shape)"
        case .targetOutOfRange(let t, let row, let k):
            return "cross-entropy target \(t) in row \(row) is outside 0..<\(k)"
        case .targetCountMismatch(let t, let rows):
            return "cross-entropy: \(t) targets for \(rows) rows of logits"
        }
    }
}
