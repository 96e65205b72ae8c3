/// Times `Tensor.matmul` (float32 `cblas_sgemm`) on random operands: the numbers behind `selflabel bench gemm`.
public enum GEMMBenchmark {
    public struct Result: Sendable {
        /// Fastest and mean repetition, in seconds.
        public var best: Double, mean: Double
        /// 2·M·N·K / seconds, in 10^9 per second.
        public var gflopsBest: Double, gflopsMean: Double
    }

    public static func run(m: Int, n: Int, k: Int, repeats: Int, warmup: Int, seed: UInt64) -> Result {
        var rng = Xoshiro256(seed: seed)
        let a = Tensor.randomUniform([m, k], low: -1, high: 1, using: &rng)
        let b = Tensor.randomUniform([k, n], low: -1, high: 1, using: &rng)
        var c = Tensor.zeros([m, n])
        for _ in 0..<warmup { Tensor.gemm(a, transposeA: false, b, transposeB: false, into: &c) }
        var times: [Double] = []
        for _ in 0..<repeats {
            let t0 = ResourceUsage.monotonicSeconds
            Tensor.gemm(a, transposeA: false, b, transposeB: false, into: &c)
            times.append(ResourceUsage.monotonicSeconds - t0)
        }
        let flops = 2 * Double(m) * Double(n) * Double(k)
        let best = times.min()!, mean = times.reduce(0, +) / Double(times.count)
        return Result(best: best, mean: mean, gflopsBest: flops / best / 1e9, gflopsMean: flops / mean / 1e9)
    }
}
