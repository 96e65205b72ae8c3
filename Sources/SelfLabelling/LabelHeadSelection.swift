/// Which heads a label optimisation re-solves (`--label-heads`).
///
/// - `all`: every head at every label step (the official ImageNet `main.py`, and SelfLabel's default);
/// - `cycle`: one head per label step, head `epoch mod hc`, the others keep their labels — the official
///   `cifar.py` (`nh = epoch % args.hc` in `opt_sk`, with `epoch` the 0-based epoch the step falls in, so
///   several steps within one epoch re-solve the same head).
public enum LabelHeadSelection: String, Codable, Sendable, CaseIterable {
    case all, cycle

    /// The heads (ascending) a label step in (0-based) `epoch` re-solves, of `heads` heads.
    public func heads(epoch: Int, of heads: Int) -> [Int] {
        precondition(heads >= 1 && epoch >= 0, "LabelHeadSelection: epoch \(epoch), heads \(heads)")
        switch self {
        case .all: return Array(0..<heads)
        case .cycle: return [epoch % heads]
        }
    }
}
