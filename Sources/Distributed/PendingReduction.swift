/// A non-blocking allreduce in flight (`Communicator.startAllreduce`): its buffer holds the result once
/// `wait()` has returned.
public protocol PendingReduction: AnyObject {
    /// Blocks until the reduction is complete (`MPI_Wait`). Waiting again returns at once.
    func wait() throws
    /// Whether the reduction is complete, without blocking (`MPI_Test`).
    func test() throws -> Bool
}

/// A reduction that was complete when it was started (one rank: nothing to combine).
final class CompletedReduction: PendingReduction {
    func wait() throws {}
    func test() throws -> Bool { true }
}
