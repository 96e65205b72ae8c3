import Foundation

/// Ranks as threads of one process: `ThreadGroupCommunicator.run(ranks:)` starts one thread per rank, each with
/// its own communicator, and the collectives meet in shared memory. It follows MPI's rules (every rank calls
/// the same collectives in the same order) and gives the same results as `MPICommunicator`, with reductions
/// applied in rank order — so code written for MPI can be run and tested with several ranks without a launcher.
public final class ThreadGroupCommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public var size: Int { group.size }
    private let group: Group

    private init(rank: Int, group: Group) {
        self.rank = rank
        self.group = group
    }

    /// Runs `body(communicator)` on `ranks` threads at once and returns each rank's result (index = rank);
    /// the first error thrown by any rank is rethrown after every thread has ended.
    public static func run<T>(ranks: Int, _ body: @escaping @Sendable (ThreadGroupCommunicator) throws -> T) throws -> [T] {
        precondition(ranks >= 1, "ThreadGroupCommunicator.run: ranks must be >= 1, got \(ranks)")
        let group = Group(size: ranks)
        let results = ResultSlots<T>(count: ranks)
        let done = DispatchSemaphore(value: 0)
        for r in 0..<ranks {  // one thread each: a pool narrower than the group would deadlock in a collective
            let thread = Thread {
                results.set(r, Result { try body(ThreadGroupCommunicator(rank: r, group: group)) })
                done.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        for _ in 0..<ranks { done.wait() }
        return try results.values.map { try $0!.get() }
    }

    public func allreduce(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                          operation: ReductionOperation) throws {
        let bytes = count * kind.byteSize
        let all = group.exchange(rank: rank, Data(bytes: buffer, count: bytes))
        var acc = all[0]
        for r in 1..<all.count { acc = Self.combine(acc, all[r], kind: kind, operation: operation, count: count) }
        acc.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes) }
    }

    public func startAllreduce(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                               operation: ReductionOperation) throws -> PendingReduction {
        try allreduce(buffer, count: count, kind: kind, operation: operation)
        return CompletedReduction()
    }

    public func allgather(_ buffer: UnsafeMutableRawPointer, counts: [Int], kind: CommunicatedScalarKind) throws {
        precondition(counts.count == size, "allgather: \(counts.count) counts for \(size) ranks")
        let offset = counts[..<rank].reduce(0, +) * kind.byteSize
        let all = group.exchange(rank: rank, Data(bytes: buffer + offset, count: counts[rank] * kind.byteSize))
        var at = 0
        for part in all {
            part.withUnsafeBytes { if let p = $0.baseAddress { (buffer + at).copyMemory(from: p, byteCount: $0.count) } }
            at += part.count
        }
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, count: Int, kind: CommunicatedScalarKind,
                          root: Int) throws {
        let all = group.exchange(rank: rank, Data(bytes: buffer, count: count * kind.byteSize))
        all[root].withUnsafeBytes { if let p = $0.baseAddress { buffer.copyMemory(from: p, byteCount: $0.count) } }
    }

    public func barrier() throws { _ = group.exchange(rank: rank, Data()) }

    private static func combine(_ a: Data, _ b: Data, kind: CommunicatedScalarKind, operation: ReductionOperation,
                                count: Int) -> Data {
        func apply<T: Comparable & AdditiveArithmetic>(_: T.Type) -> Data {
            var out = [T](repeating: .zero, count: count)
            a.withUnsafeBytes { x in
                b.withUnsafeBytes { y in
                    for i in 0..<count {
                        let u = x.load(fromByteOffset: i * MemoryLayout<T>.stride, as: T.self)
                        let v = y.load(fromByteOffset: i * MemoryLayout<T>.stride, as: T.self)
                        out[i] = operation == .sum ? u + v : operation == .max ? Swift.max(u, v) : Swift.min(u, v)
                    }
                }
            }
            return out.withUnsafeBytes { Data($0) }
        }
        switch kind {
        case .float32: return apply(Float.self)
        case .float64: return apply(Double.self)
        case .int32: return apply(Int32.self)
        case .int64: return apply(Int64.self)
        }
    }

    /// The meeting point: each rank deposits its contribution; the last to arrive publishes all of them.
    private final class Group: @unchecked Sendable {
        let size: Int
        private let condition = NSCondition()
        private var parts: [Data?]
        private var arrived = 0, generation = 0
        private var published: [Data] = []

        init(size: Int) {
            self.size = size
            parts = [Data?](repeating: nil, count: size)
        }

        func exchange(rank: Int, _ part: Data) -> [Data] {
            condition.lock()
            defer { condition.unlock() }
            let mine = generation
            parts[rank] = part
            arrived += 1
            if arrived == size {
                published = parts.map { $0! }
                parts = [Data?](repeating: nil, count: size)
                arrived = 0
                generation += 1
                condition.broadcast()
            } else {
                while generation == mine { condition.wait() }
            }
            return published
        }
    }

    private final class ResultSlots<T>: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var values: [Result<T, Error>?]
        init(count: Int) { values = [Result<T, Error>?](repeating: nil, count: count) }
        func set(_ i: Int, _ r: Result<T, Error>) { lock.lock(); values[i] = r; lock.unlock() }
    }
}
