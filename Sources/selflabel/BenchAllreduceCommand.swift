import ArgumentParser
import Distributed
import Foundation
import Tensors

/// `selflabel bench allreduce`: the collectives data-parallel training needs, timed and checked across the
/// ranks of `mpirun -np R` (in one process they return at once); one JSON line from rank 0.
struct BenchAllreduceCommand: ParsableCommand, DistributedCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Time and check float32 allreduce (blocking and non-blocking), broadcast and barrier; one JSON line.",
        discussion: """
        Rank r fills the buffer with (r + 1) * (i mod 7); the sum over R ranks must be R(R + 1)/2 * (i mod 7) \
        exactly (small integers are exact in float32), the broadcast must deliver rank 0's values. The bus \
        bandwidth is 2(R - 1)/R x bytes / seconds, the bytes a ring allreduce moves per rank.
        """)

    @Option(help: "Buffer size in MB (10^6 bytes), e.g. a model's gradients.") var megabytes: Double = 64
    @Option(help: "Timed repetitions (the median is reported) after one untimed warm-up.") var repeats: Int = 5

    func validate() throws {
        guard megabytes > 0, repeats >= 1 else { throw ValidationError("--megabytes must be > 0 and --repeats >= 1") }
    }

    func run() throws {
        let world = try DistributedJob.start()
        try DistributedJob.run(world) { try run(world) }
    }

    private func run(_ world: any Communicator) throws {
        let count = max(1, Int(megabytes * 1e6) / 4)
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        let r = world.size, mine = Float(world.rank + 1), total = Float(r * (r + 1) / 2)
        func fill(_ scale: Float) { for i in 0..<count { buffer[i] = scale * Float(i % 7) } }
        func check(_ what: String, _ scale: Float) throws {
            if let i = (0..<count).first(where: { buffer[$0] != scale * Float($0 % 7) }) {
                throw DistributedError.wrongResult(rank: world.rank, operation: what, index: i, value: Double(buffer[i]),
                                                   expected: Double(scale * Float(i % 7)))
            }
        }
        func median(_ body: () throws -> Void) throws -> Double {
            var times: [Double] = []
            for _ in 0...repeats {
                try world.barrier()
                let t0 = ResourceUsage.monotonicSeconds
                try body()
                times.append(ResourceUsage.monotonicSeconds - t0)
            }
            times.removeFirst()
            return times.sorted()[times.count / 2]
        }
        let raw = UnsafeMutableRawPointer(buffer.baseAddress!)
        var fillSeconds = 0.0
        func timedFill(_ scale: Float) { let t = ResourceUsage.monotonicSeconds; fill(scale); fillSeconds += ResourceUsage.monotonicSeconds - t }
        // Each timing includes refilling the buffer; the fill time is measured apart and subtracted.
        fillSeconds = 0
        let blockingTotal = try median {
            timedFill(mine)
            try world.allreduce(raw, count: count, kind: .float32, operation: .sum)
        }
        try check("allreduce", total)
        let fillEach = fillSeconds / Double(repeats + 1)
        let nonBlockingTotal = try median {
            fill(mine)
            try world.startAllreduce(raw, count: count, kind: .float32, operation: .sum).wait()
        }
        try check("non-blocking allreduce", total)
        let broadcast = try median {
            fill(world.isRoot ? 1 : 0)
            try world.broadcast(raw, count: count, kind: .float32, root: 0)
        }
        try check("broadcast", 1)
        let barrier = try median { try world.barrier() }
        guard world.isRoot else { return }
        let bytes = count * 4
        let allreduce = max(blockingTotal - fillEach, 0), nonBlocking = max(nonBlockingTotal - fillEach, 0)
        let ring = 2 * Double(r - 1) / Double(r) * Double(bytes)
        print(JSONLine(["what": "allreduce", "ranks": r, "bytes": bytes, "repeats": repeats,
                        "allreduce_seconds": allreduce, "nonblocking_allreduce_seconds": nonBlocking,
                        "broadcast_seconds": max(broadcast - fillEach, 0), "barrier_seconds": barrier,
                        "ring_bytes_per_rank": ring, "bus_gb_per_second": allreduce > 0 ? ring / allreduce / 1e9 : 0,
                        "fill_seconds": fillEach, "verified": true]).text)
    }
}
