/// Element types the collectives move (the MPI datatypes `MPI_FLOAT`, `MPI_DOUBLE`, `MPI_INT32_T`,
/// `MPI_INT64_T`).
public enum CommunicatedScalarKind: Sendable {
    case float32, float64, int32, int64

    /// Bytes per element.
    public var byteSize: Int { self == .float32 || self == .int32 ? 4 : 8 }
}

/// How an allreduce combines the ranks' values element by element.
public enum ReductionOperation: Sendable {
    /// Sum (`MPI_SUM`). Floating-point sums may group the ranks' values in any order: results can differ in the
    /// last bits between rank counts. Where bit-identical results across rank counts matter, gather the parts
    /// (`allgather`) and add them in a fixed order instead.
    case sum
    /// Maximum (`MPI_MAX`): exact, independent of the order.
    case max
    /// Minimum (`MPI_MIN`): exact, independent of the order.
    case min
}

/// A group of cooperating processes (ranks 0 ..< size) and the collective operations SelfLabel needs: the
/// process group of an `mpirun`/`srun` job (`MPICommunicator`), or a single process (`SingleProcessCommunicator`,
/// where every collective returns at once and nothing is linked at run time).
///
/// Every rank must call the same collectives in the same order with matching sizes (MPI's rule). Errors are
/// thrown as `DistributedError`; a rank that cannot go on should end the job with `MPIContext.abort` so that
/// no other rank waits forever in a collective.
public protocol Communicator: AnyObject, Sendable {
    /// This process's rank, 0 ..< size.
    var rank: Int { get }
    /// Number of ranks.
    var size: Int { get }
    /// Replaces `count` elements at `buffer` on every rank by their element-wise reduction over all ranks.
    func allreduce(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                   operation: ReductionOperation) throws
    /// Starts an allreduce that runs while the caller computes (`MPI_Iallreduce`); `buffer` must stay valid
    /// and untouched until the returned reduction is waited for.
    func startAllreduce(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                        operation: ReductionOperation) throws -> PendingReduction
    /// In-place gather to every rank: rank r's `counts[r]` elements lie at element offset
    /// `counts[0] + … + counts[r−1]` of `buffer` on entry; on return every rank holds every rank's part there.
    func allgather(_ buffer: UnsafeMutableRawPointer, counts: [Int], kind: CommunicatedScalarKind) throws
    /// Copies `count` elements at `buffer` from rank `root` to every rank.
    func broadcast(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind, root: Int) throws
    /// Returns when every rank has called it.
    func barrier() throws
}

/// Swift element types with a `CommunicatedScalarKind`.
public protocol CommunicatedScalar {
    /// The element type the collectives use for `Self`.
    static var communicatedKind: CommunicatedScalarKind { get }
}

extension Float: CommunicatedScalar { public static var communicatedKind: CommunicatedScalarKind { .float32 } }
extension Double: CommunicatedScalar { public static var communicatedKind: CommunicatedScalarKind { .float64 } }
extension Int32: CommunicatedScalar { public static var communicatedKind: CommunicatedScalarKind { .int32 } }
extension Int64: CommunicatedScalar { public static var communicatedKind: CommunicatedScalarKind { .int64 } }
extension Int: CommunicatedScalar {  // 64-bit on every platform SelfLabel builds for
    public static var communicatedKind: CommunicatedScalarKind { MemoryLayout<Int>.size == 8 ? .int64 : .int32 }
}

extension Communicator {
    /// Whether this is the job's first rank (the one that writes outputs and shows progress).
    public var isRoot: Bool { rank == 0 }

    /// Element-wise reduction of `values` over all ranks, in place.
    public func allreduce<T: CommunicatedScalar>(_ values: inout [T], _ operation: ReductionOperation) throws {
        if size == 1 || values.isEmpty { return }
        try values.withUnsafeMutableBytes {
            try allreduce($0.baseAddress!, count: $0.count / MemoryLayout<T>.stride, kind: T.communicatedKind,
                          operation: operation)
        }
    }

    /// The reduction of one value over all ranks.
    public func allreduce<T: CommunicatedScalar>(_ value: T, _ operation: ReductionOperation) throws -> T {
        var v = [value]
        try allreduce(&v, operation)
        return v[0]
    }

    /// In-place gather of typed elements (see `allgather(_:counts:kind:)`).
    public func allgather<T: CommunicatedScalar>(_ buffer: UnsafeMutablePointer<T>, counts: [Int]) throws {
        if size == 1 { return }
        try allgather(UnsafeMutableRawPointer(buffer), counts: counts, kind: T.communicatedKind)
    }

    /// Copies `values` from rank `root` to every rank (the count must already agree).
    public func broadcast<T: CommunicatedScalar>(_ values: inout [T], root: Int = 0) throws {
        if size == 1 || values.isEmpty { return }
        try values.withUnsafeMutableBytes {
            try broadcast($0.baseAddress!, count: $0.count / MemoryLayout<T>.stride, kind: T.communicatedKind,
                          root: root)
        }
    }
}
