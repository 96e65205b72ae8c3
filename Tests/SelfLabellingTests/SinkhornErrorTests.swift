import Testing
import SelfLabelling

@Suite("Sinkhorn-Knopp rejects bad input with specific errors")
struct SinkhornErrorTests {
    func run(_ z: [Float], n: Int, k: Int, _ options: SinkhornOptions = SinkhornOptions()) throws {
        let solver = try SinkhornKnoppSolver(options: options)
        _ = try z.withUnsafeBufferPointer { try solver.solve(scores: $0, samples: n, clusters: k) }
    }

    @Test("NaN and ±Inf name the first offending row and column")
    func nonFinite() throws {
        for bad: Float in [.nan, .infinity, -.infinity] {
            var z = testLogits(n: 300, k: 40, seed: 1)
            z[123 * 40 + 37] = bad  // found by the SIMD scan, in the last full vector's tail region
            z[200 * 40 + 3] = bad  // a later one must not be reported
            let error = #expect(throws: SinkhornError.self) { try run(z, n: 300, k: 40) }
            guard case let .nonFiniteScore(head, row, column, _)? = error else {
                Issue.record("wrong error \(String(describing: error))"); continue
            }
            #expect(head == 0 && row == 123 && column == 37)
        }
    }

    @Test("NaN in the second head names head 1")
    func nonFiniteHead() throws {
        var z = testLogits(n: 2 * 100, k: 10, seed: 2)
        z[100 * 10 + 5 * 10 + 2] = .nan
        let solver = try SinkhornKnoppSolver()
        let error = #expect(throws: SinkhornError.self) {
            _ = try z.withUnsafeBufferPointer { try solver.solveHeads(scores: $0, heads: 2, samples: 100, clusters: 10) }
        }
        guard case let .nonFiniteScore(head, row, column, value)? = error else {
            Issue.record("wrong error \(String(describing: error))"); return
        }
        #expect(head == 1 && row == 5 && column == 2 && value.isNaN)
    }

    @Test("empty problems, more clusters than samples, wrong counts")
    func shapes() throws {
        #expect(throws: SinkhornError.noSamples) { try run([], n: 0, k: 5) }
        #expect(throws: SinkhornError.noClusters) { try run([], n: 5, k: 0) }
        #expect(throws: SinkhornError.moreClustersThanSamples(clusters: 6, samples: 5)) {
            try run([Float](repeating: 0, count: 30), n: 5, k: 6)
        }
        #expect(throws: SinkhornError.shapeMismatch(count: 29, heads: 1, samples: 6, clusters: 5)) {
            try run([Float](repeating: 0, count: 29), n: 6, k: 5)
        }
    }

    @Test("options: λ ≤ 0, non-finite λ, tolerance, cap, threads, f64 with bf16")
    func options() throws {
        #expect(throws: SinkhornError.invalidLambda(0)) { _ = try SinkhornKnoppSolver(options: .init(lambda: 0)) }
        #expect(throws: SinkhornError.invalidLambda(-1)) { _ = try SinkhornKnoppSolver(options: .init(lambda: -1)) }
        #expect(throws: SinkhornError.invalidTolerance(0)) { _ = try SinkhornKnoppSolver(options: .init(tolerance: 0)) }
        #expect(throws: SinkhornError.invalidMaxIterations(-1)) {
            _ = try SinkhornKnoppSolver(options: .init(maxIterations: -1))
        }
        #expect(throws: SinkhornError.invalidThreadCount(0)) { _ = try SinkhornKnoppSolver(options: .init(threads: 0)) }
        #expect(throws: SinkhornError.self) { _ = try SinkhornKnoppSolver(options: .init(precision: .f64, storage: .bf16)) }
    }

    @Test("probabilities outside [0, 1] and all-zero rows")
    func probabilities() throws {
        var p = [Float](repeating: 0.1, count: 20 * 10)
        p[7 * 10 + 4] = -0.5
        let o = SinkhornOptions(scoreKind: .probabilities)
        #expect(throws: SinkhornError.invalidProbability(head: 0, row: 7, column: 4, value: -0.5)) { try run(p, n: 20, k: 10, o) }
        p[7 * 10 + 4] = 0.1
        for j in 0..<10 { p[3 * 10 + j] = 0 }
        #expect(throws: SinkhornError.zeroProbabilityRow(head: 0, row: 3)) { try run(p, n: 20, k: 10, o) }
    }

    @Test("warm start of the wrong length or with a zero entry")
    func warmStart() throws {
        let z = testLogits(n: 50, k: 5, seed: 3)
        let solver = try SinkhornKnoppSolver()
        #expect(throws: SinkhornError.invalidWarmStart(expectedCount: 5, count: 4, badIndex: nil)) {
            _ = try z.withUnsafeBufferPointer { try solver.solve(scores: $0, samples: 50, clusters: 5, warmStart: [1, 1, 1, 1]) }
        }
        #expect(throws: SinkhornError.invalidWarmStart(expectedCount: 5, count: 5, badIndex: 2)) {
            _ = try z.withUnsafeBufferPointer {
                try solver.solve(scores: $0, samples: 50, clusters: 5, warmStart: [1, 1, 0, 1, 1])
            }
        }
    }

    @Test("memory planning refuses a problem that cannot fit and names the storage that would")
    func memory() throws {
        let n = 1000, k = 64
        let dense = SinkhornOptions(truncation: .off, denseRows: .stored)
        let plan32 = SinkhornMemoryPlan(samples: n, clusters: k, options: dense)
        let plan16 = SinkhornMemoryPlan(samples: n, clusters: k, options: SinkhornOptions(storage: .bf16, truncation: .off))
        #expect(plan32.matrixBytes == n * k * 4 && plan16.matrixBytes == n * k * 2)
        #expect(plan32.truncatedBytes == nil && plan32.totalBytes == plan32.matrixBytes + plan32.workBytes)
        let z = testLogits(n: n, k: k, seed: 4)
        let between = (plan32.totalBytes + plan16.totalBytes) / 2
        #expect(throws: SinkhornError.insufficientMemory(needed: plan32.totalBytes, available: between,
                                                         fittingStorage: .bf16)) {
            var o = dense
            o.availableMemoryBytes = between
            try run(z, n: n, k: k, o)
        }
        #expect(throws: SinkhornError.insufficientMemory(needed: plan32.totalBytes, available: 1000,
                                                         fittingStorage: nil)) {
            var o = dense
            o.availableMemoryBytes = 1000
            try run(z, n: n, k: k, o)
        }
        // A streamed dense matrix needs no matrix memory.
        let streamed = SinkhornOptions(truncation: .off, denseRows: .streamed)
        let planS = SinkhornMemoryPlan(samples: n, clusters: k, options: streamed)
        #expect(planS.matrixBytes == 0 && planS.totalBytes == planS.workBytes)
        var fits = streamed
        fits.availableMemoryBytes = planS.totalBytes
        try run(z, n: n, k: k, fits)
        // The truncated method plans for its worst case (one eighth of the entries, 6 bytes each).
        let planT = SinkhornMemoryPlan(samples: n, clusters: k, options: SinkhornOptions())
        #expect(planT.truncatedBytes.map { $0 >= n * k / 8 * 6 && $0 < plan16.matrixBytes } == true)
        #expect(throws: SinkhornError.insufficientMemory(needed: planT.totalBytes, available: 1000,
                                                         fittingStorage: nil)) {
            try run(z, n: n, k: k, SinkhornOptions(availableMemoryBytes: 1000))
        }
        try run(z, n: n, k: k, SinkhornOptions(availableMemoryBytes: planT.totalBytes))
        let message = SinkhornError.insufficientMemory(needed: 10, available: 5, fittingStorage: .bf16).description
        #expect(message == "not enough memory: needs 10 bytes, 5 available; storage bf16 would fit")
        #expect(SinkhornMemoryPlan.systemAvailableBytes().map { $0 > 0 } ?? true)
    }
}
