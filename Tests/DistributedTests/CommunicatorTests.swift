import Distributed
import Testing

/// The single-process side of `Distributed` (the MPI side runs under `mpirun` in `DistributedLabelTests`).
@Suite("Distributed: launch detection and the single-process communicator")
struct CommunicatorTests {
    @Test("a launcher is recognised by its environment variables, and only then",
          arguments: [(["OMPI_COMM_WORLD_SIZE": "2"], true), (["PMI_SIZE": "4"], true), (["PMIX_RANK": "0"], true),
                      ([:], false), (["OMPI_MCA_foo": "1", "SLURM_JOB_ID": "7"], false)])
    func launchDetection(environment: [String: String], launched: Bool) {
        #expect(MPIContext.isLaunched(environment: environment) == launched)
    }

    @Test("without a launcher the context is rank 0 of 1 and every collective leaves its buffer as it was")
    func singleProcess() throws {
        let world = try MPIContext.start(environment: [:])
        #expect(world.rank == 0 && world.size == 1 && world.isRoot)
        #expect(world is SingleProcessCommunicator)
        var sums: [Double] = [1.5, -2, 3e300]
        try world.allreduce(&sums, .sum)
        #expect(sums == [1.5, -2, 3e300])
        #expect(try world.allreduce(Int64(7), .max) == 7)
        var floats: [Float] = [0.25, 4]
        let pending = try floats.withUnsafeMutableBytes {
            try world.startAllreduce($0.baseAddress!, count: 2, kind: .float32, operation: .sum)
        }
        #expect(try pending.test())
        try pending.wait()
        #expect(floats == [0.25, 4])
        var parts: [Int32] = [5, 6, 7]
        try parts.withUnsafeMutableBufferPointer { try world.allgather($0.baseAddress!, counts: [3]) }
        #expect(parts == [5, 6, 7])
        try world.broadcast(&parts)
        try world.barrier()
        #expect(parts == [5, 6, 7])
    }

    @Test("errors name the rank and the failing call")
    func errorText() {
        let e = DistributedError.mpiFailure(rank: 1, function: "MPI_Allreduce", code: 5, message: "MPI_ERR_COUNT")
        #expect(e.description == "rank 1: MPI_Allreduce failed with MPI error 5: MPI_ERR_COUNT")
        #expect(DistributedError.peerFailed(rank: 3).description.contains("rank 3"))
    }
}

/// `ThreadGroupCommunicator`: the collectives' results, checked against what every rank contributed.
@Suite("Distributed: ranks as threads")
struct ThreadGroupCommunicatorTests {
    @Test("allreduce, allgather, broadcast and barrier give MPI's results on 1, 2 and 3 ranks", arguments: [1, 2, 3])
    func collectives(ranks: Int) throws {
        let results = try ThreadGroupCommunicator.run(ranks: ranks) { world -> [Double] in
            let r = Double(world.rank)
            var sums = [r, 2 * r + 0.5]
            try world.allreduce(&sums, .sum)
            let top = try world.allreduce(Int64(world.rank * 10), .max)
            let bottom = try world.allreduce(Float(world.rank) - 1, .min)
            // Rank q contributes q + 1 values q, starting at offset q(q + 1)/2.
            let counts = (0..<world.size).map { $0 + 1 }
            var gathered = [Int32](repeating: -1, count: counts.reduce(0, +))
            for i in 0...world.rank { gathered[world.rank * (world.rank + 1) / 2 + i] = Int32(world.rank) }
            try gathered.withUnsafeMutableBufferPointer { try world.allgather($0.baseAddress!, counts: counts) }
            var root = [world.rank == world.size - 1 ? 42.0 : -1]
            try world.broadcast(&root, root: world.size - 1)
            try world.barrier()
            return sums + [Double(top), Double(bottom), root[0]] + gathered.map(Double.init)
        }
        let n = Double(ranks)
        let expectedGather = (0..<ranks).flatMap { q in [Double](repeating: Double(q), count: q + 1) }
        for (rank, values) in results.enumerated() {
            #expect(values == [n * (n - 1) / 2, n * (n - 1) + 0.5 * n, (n - 1) * 10, -1, 42] + expectedGather,
                    "rank \(rank)")
        }
    }

    @Test("an error on one rank is rethrown after every rank has ended")
    func errorsPropagate() {
        #expect(throws: DistributedError.unsupported("x")) {
            _ = try ThreadGroupCommunicator.run(ranks: 2) { world in
                if world.rank == 1 { throw DistributedError.unsupported("x") }
                return world.rank
            }
        }
    }
}
