import Foundation

/// A communicator that forwards every collective to `base` and counts them: calls, the bytes this rank
/// contributes (its buffer's size for an allreduce or broadcast, its own part for an allgather — not what the
/// transport moves on the wire, which depends on MPI's algorithm), and the seconds spent inside, waiting for
/// the slowest rank included. For `selflabel bench` under `mpirun`.
public final class MeasuredCommunicator: Communicator, @unchecked Sendable {
    /// The communicator that does the work.
    public let base: any Communicator
    /// Collectives so far.
    public private(set) var calls = 0
    /// Bytes contributed so far.
    public private(set) var bytes = 0
    /// Seconds spent in collectives so far.
    public private(set) var seconds = 0.0

    /// Counts the collectives made through it and forwards them to `base`.
    public init(_ base: any Communicator) { self.base = base }

    public var rank: Int { base.rank }
    public var size: Int { base.size }

    private func measure<T>(_ contributed: Int, _ body: () throws -> T) rethrows -> T {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer {
            seconds += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            calls += 1
            bytes += contributed
        }
        return try body()
    }

    public func allreduce(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                          operation: ReductionOperation) throws {
        try measure(count * kind.byteSize) {
            try base.allreduce(buffer, count: count, kind: kind, operation: operation)
        }
    }

    public func startAllreduce(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                               operation: ReductionOperation) throws -> PendingReduction {
        try measure(count * kind.byteSize) {
            try base.startAllreduce(buffer, count: count, kind: kind, operation: operation)
        }
    }

    public func allgather(_ buffer: UnsafeMutableRawPointer, counts: [Int], kind: CommunicatedScalarKind) throws {
        try measure(counts[rank] * kind.byteSize) { try base.allgather(buffer, counts: counts, kind: kind) }
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                          root: Int) throws {
        try measure(count * kind.byteSize) { try base.broadcast(buffer, count: count, kind: kind, root: root) }
    }

    public func barrier() throws { try measure(0) { try base.barrier() } }
}
