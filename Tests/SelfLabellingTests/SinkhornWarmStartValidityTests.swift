import SelfLabelling
import Tensors
import Testing

@Suite struct SinkhornWarmStartValidityTests {
    /// A cluster the scores nearly rule out needs a scaling many orders of magnitude above the others; the
    /// returned scaling must still be a valid warm start (every entry finite and > 0), as the trainer feeds it
    /// back at the next label optimisation.
    @Test func starvedClusterGivesAUsableWarmStart() throws {
        var rng = Xoshiro256(seed: 4)
        var z = Tensor.randomNormal([60, 4], using: &rng)
        z.withUnsafeMutableBufferPointer { p in for n in 0..<60 { p[n * 4] -= 60 } }   // cluster 0: λ·60 = 1500 nats down
        let solver = try SinkhornKnoppSolver(options: SinkhornOptions(lambda: 25, maxIterations: 200))
        let first = try solver.solve(scores: z)
        #expect(first.clusterScaling.allSatisfy { $0.isFinite && $0 > 0 }, "\(first.clusterScaling)")
        let second = try solver.solve(scores: z, warmStart: first.clusterScaling)
        #expect(second.labels.count == 60)
    }
}
