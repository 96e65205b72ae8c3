/// A tensor held by a compute backend in its own memory layout (for example oneDNN's blocked `nChw16c`).
///
/// Backends that keep activations in a private layout return them wrapped in `KernelTensor.native` so that a
/// chain of kernels (conv → batch-norm → ReLU → pool) never converts back to NCHW in between. Anyone who needs
/// the numbers calls `dense()`, which converts to the public row-major NCHW layout (and may cache the result).
public protocol NativeTensor: AnyObject, Sendable {
    /// Logical shape in the public NCHW order (N, C, H, W) or whatever rank the value has.
    var shape: [Int] { get }
    /// The backend that owns the layout (its `name`), for diagnostics.
    var backendName: String { get }
    /// The value as a plain row-major `Tensor`.
    func dense() -> Tensor
}

/// The value exchanged with a `KernelBackend`: either a plain row-major `Tensor` or a backend-native value.
///
/// Every backend accepts both cases for every input: a backend that does not know a native value calls
/// `dense()` on it first. The reference backend always returns `.dense`.
public enum KernelTensor: @unchecked Sendable {
    /// A plain row-major tensor (the public layout).
    case dense(Tensor)
    /// A value in a backend's private layout.
    case native(any NativeTensor)

    /// Wraps a plain tensor.
    public init(_ tensor: Tensor) { self = .dense(tensor) }

    /// Logical shape (public axis order).
    public var shape: [Int] {
        switch self {
        case .dense(let t): return t.shape
        case .native(let n): return n.shape
        }
    }

    /// The value as a plain row-major tensor (free for `.dense`).
    public func dense() -> Tensor {
        switch self {
        case .dense(let t): return t
        case .native(let n): return n.dense()
        }
    }

    /// True for `.native` values.
    public var isNative: Bool {
        if case .native = self { return true }
        return false
    }
}
