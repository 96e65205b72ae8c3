import ArgumentParser
import Foundation
import SelfLabelling
import Tensors

/// `selflabel bench label-pass`: the memory-bounded label optimisation on synthetic features; JSON lines.
struct BenchLabelPassCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label-pass",
        abstract: "Time the label optimisation from stored features (no network): memory plan, per-head GEMM and Sinkhorn-Knopp; JSON lines.",
        discussion: """
        Generates N × D features (uniform in [0, 1), seeded per row) and HC heads Linear(D, K) with normal \
        weights (logits of standard deviation about 1.5), stores the features as `selflabel train` would (RAM or \
        a spill file in --exp, by the printed plan), then for each head computes its N × K scores by GEMMs of \
        256 rows and solves them (λ, tolerance 0.1, float32, Anderson, automatic cap and truncation: the training \
        defaults). Prints the plan, one line per head (GEMM and solve seconds, iterations, peak RSS) and a summary.
        """)

    @Option(help: "Samples N.") var n: Int = 100_000
    @Option(help: "Feature dimension D.") var dim: Int = 4096
    @Option(help: "Heads.") var hc: Int = 1
    @Option(help: "Clusters per head K.") var ncl: Int = 3000
    @Option(help: "Sinkhorn-Knopp λ.") var lamb: Double = 25
    @Option(help: "Stored features: f32 or bf16 (default: f32 unless only bf16 fits).") var features: String?
    @Option(help: "RAM budget in GB (default: 3/4 of the available memory).") var memory: Double?
    @Option(help: "Folder for spill files, created if missing (default: the current folder).") var exp: String = "."
    @Option(help: "Threads.") var threads: Int = ComputeThreads.defaultCount

    func validate() throws {
        guard n > 0, dim > 0, hc > 0, ncl >= 2, ncl <= n else {
            throw ValidationError("--n, --dim and --hc must be positive and 2 <= --ncl <= --n")
        }
        if let features, LabelPassFeatureElement(rawValue: features) == nil {
            throw ValidationError("--features must be f32 or bf16, got \(features)")
        }
        if let memory { guard memory > 0 else { throw ValidationError("--memory must be positive GB, got \(memory)") } }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        try ExperimentFolder.prepare(exp)  // as train does: the plan's disk check needs the folder to exist
        ComputeThreads.set(threads)
        let options = SinkhornOptions(lambda: lamb, tolerance: 0.1, maxIterations: 0, precision: .f32, storage: .f32,
                                      threads: threads, acceleration: .anderson, emptyClusters: .split)
        let started = ResourceUsage.monotonicSeconds
        var heads: [LabelPassBenchmark.Head] = []
        var plan: LabelPassMemoryPlan?
        var generateSeconds = 0.0
        try LabelPassBenchmark.run(
            samples: n, dimension: dim, heads: hc, clusters: ncl, element: features.flatMap(LabelPassFeatureElement.init),
            budgetBytes: memory.map { Int($0 * 1e9) }, folder: exp, options: options,
            planned: { p in
                plan = p
                emit(JSONLine(["what": "label-pass-plan", "plan": p.description, "feature_bytes": p.featureBytes,
                                "score_bytes": p.scoreBytes, "solver_bytes": p.solverBytes, "budget_bytes": p.budget,
                                "features_spilled": p.featuresSpilled, "scores_spilled": p.scoresSpilled,
                                "spill_bytes": p.spillBytes, "element": p.element.rawValue]))
            },
            generated: { generateSeconds = $0 },
            headDone: { h in
                heads.append(h)
                emit(JSONLine(["what": "label-pass-head", "head": h.head, "gemm_seconds": h.scoresSeconds,
                                "solve_seconds": h.solveSeconds, "iterations": h.iterations, "method": h.method,
                                "peak_rss_mb": h.peakRSSMegabytes]))
            })
        let total = ResourceUsage.monotonicSeconds - started
        let perHead = heads.map { $0.scoresSeconds + $0.solveSeconds }
        emit(JSONLine([
            "what": "label-pass", "n": n, "dim": dim, "hc": hc, "ncl": ncl, "lamb": lamb, "threads": threads,
            "element": plan?.element.rawValue ?? "", "spill_bytes": plan?.spillBytes ?? 0,
            "generate_seconds": generateSeconds, "seconds": total,
            "seconds_per_head": perHead.reduce(0, +) / Double(max(1, perHead.count)),
            "gemm_seconds_per_head": heads.map(\.scoresSeconds).reduce(0, +) / Double(max(1, heads.count)),
            "solve_seconds_per_head": heads.map(\.solveSeconds).reduce(0, +) / Double(max(1, heads.count)),
            "peak_rss_mb": ResourceUsage.peakRSSMegabytes,
        ]))
    }

    /// One JSON line on standard output at once (unbuffered: a long run shows each head as it finishes).
    private func emit(_ line: JSONLine) {
        FileHandle.standardOutput.write(Data((line.text + "\n").utf8))
    }
}
