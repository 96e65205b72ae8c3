import CMPI
import Foundation

/// The process group of an MPI job (`MPI_COMM_WORLD`), created by `MPIContext.start()` after `MPI_Init_thread`.
///
/// The communicator's error handler is `MPI_ERRORS_RETURN`: every call's return code is checked and a failure
/// is thrown as `DistributedError.mpiFailure` naming the rank and the function (the default handler would
/// abort without saying where). Calls may come from any thread: a lock lets one through at a time, as
/// `MPI_THREAD_SERIALIZED` requires (a progress thread may test a non-blocking reduction while the main thread
/// computes; a blocking call holds the lock until it returns).
public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    let comm: MPI_Comm
    private let serial = NSLock()

    /// Runs `body` (MPI calls) while no other thread is inside an MPI call of this process.
    func serialized<T>(_ body: () throws -> T) rethrows -> T {
        serial.lock()
        defer { serial.unlock() }
        return try body()
    }

    init(comm: MPI_Comm) throws {
        self.comm = comm
        var r: Int32 = 0, s: Int32 = 0
        try Self.check(MPI_Comm_set_errhandler(comm, cmpi_errors_return()), "MPI_Comm_set_errhandler", rank: -1)
        try Self.check(MPI_Comm_rank(comm, &r), "MPI_Comm_rank", rank: -1)
        try Self.check(MPI_Comm_size(comm, &s), "MPI_Comm_size", rank: Int(r))
        rank = Int(r)
        size = Int(s)
    }

    public func allreduce(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                          operation: ReductionOperation) throws {
        guard count > 0 else { return }
        let n = try int32(count)
        try check(serialized { MPI_Allreduce(cmpi_in_place(), buffer, n, Self.datatype(kind), Self.op(operation), comm) },
                  "MPI_Allreduce")
    }

    public func startAllreduce(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                               operation: ReductionOperation) throws -> PendingReduction {
        guard count > 0 else { return CompletedReduction() }
        let pending = MPIPendingReduction(communicator: self)
        let n = try int32(count)
        try check(serialized { MPI_Iallreduce(cmpi_in_place(), buffer, n, Self.datatype(kind), Self.op(operation),
                                              comm, &pending.request) }, "MPI_Iallreduce")
        return pending
    }

    public func allgather(_ buffer: UnsafeMutableRawPointer, counts: [Int], kind: CommunicatedScalarKind) throws {
        precondition(counts.count == size, "allgather: \(counts.count) counts for \(size) ranks")
        var c = [Int32](), d = [Int32]()
        var offset = 0
        for n in counts {
            c.append(try int32(n))
            d.append(try int32(offset))
            offset += n
        }
        try check(serialized { MPI_Allgatherv(cmpi_in_place(), 0, cmpi_byte(), buffer, c, d, Self.datatype(kind), comm) },
                  "MPI_Allgatherv")
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                          root: Int) throws {
        guard count > 0 else { return }
        let n = try int32(count)
        try check(serialized { MPI_Bcast(buffer, n, Self.datatype(kind), Int32(root), comm) }, "MPI_Bcast")
    }

    public func barrier() throws { try check(serialized { MPI_Barrier(comm) }, "MPI_Barrier") }

    /// Throws `DistributedError.mpiFailure` for a return code other than `MPI_SUCCESS`.
    func check(_ code: Int32, _ function: String) throws { try Self.check(code, function, rank: rank) }

    static func check(_ code: Int32, _ function: String, rank: Int) throws {
        guard code != cmpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        let message = MPI_Error_string(code, &text, &length) == cmpi_success()
            ? String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown error"
        throw DistributedError.mpiFailure(rank: rank, function: function, code: code, message: message)
    }

    private func int32(_ n: Int) throws -> Int32 {
        guard let v = Int32(exactly: n) else {
            throw DistributedError.unsupported("a collective over \(n) elements (MPI counts are 32-bit)")
        }
        return v
    }

    private static func datatype(_ kind: CommunicatedScalarKind) -> MPI_Datatype {
        switch kind {
        case .float32: cmpi_float()
        case .float64: cmpi_double()
        case .int32: cmpi_int32()
        case .int64: cmpi_int64()
        }
    }

    private static func op(_ operation: ReductionOperation) -> MPI_Op {
        switch operation {
        case .sum: cmpi_sum()
        case .max: cmpi_max()
        case .min: cmpi_min()
        }
    }
}

/// An `MPI_Iallreduce` in flight; `wait` and `test` may be called from different threads (they run under the
/// communicator's lock).
final class MPIPendingReduction: PendingReduction, @unchecked Sendable {
    let communicator: MPICommunicator
    var request: MPI_Request? = cmpi_request_null()

    init(communicator: MPICommunicator) { self.communicator = communicator }

    func wait() throws {
        let code: Int32 = communicator.serialized {
            request == cmpi_request_null() ? cmpi_success() : MPI_Wait(&request, cmpi_status_ignore())
        }
        try communicator.check(code, "MPI_Wait")
    }

    func test() throws -> Bool {
        var done: Int32 = 0
        let code: Int32 = communicator.serialized {
            if request == cmpi_request_null() { done = 1; return cmpi_success() }
            return MPI_Test(&request, &done, cmpi_status_ignore())
        }
        try communicator.check(code, "MPI_Test")
        return done != 0
    }
}
