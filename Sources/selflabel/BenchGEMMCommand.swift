import ArgumentParser
import Tensors

/// `selflabel bench gemm`: float32 GEMM throughput from Swift through `cblas_sgemm`.
struct BenchGEMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm", abstract: "Time C = A·B (float32, cblas_sgemm); prints one JSON line per shape.")

    @Option(help: "Rows of A and C.") var m: Int = 1024
    @Option(help: "Columns of B and C.") var n: Int = 1024
    @Option(help: "Columns of A, rows of B.") var k: Int = 1024
    @Option(help: "Threads for OpenBLAS.") var threads: Int = ComputeThreads.defaultCount
    @Option(help: "Timed repetitions (the best and the mean are reported).") var repeats: Int = 10
    @Option(help: "Untimed warm-up repetitions.") var warmup: Int = 2
    @Option(help: "Seed of the random operands.") var seed: UInt64 = 0

    func validate() throws {
        guard m > 0, n > 0, k > 0 else { throw ValidationError("--m, --n and --k must be positive") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard repeats >= 1, warmup >= 0 else { throw ValidationError("--repeats >= 1 and --warmup >= 0 required") }
    }

    func run() throws {
        ComputeThreads.set(threads)
        let r = GEMMBenchmark.run(m: m, n: n, k: k, repeats: repeats, warmup: warmup, seed: seed)
        print(JSONLine(["what": "gemm_f32", "m": m, "n": n, "k": k, "threads": threads,
                        "iterations": repeats, "seconds_best": r.best, "seconds_mean": r.mean,
                        "gflops_best": r.gflopsBest, "gflops_mean": r.gflopsMean,
                        "peak_rss_mb": ResourceUsage.peakRSSMegabytes]).text)
    }
}
