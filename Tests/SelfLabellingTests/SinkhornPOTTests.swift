import Foundation
import TestSupport
import Testing
import Interop
import SelfLabelling
import Tensors

@Suite("Sinkhorn-Knopp against POT's ot.sinkhorn (committed fixtures)")
struct SinkhornPOTTests {
    static let cases: [(String, Double)] = [("pot_n500_k20_l10", 10), ("pot_n800_k40_l25", 25)]

    static func fixture(_ name: String) throws -> NpyArray {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures"))
        return try NpyArray(contentsOf: url.path)
    }

    @Test("labels and cluster scaling match POT", arguments: cases)
    func matchesPOT(_ c: (String, Double)) throws {
        let (name, lambda) = c
        let logits = try Self.fixture(name + "_logits").tensor()
        let potLabels = try Self.fixture(name + "_labels").int64s().map { Int32($0) }
        let potLogV = try Self.fixture(name + "_logv").doubles()
        // f64 run to a tight tolerance: the same fixed point as POT's converged plan.
        var tight = SinkhornOptions(lambda: lambda, tolerance: 1e-9, maxIterations: 100_000, precision: .f64)
        let exact = try SinkhornKnoppSolver(options: tight).solve(scores: logits)
        #expect(exact.labels == potLabels)
        #expect(exact.diagnostics.converged)
        for (ours, pot) in zip(exact.clusterScaling, potLogV) { #expect(abs(log(ours) - pot) < 1e-6) }
        // Default f32 run with the official tolerance: labels as POT's.
        tight = SinkhornOptions(lambda: lambda)
        let fast = try SinkhornKnoppSolver(options: tight).solve(scores: logits)
        let agree = agreement(fast.labels, potLabels)
        print("\(name): f32 default agreement with POT \(agree) after \(fast.diagnostics.iterations) iterations")
        #expect(agree >= 0.995)
    }
}

@Suite("Sinkhorn-Knopp on a memory-mapped .npy")
struct SinkhornMappedFileTests {
    @Test("releasing the file's pages after each pass changes nothing in the result")
    func releasePages() throws {
        let n = 5000, k = 200
        let z = testLogits(n: n, k: k, seed: 101)
        let dir = try temporaryFolder("sinkhorn")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/z.npy"
        try Npy.write(Tensor(shape: [n, k], scalars: z), to: path)
        let mapped = try NpyArray(contentsOf: path).tensor()
        var o = SinkhornOptions(threads: 2)
        let plain = try SinkhornKnoppSolver(options: o).solve(scores: mapped)
        o.releaseFileBackedScores = true
        let released = try SinkhornKnoppSolver(options: o).solve(scores: mapped)
        #expect(plain.labels == released.labels)
        #expect(plain.diagnostics.errorHistory == released.diagnostics.errorHistory)
        #expect(mapped.scalars == z)  // the mapping still reads the file's values
    }
}
