/// The communicator of a process that was not launched by `mpirun`/`srun`: rank 0 of 1. Every collective
/// returns at once with the buffer as it was (the reduction of one value is that value), and no MPI function
/// is ever called — a single-process run works exactly as it would without MPI.
public final class SingleProcessCommunicator: Communicator {
    /// The shared instance (it has no state).
    public static let shared = SingleProcessCommunicator()

    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduce(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                          operation: ReductionOperation) throws {}
    public func startAllreduce(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                               operation: ReductionOperation) throws -> PendingReduction { CompletedReduction() }
    public func allgather(_ buffer: UnsafeMutableRawPointer, counts: [Int], kind: CommunicatedScalarKind) throws {}
    public func broadcast(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                          root: Int) throws {}
    public func barrier() throws {}
}
