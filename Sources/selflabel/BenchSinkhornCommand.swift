import ArgumentParser
import Distributed
import Foundation
import Interop
import SelfLabelling
import Tensors

/// `selflabel bench sinkhorn`: times the Sinkhorn-Knopp label optimisation; one JSON line. Under `mpirun -np R`
/// each rank generates (or reads) only its rows, and the line adds the ranks' communication per iteration.
struct BenchSinkhornCommand: ParsableCommand, DistributedCommand {
    static let configuration = CommandConfiguration(
        commandName: "sinkhorn",
        abstract: "Time Sinkhorn-Knopp labels (load → labels); one JSON line.",
        discussion: """
        With --logits it times exactly what `selflabel label` does on that file. Without, it generates \
        deterministic logits: standard normal x 3 (Box-Muller on Xoshiro256 seeded with (seed, chunk) for fixed \
        chunks of 2^20 values, so the values do not depend on the thread count); generation is not timed. \
        --family generates one of issue 17's families instead (SinkhornFamilySpec: flat rows N(0, sigma^2), \
        peaked rows N(0, 9), mixed, skewed winners, or their probabilities); --save-scores writes them for \
        scripts/reference/sinkhorn_families.py, and --compare-labels reports the agreement with its labels.
        """)

    @Option(help: "Samples N (ignored with --logits: the file's shape is used).") var n: Int = 200_000
    @Option(help: "Clusters K (ignored with --logits).") var k: Int = 3000
    @Option(help: "Heads H (ignored with --logits).") var heads: Int = 1
    @Option(help: "Seed of the generated logits.") var seed: UInt64 = 0
    @Option(help: "Time this float32 .npy (N, K) or (H, N, K) instead of generated logits.") var logits: String?
    @Option(help: "Generate this family instead: flat, mixed or peaked (one head).") var family: SinkhornScoreFamily?
    @Option(help: "--family mixed: the share of flat rows.") var fraction: Double = 0.6
    @Option(help: "--family mixed|peaked: skew of the peaked rows' winners (0: none; 3: a few clusters win most).")
    var skew: Double = 0
    @Option(help: "--family: sigma of the flat rows' logits.") var sigma: Double = 0.02
    @Flag(help: "Probabilities: --family generates the rows' softmax; with --logits the file holds probabilities.")
    var probabilities = false
    @Option(help: "Write the generated scores to this .npy (float32 N x K).") var saveScores: String?
    @Option(help: "Write the labels to this .npy (int64).") var saveLabels: String?
    @Option(help: "Report the share of labels equal to this .npy (int64, N).") var compareLabels: String?
    @OptionGroup var solver: SinkhornCLIOptions

    func validate() throws {
        if logits == nil { guard n > 0, k > 0, heads > 0 else { throw ValidationError("--n, --k, --heads must be > 0") } }
        if family != nil && (logits != nil || heads != 1) {
            throw ValidationError("--family generates one head; it cannot be combined with --logits or --heads")
        }
        if family == nil && saveScores != nil { throw ValidationError("--save-scores needs --family") }
        if family == nil && logits == nil && probabilities {
            throw ValidationError("--probabilities needs --family or --logits")
        }
        guard (0...1).contains(fraction), skew >= 0, sigma > 0 else {
            throw ValidationError("--fraction must be in [0, 1], --skew >= 0 and --sigma > 0")
        }
    }

    func run() throws {
        let world = try DistributedJob.start()
        try DistributedJob.run(world) { try run(MeasuredCommunicator(world)) }
    }

    private func run(_ world: MeasuredCommunicator) throws {
        if world.size > 1 && family != nil { throw DistributedError.unsupported("bench sinkhorn --family") }
        ComputeThreads.set(solver.threads)
        let options = solver.options(scoreKind: probabilities ? .probabilities : .logits)
        var generateSeconds = 0.0, loadSeconds = 0.0
        let results: [SinkhornResult]
        let (h, rows, cols): (Int, Int, Int)
        if let logits {
            let t0 = ResourceUsage.monotonicSeconds
            let scores = try LabelRun.load(logits)
            loadSeconds = ResourceUsage.monotonicSeconds - t0
            (h, rows, cols) = (scores.heads, scores.samples, scores.clusters)
            results = try LabelRun.solve(scores, options: options, showProgress: false, communicator: world)
        } else if world.size > 1 {  // only this rank's rows of each head are generated (and touched)
            let t0 = ResourceUsage.monotonicSeconds
            let mine = SinkhornKnoppSolver.rows(samples: n, rank: world.rank, ranks: world.size)
            let z = BenchSinkhornCommand.generate(heads: heads, rowLength: k, rows: n, only: mine, seed: seed)
            defer { z.deallocate() }
            generateSeconds = ResourceUsage.monotonicSeconds - t0
            (h, rows, cols) = (heads, n, k)
            results = try SinkhornKnoppSolver(options: options, communicator: world)
                .solveHeads(scores: UnsafeBufferPointer(z), heads: heads, samples: n, clusters: k)
        } else {
            let t0 = ResourceUsage.monotonicSeconds
            let z = family.map {
                SinkhornFamilySpec(family: $0, flatSigma: sigma, fraction: fraction, skew: skew,
                                   probabilities: probabilities, seed: seed).generate(samples: n, clusters: k)
            } ?? BenchSinkhornCommand.generate(count: heads * n * k, seed: seed)
            if let saveScores {
                try z.withUnsafeBytes { try Npy.write(raw: $0, dtype: .float32, shape: [n, k], to: saveScores) }
            }
            generateSeconds = ResourceUsage.monotonicSeconds - t0
            (h, rows, cols) = (heads, n, k)
            let solver = try SinkhornKnoppSolver(options: options)
            results = try z.withUnsafeBufferPointer {
                try solver.solveHeads(scores: $0, heads: heads, samples: n, clusters: k)
            }
        }
        let d = results.map(\.diagnostics)
        let labels = results.flatMap { $0.labels.map(Int64.init) }
        guard world.isRoot else { return }  // every rank holds the same results
        if let saveLabels { try Npy.write(labels, shape: [labels.count], to: saveLabels) }
        var agreement: Double? = nil
        if let compareLabels {
            let other = try NpyArray(contentsOf: compareLabels).int64s()
            guard other.count == labels.count else {
                throw ValidationError("--compare-labels \(compareLabels) holds \(other.count) labels, not \(labels.count)")
            }
            agreement = Double(zip(other, labels).filter { $0 == $1 }.count) / Double(max(1, labels.count))
        }
        let iterations = d.map(\.iterations).reduce(0, +)
        let prepare = d.map(\.prepareSeconds).reduce(0, +), iterate = d.map(\.iterateSeconds).reduce(0, +)
        let label = d.map(\.labelSeconds).reduce(0, +)
        var line = JSONLine([
            "what": "sinkhorn", "n": rows, "k": cols, "heads": h, "lamb": solver.lamb, "tol": solver.tol,
            "dtype": solver.dtype.rawValue, "storage": solver.storageName, "threads": solver.threads,
            "acceleration": solver.acceleration.rawValue, "logits": logits ?? "generated", "iterations": iterations, "converged": d.allSatisfy(\.converged),
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
            "sparse_passes": d.map(\.sparsePasses).reduce(0, +),
            "dense_rebuilds": d.map(\.denseRebuilds).reduce(0, +),
            "streamed_dense_rows": d.contains(where: \.streamedDenseRows),
            "family": family?.rawValue ?? (logits == nil ? "normal x 3" : "file"), "probabilities": probabilities,
        ])
        if family != nil { line.append("fraction", fraction); line.append("skew", skew); line.append("sigma", sigma) }
        if let agreement { line.append("agreement", agreement) }
        if world.size > 1 {  // rank 0's collectives (each rank makes the same calls)
            let perIteration = { (v: Double) in iterations > 0 ? v / Double(iterations) : 0 }
            line.append("ranks", world.size)
            line.append("collectives_per_iteration", perIteration(Double(world.calls)))
            line.append("communication_bytes_per_iteration", perIteration(Double(world.bytes)))
            line.append("communication_seconds_per_iteration", perIteration(world.seconds))
        }
        print(line.text)
    }

    /// Values per generator chunk.
    static let chunk = 1 << 20

    /// Standard normal x 3, from fixed chunks of 2^20 values each seeded with (seed, chunk index).
    static func generate(count: Int, seed: UInt64) -> [Float] {
        var z = [Float](repeating: 0, count: count)
        let chunks = (count + chunk - 1) / chunk
        z.withUnsafeMutableBufferPointer { buffer in
            let box = UnsafeSendable(buffer.baseAddress!)
            parallelChunks(chunks, minChunk: 1) { range in
                for c in range { fill(chunk: c, count: count, seed: seed, into: box.value) }
            }
        }
        return z
    }

    /// The same values as `generate` for `heads` × `rows` × `rowLength`, but only the chunks holding rows
    /// `only` of some head are written: the rest of the (untouched, so not resident) buffer is unspecified.
    /// The caller deallocates it.
    static func generate(heads: Int, rowLength k: Int, rows n: Int, only: Range<Int>,
                         seed: UInt64) -> UnsafeMutableBufferPointer<Float> {
        let count = heads * n * k
        let z = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        var chunks: [Int] = []
        for h in 0..<heads where !only.isEmpty {
            let first = (h * n + only.lowerBound) * k, last = (h * n + only.upperBound) * k - 1
            for c in (first / chunk)...(last / chunk) where chunks.last != c { chunks.append(c) }
        }
        let box = UnsafeSendable(z.baseAddress!)
        parallelChunks(chunks.count, minChunk: 1) { range in
            for i in range { fill(chunk: chunks[i], count: count, seed: seed, into: box.value) }
        }
        return z
    }

    /// Chunk `c` of `count` values: Box-Muller pairs on Xoshiro256 seeded with (seed, c).
    private static func fill(chunk c: Int, count: Int, seed: UInt64, into z: UnsafeMutablePointer<Float>) {
        var rng = Xoshiro256(seed: seed, UInt64(c))
        var i = c * chunk
        let end = min(count, i + chunk)
        while i < end {
            var u1 = rng.nextUniformDouble()
            while u1 <= 0 { u1 = rng.nextUniformDouble() }
            let u2 = rng.nextUniformDouble()
            let radius = (-2 * log(u1)).squareRoot() * 3
            z[i] = Float(radius * cos(2 * Double.pi * u2))
            if i + 1 < end { z[i + 1] = Float(radius * sin(2 * Double.pi * u2)) }
            i += 2
        }
    }
}
