/// An ordered choice of kernel backends, always ending with the reference backend.
///
/// `Kernels(preferring: [fast])` asks `fast` first and falls back to `ReferenceBackend` for every op `fast`
/// declines. It is a plain value passed explicitly (autograd keeps it on its `Tape`), so two backends can be
/// compared side by side in one process; there is no global backend setting.
public struct Kernels: Sendable {
    /// Backends in the order they are asked; the last is always a `ReferenceBackend`.
    public let backends: [any KernelBackend]

    /// Preferred backends first, then the reference backend.
    public init(preferring preferred: [any KernelBackend]) {
        backends = preferred + [ReferenceBackend.shared]
    }

    /// Only the reference backend.
    public static var reference: Kernels { Kernels(preferring: []) }

    /// Names of the backends in order, e.g. `["onednn", "reference"]`.
    public var names: [String] { backends.map(\.name) }

    /// The result of the first backend that accepts `body`, together with that backend (so a backward can go
    /// to the same backend). The reference backend accepts everything, so this never fails.
    public func first<R>(_ body: (any KernelBackend) -> R?) -> (result: R, backend: any KernelBackend) {
        for b in backends {
            if let r = body(b) { return (r, b) }
        }
        preconditionFailure("Kernels: no backend (\(names)) accepted the op; the reference backend must accept all")
    }

    /// The result of the first backend that accepts `body`.
    public func run<R>(_ body: (any KernelBackend) -> R?) -> R { first(body).result }
}
