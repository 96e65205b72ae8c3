import ArgumentParser
import Foundation
import SelfLabelling
import Tensors

/// `selflabel bench sinkhorn`: times the Sinkhorn-Knopp label optimisation; one JSON line.
struct BenchSinkhornCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sinkhorn",
        abstract: "Time Sinkhorn-Knopp labels (load → labels); one JSON line.",
        discussion: """
        With --logits it times exactly what `selflabel label` does on that file. Without, it generates \
        deterministic logits: standard normal x 3 (Box-Muller on Xoshiro256 seeded with (seed, chunk) for fixed \
        chunks of 2^20 values, so the values do not depend on the thread count); generation is not timed.
        """)

    @Option(help: "Samples N (ignored with --logits: the file's shape is used).") var n: Int = 200_000
    @Option(help: "Clusters K (ignored with --logits).") var k: Int = 3000
    @Option(help: "Heads H (ignored with --logits).") var heads: Int = 1
    @Option(help: "Seed of the generated logits.") var seed: UInt64 = 0
    @Option(help: "Time this float32 .npy (N, K) or (H, N, K) instead of generated logits.") var logits: String?
    @OptionGroup var solver: SinkhornCLIOptions

    func validate() throws {
        if logits == nil { guard n > 0, k > 0, heads > 0 else { throw ValidationError("--n, --k, --heads must be > 0") } }
    }

    func run() throws {
        ComputeThreads.set(solver.threads)
        let options = solver.options()
        var generateSeconds = 0.0, loadSeconds = 0.0
        let results: [SinkhornResult]
        let (h, rows, cols): (Int, Int, Int)
        if let logits {
            let t0 = ResourceUsage.monotonicSeconds
            let scores = try LabelRun.load(logits)
            loadSeconds = ResourceUsage.monotonicSeconds - t0
            (h, rows, cols) = (scores.heads, scores.samples, scores.clusters)
            results = try LabelRun.solve(scores, options: options, showProgress: false)
        } else {
            let t0 = ResourceUsage.monotonicSeconds
            let z = BenchSinkhornCommand.generate(count: heads * n * k, seed: seed)
            generateSeconds = ResourceUsage.monotonicSeconds - t0
            (h, rows, cols) = (heads, n, k)
            let solver = try SinkhornKnoppSolver(options: options)
            results = try z.withUnsafeBufferPointer {
                try solver.solveHeads(scores: $0, heads: heads, samples: n, clusters: k)
            }
        }
        let d = results.map(\.diagnostics)
        let iterations = d.map(\.iterations).reduce(0, +)
        let prepare = d.map(\.prepareSeconds).reduce(0, +), iterate = d.map(\.iterateSeconds).reduce(0, +)
        let label = d.map(\.labelSeconds).reduce(0, +)
        print(JSONLine([
            "what": "sinkhorn", "n": rows, "k": cols, "heads": h, "lamb": solver.lamb, "tol": solver.tol,
            "dtype": solver.dtype.rawValue, "storage": solver.storageName, "threads": solver.threads,
            "accelerate": solver.accelerate, "logits": logits ?? "generated", "iterations": iterations, "converged": d.allSatisfy(\.converged),
            "final_error": d.last!.finalError, "generate_seconds": generateSeconds, "load_seconds": loadSeconds,
            "prepare_seconds": prepare, "iterate_seconds": iterate, "label_seconds": label,
            "total_seconds": loadSeconds + prepare + iterate + label,
            "seconds_per_iteration": iterations > 0 ? iterate / Double(iterations) : 0,
            "stored_matrix_bytes": d[0].storedMatrixBytes, "peak_rss_mb": ResourceUsage.peakRSSMegabytes,
            "cluster_size_min": d.map(\.minClusterSize).min()!, "cluster_size_max": d.map(\.maxClusterSize).max()!,
            "empty_clusters": d.map(\.emptyClusters).reduce(0, +),
            "max_marginal_deviation": d.map(\.maxMarginalDeviation).max()!,
            "method": d.map(\.method.rawValue).joined(separator: ","), "kept_entries": d.map(\.keptEntries).reduce(0, +),
            "rebuilds": d.map(\.rebuilds).reduce(0, +), "full_passes": d.map(\.fullPasses).reduce(0, +),
        ]).text)
    }

    /// Standard normal x 3, from fixed chunks of 2^20 values each seeded with (seed, chunk index).
    static func generate(count: Int, seed: UInt64) -> [Float] {
        var z = [Float](repeating: 0, count: count)
        let chunk = 1 << 20
        let chunks = (count + chunk - 1) / chunk
        z.withUnsafeMutableBufferPointer { buffer in
            let box = UnsafeSendable(buffer.baseAddress!)
            parallelChunks(chunks, minChunk: 1) { range in
                for c in range {
                    var rng = Xoshiro256(seed: seed, UInt64(c))
                    var i = c * chunk
                    let end = min(count, i + chunk)
                    while i < end {
                        var u1 = rng.nextUniformDouble()
                        while u1 <= 0 { u1 = rng.nextUniformDouble() }
                        let u2 = rng.nextUniformDouble()
                        let radius = (-2 * log(u1)).squareRoot() * 3
                        box.value[i] = Float(radius * cos(2 * Double.pi * u2))
                        if i + 1 < end { box.value[i + 1] = Float(radius * sin(2 * Double.pi * u2)) }
                        i += 2
                    }
                }
            }
        }
        return z
    }
}
