import Distributed
import Foundation
import SelfLabelling
import Testing

/// Sinkhorn-Knopp split over ranks (`SinkhornKnoppSolver(options:communicator:)`) against the single-process
/// solve of the same scores: labels, cluster scalings and every diagnostic but the timings must be identical,
/// bit for bit. Ranks run as threads (`ThreadGroupCommunicator`); the same code over MPI is run by
/// `DistributedLabelTests` (`mpirun -np 2 selflabel label`).
@Suite("Sinkhorn-Knopp across ranks")
struct SinkhornDistributedTests {
    /// The diagnostics that do not measure time, as one comparable text.
    static func fingerprint(_ r: SinkhornResult) -> String {
        let d = r.diagnostics
        return "\(r.labels.hashValue) \(r.clusterScaling) it=\(d.iterations) conv=\(d.converged) err=\(d.errorHistory) "
            + "dev=\(d.maxMarginalDeviation) sizes=\(d.minClusterSize)-\(d.maxClusterSize) empty=\(d.emptyClusters) "
            + "bytes=\(d.storedMatrixBytes) \(d.method) kept=\(d.keptEntries) rebuilds=\(d.rebuilds) "
            + "full=\(d.fullPasses) f64=\(d.fellBackToFloat64) repaired=\(d.repairedBreakdown) "
            + "stalled=\(d.stalled) lambda=\(d.representableLambda)"
    }

    /// Three heads (N = 1300, K = 30: five row blocks) of different sharpness, solved cold and then warm-started
    /// from the cold scalings on perturbed scores, on `ranks` ranks; returns each rank's fingerprints.
    static func solveTwice(_ options: SinkhornOptions, ranks: Int, threads: Int) throws -> [[String]] {
        let (h, n, k) = (3, 1300, 30)
        let scores = [Float](testLogits(n: n, k: k, scale: 0.5, seed: 11) + testLogits(n: n, k: k, scale: 3, seed: 12)
                             + testLogits(n: n, k: k, scale: 9, seed: 13))
        let perturbed = zip(scores, testLogits(n: h * n, k: k, scale: 0.05, seed: 14)).map { $0 + $1 }
        var o = options
        o.threads = threads
        let opts = o
        return try ThreadGroupCommunicator.run(ranks: ranks) { world -> [String] in
            let solver = try SinkhornKnoppSolver(options: opts, communicator: world)
            let cold = try scores.withUnsafeBufferPointer {
                try solver.solveHeads(scores: $0, heads: h, samples: n, clusters: k)
            }
            let warm = try perturbed.withUnsafeBufferPointer {
                try solver.solveHeads(scores: $0, heads: h, samples: n, clusters: k,
                                      warmStarts: cold.map(\.clusterScaling))
            }
            return (cold + warm).map(fingerprint)
        }
    }

    static let cases: [(String, SinkhornOptions)] = [
        ("truncated (default)", SinkhornOptions()),
        ("dense f32", SinkhornOptions(truncation: .off)),
        ("dense bf16, anderson", SinkhornOptions(storage: .bf16, acceleration: .anderson, truncation: .off)),
        ("over-relaxation", SinkhornOptions(acceleration: .overRelaxation)),
        ("f64", SinkhornOptions(precision: .f64)),
        ("automatic cap, probabilities-free", SinkhornOptions(maxIterations: 0)),
    ]

    @Test("2 and 3 ranks give the single process's labels, scalings and diagnostics, cold and warm-started",
          arguments: cases.indices)
    func identical(index: Int) throws {
        let (name, options) = Self.cases[index]
        let single = try Self.solveTwice(options, ranks: 1, threads: 1)[0]
        for (ranks, threads) in [(2, 1), (3, 2)] {
            let split = try Self.solveTwice(options, ranks: ranks, threads: threads)
            for (rank, fingerprints) in split.enumerated() {
                #expect(fingerprints == single, "\(name): rank \(rank) of \(ranks) (\(threads) threads each)")
            }
        }
    }

    @Test("more ranks than row blocks: the ranks without rows still agree")
    func idleRanks() throws {
        let n = 300, k = 10  // two row blocks, five ranks
        let z = testLogits(n: n, k: k, scale: 4, seed: 3)
        let single = try z.withUnsafeBufferPointer { try SinkhornKnoppSolver().solve(scores: $0, samples: n, clusters: k) }
        let split = try ThreadGroupCommunicator.run(ranks: 5) { world in
            try z.withUnsafeBufferPointer {
                try SinkhornKnoppSolver(communicator: world).solve(scores: $0, samples: n, clusters: k)
            }
        }
        for r in split { #expect(Self.fingerprint(r) == Self.fingerprint(single)) }
        #expect(SinkhornKnoppSolver.rows(samples: n, rank: 0, ranks: 5).isEmpty)
        #expect(SinkhornKnoppSolver.rows(samples: n, rank: 2, ranks: 5) == 0..<256)
    }

    @Test("a bad score is reported by the rank that read it (global row); the others stop as peers")
    func badScore() throws {
        let n = 1300, k = 30
        var bad = testLogits(n: n, k: k, scale: 2, seed: 5)
        bad[1100 * k + 7] = .nan
        let z = bad
        let outcomes = try ThreadGroupCommunicator.run(ranks: 2) { world -> String in
            do {
                _ = try z.withUnsafeBufferPointer {
                    try SinkhornKnoppSolver(communicator: world).solve(scores: $0, samples: n, clusters: k)
                }
                return "solved"
            } catch { return "\(error)" }
        }
        #expect(outcomes == [DistributedError.peerFailed(rank: 1).description,
                             SinkhornError.nonFiniteScore(head: 0, row: 1100, column: 7, value: .nan).description])
    }

    @Test("the split empty-cluster repair across 2 and 3 ranks equals the single process's")
    func splitAcrossRanks() throws {
        // Labels using 3 of 12 clusters over 1,300 rows (five row blocks): nine clusters to fill from the largest,
        // its members ordered by their own rows' scores, read by the rank that owns each row.
        let n = 1300, k = 12
        let z = testLogits(n: n, k: k, scale: 2, seed: 8)
        let start = (0..<n).map { Int32(($0 * 7) % 3) }
        let logR = (0..<k).map { Double($0) * 0.1 - 0.5 }
        let options = SinkhornOptions(emptyClusters: .split)
        var single = start
        let filled = try z.withUnsafeBufferPointer {
            try SinkhornKnoppSolver(options: options).splitEmptyClusters(&single, scores: $0.baseAddress!, samples: n,
                                                                          clusters: k, logR: logR)
        }
        #expect(filled == 9 && Set(single).count == k)
        for ranks in [2, 3] {
            let split = try ThreadGroupCommunicator.run(ranks: ranks) { world -> [Int32] in
                var labels = start
                _ = try z.withUnsafeBufferPointer {
                    try SinkhornKnoppSolver(options: options, communicator: world)
                        .splitEmptyClusters(&labels, scores: $0.baseAddress!, samples: n, clusters: k, logR: logR)
                }
                return labels
            }
            for (rank, labels) in split.enumerated() { #expect(labels == single, "rank \(rank) of \(ranks)") }
        }
    }
}
