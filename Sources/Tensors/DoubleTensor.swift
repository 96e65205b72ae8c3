/// A small float64 N-dimensional array: contiguous, row-major, value semantics (a Swift array underneath).
///
/// SelfLabel computes in float32 (`Tensor`); float64 is needed only for fidelity checks — the Sinkhorn-Knopp
/// `--dtype f64` mode that reproduces the reference's arithmetic, and float64 finite-difference references in
/// tests. Rather than making every kernel generic, this type carries float64 data with its shape and converts
/// to and from `Tensor`.
public struct DoubleTensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    /// Elements in row-major order.
    public var scalars: [Double]

    public init(shape: [Int], scalars: [Double]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "DoubleTensor: \(scalars.count) scalars for shape \(shape)")
        self.shape = shape
        self.scalars = scalars
    }

    public init(shape: [Int], repeating value: Double) {
        self.init(shape: shape, scalars: [Double](repeating: value, count: shape.reduce(1, *)))
    }

    /// Widens a float32 tensor exactly.
    public init(_ t: Tensor) { self.init(shape: t.shape, scalars: t.scalars.map(Double.init)) }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// Element at a multi-index.
    public subscript(indices: Int...) -> Double {
        get { scalars[flatIndex(indices)] }
        set { scalars[flatIndex(indices)] = newValue }
    }

    private func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "DoubleTensor: \(indices.count) indices for shape \(shape)")
        var at = 0
        for (axis, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[axis], "DoubleTensor: index \(indices) out of range for \(shape)")
            at = at * shape[axis] + i
        }
        return at
    }

    /// The same elements with a new shape.
    public func reshaped(_ newShape: [Int]) -> DoubleTensor { DoubleTensor(shape: newShape, scalars: scalars) }

    /// Rounds to float32.
    public var float32: Tensor { Tensor(shape: shape, scalars: scalars.map { Float($0) }) }
}
