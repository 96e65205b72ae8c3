import ArgumentParser
import Foundation
import Interop
import SelfLabelling
import Tensors

/// `selflabel label`: pseudo-labels from saved scores by SeLa's Sinkhorn-Knopp optimisation.
struct LabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Equal-size cluster labels from scores (N, K) or (H, N, K) by Sinkhorn-Knopp (SeLa).",
        discussion: """
        Reads a float32 .npy (memory-mapped), writes int64 labels (N,) or (H, N) atomically, and optionally the \
        diagnostics as JSON. Stops by the official rule: every 10 iterations, sum_n |c_n/c_new_n - 1| <= tol.
        """)

    @Option(help: "Scores: float32 .npy of shape (N, K) or (H, N, K).") var logits: String
    @Flag(help: "The scores are probabilities P, not logits.") var probabilities = false
    @Option(help: "λ: the plan is P^λ.") var lamb: Double = 25
    @Option(help: "Tolerance of the official stopping rule.") var tol: Double = 0.1
    @Option(name: .customLong("max-iters"), help: "Iteration cap (reported if hit).") var maxIters: Int = 1000
    @Option(help: "Arithmetic: f32 (log-domain, fast) or f64 (the reference's, for fidelity).")
    var dtype: SinkhornPrecision = .f32
    @Option(help: "Dense method's stored matrix type (--dtype f32): f32, bf16 or f16 (f16 only for flat scores); unused by the truncated method.")
    var storage: SinkhornStorage?
    @Option(help: "Threads.") var threads: Int = ComputeThreads.defaultCount
    @Flag(help: "Over-relaxed iterations (adaptive ω; plain steps around each check of the official rule).")
    var accelerate = false
    @Option(help: "auto: iterate on the entries that can matter (logits, --dtype f32) and decide the stopping rule on the full matrix; off: always the whole stored matrix.")
    var truncation: SinkhornTruncation = .automatic
    @Option(help: "Output labels .npy (int64).") var out: String
    @Option(help: "Diagnostics JSON file.") var report: String?

    func validate() throws {
        if dtype == .f64, let s = storage, s != .f32 {
            throw ValidationError("--storage \(s.rawValue) needs --dtype f32 (f64 stores float64)")
        }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    var options: SinkhornOptions {
        SinkhornOptions(scoreKind: probabilities ? .probabilities : .logits, lambda: lamb, tolerance: tol,
                        maxIterations: maxIters, precision: dtype, storage: storage ?? .f32, threads: threads,
                        overRelaxation: accelerate, truncation: truncation)
    }

    func run() throws {
        ComputeThreads.set(threads)
        let t0 = ResourceUsage.monotonicSeconds
        let scores = try LabelRun.load(logits)
        let results = try LabelRun.solve(scores, options: options, showProgress: true)
        var labels: [Int64] = []
        labels.reserveCapacity(scores.heads * scores.samples)
        for r in results { labels.append(contentsOf: r.labels.map(Int64.init)) }
        let shape = scores.hasHeadAxis ? [scores.heads, scores.samples] : [scores.samples]
        try Npy.write(labels, shape: shape, to: out)
        let total = ResourceUsage.monotonicSeconds - t0
        var line = JSONLine(["what": "label", "logits": logits, "out": out, "heads": scores.heads,
                             "n": scores.samples, "k": scores.clusters, "lamb": lamb, "tol": tol,
                             "dtype": dtype.rawValue, "storage": dtype == .f64 ? "f64" : (storage ?? .f32).rawValue,
                             "threads": threads, "accelerate": accelerate, "truncation": truncation.rawValue, "total_seconds": total,
                             "peak_rss_mb": ResourceUsage.peakRSSMegabytes])
        line.append("converged", results.allSatisfy { $0.diagnostics.converged })
        line.append("per_head", results.map { LabelRun.json($0.diagnostics) })
        if let report { try AtomicFile.write(to: report, text: line.text + "\n") }
        print(line.text)
        for (h, r) in results.enumerated() where !r.diagnostics.converged {
            let d = r.diagnostics
            if d.finalError.isFinite {
                LabelRun.standardError("warning: head \(h) hit the iteration cap \(maxIters) with error \(d.finalError)\n")
            } else {
                let range = dtype == .f64 ? "float64, as the reference loop's would; --dtype f32 rescales and does not"
                    : "the arithmetic"
                LabelRun.standardError("warning: head \(h) broke down numerically after \(d.iterations) iterations "
                    + "(non-finite error: the scalings left the range of \(range)); its labels are not usable\n")
            }
        }
    }
}

extension SinkhornPrecision: ExpressibleByArgument {}
extension SinkhornStorage: ExpressibleByArgument {}
extension SinkhornTruncation: ExpressibleByArgument {}
