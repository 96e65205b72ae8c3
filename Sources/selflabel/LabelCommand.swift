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
    @OptionGroup var solver: SinkhornCLIOptions
    @Option(help: "Output labels .npy (int64).") var out: String
    @Option(help: "Diagnostics JSON file.") var report: String?

    var options: SinkhornOptions { solver.options(scoreKind: probabilities ? .probabilities : .logits) }

    func run() throws {
        ComputeThreads.set(solver.threads)
        let t0 = ResourceUsage.monotonicSeconds
        let scores = try LabelRun.load(logits)
        let results: [SinkhornResult]
        do { results = try LabelRun.solve(scores, options: options, showProgress: true) } catch let e as SinkhornError {
            throw InputFileError(path: logits, reason: e.description)  // e.g. NaN scores: name the file
        }
        var labels: [Int64] = []
        labels.reserveCapacity(scores.heads * scores.samples)
        for r in results { labels.append(contentsOf: r.labels.map(Int64.init)) }
        let shape = scores.hasHeadAxis ? [scores.heads, scores.samples] : [scores.samples]
        try Npy.write(labels, shape: shape, to: out)
        let total = ResourceUsage.monotonicSeconds - t0
        var line = JSONLine(["what": "label", "logits": logits, "out": out, "heads": scores.heads,
                             "n": scores.samples, "k": scores.clusters, "lamb": solver.lamb, "tol": solver.tol,
                             "dtype": solver.dtype.rawValue, "storage": solver.storageName, "threads": solver.threads,
                             "accelerate": solver.accelerate, "truncation": solver.truncation.rawValue, "total_seconds": total,
                             "peak_rss_mb": ResourceUsage.peakRSSMegabytes])
        line.append("converged", results.allSatisfy { $0.diagnostics.converged })
        line.append("per_head", results.map { LabelRun.json($0.diagnostics) })
        if let report { try AtomicFile.write(to: report, text: line.text + "\n") }
        print(line.text)
        for (h, r) in results.enumerated() where !r.diagnostics.converged {
            let d = r.diagnostics
            if d.finalError.isFinite {
                LabelRun.standardError("warning: head \(h) hit the iteration cap \(solver.maxIters) with error \(d.finalError)\n")
            } else {
                let range = solver.dtype == .f64 ? "float64, as the reference loop's would; --dtype f32 rescales and does not"
                    : "the arithmetic"
                LabelRun.standardError("warning: head \(h) broke down numerically after \(d.iterations) iterations "
                    + "(non-finite error: the scalings left the range of \(range)); its labels are not usable\n")
            }
        }
    }
}

