/// NumPy/PyTorch broadcasting rules: shapes are aligned at the last axis; an axis of extent 1 (or a missing
/// leading axis) stretches to the other operand's extent.
public enum Broadcasting {
    /// The broadcast shape of `a` and `b`, or nil when they are incompatible.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
        }
        return out
    }
}

extension Tensor {
    /// Strides that read `self` as if it had the (broadcast-compatible) shape `target`: 0 on stretched axes.
    func broadcastStrides(to target: [Int]) -> [Int] {
        let lead = target.count - rank
        precondition(lead >= 0, "broadcast: cannot broadcast \(shape) to \(target)")
        return (0..<target.count).map { i in
            if i < lead { return 0 }
            let extent = shape[i - lead]
            precondition(extent == target[i] || extent == 1, "broadcast: cannot broadcast \(shape) to \(target)")
            return extent == 1 && target[i] != 1 ? 0 : strides[i - lead]
        }
    }

    /// A view of `self` stretched to `target` (stride-0 axes; read-only use: materialise before writing).
    public func broadcast(to target: [Int]) -> Tensor {
        Tensor(storage: storage, offset: offset, shape: target, strides: broadcastStrides(to: target))
    }

    /// Sums `self` over the axes that broadcasting stretched, giving a tensor of shape `target`.
    /// This is the one place where broadcast gradients are summed back to an operand's shape.
    public func reduced(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        precondition(lead >= 0, "reduced(toShape:): \(shape) cannot reduce to \(target)")
        var axes: [Int] = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[i + lead] != 1 { axes.append(i + lead) }
        for i in 0..<target.count {
            precondition(target[i] == 1 || target[i] == shape[i + lead],
                         "reduced(toShape:): \(shape) cannot reduce to \(target)")
        }
        return sum(alongAxes: axes, keepingDimensions: true).reshaped(target)
    }
}
