import ArgumentParser
import Distributed
import Foundation
import Interop
import SelfLabelling
import Tensors

/// `selflabel label`: pseudo-labels from saved scores by SeLa's Sinkhorn-Knopp optimisation. Under `mpirun -np R`
/// each rank reads its own rows of every head and rank 0 writes the labels: the same file as one process writes.
struct LabelCommand: ParsableCommand, DistributedCommand {
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
        let world = try DistributedJob.start()
        try DistributedJob.run(world) { try run(world) }
    }

    private func run(_ world: any Communicator) throws {
        ComputeThreads.set(solver.threads)
        let t0 = ResourceUsage.monotonicSeconds
        let outputs = LabelOutputs(labels: out, report: report)
        if world.isRoot { try outputs.check(input: logits) }  // before the solve, which takes minutes at ImageNet scale
        let scores = try LabelRun.load(logits)
        let results: [SinkhornResult]
        do {
            results = try LabelRun.solve(scores, options: options, showProgress: world.isRoot, communicator: world)
        } catch let e as SinkhornError where e.concernsScores {
            throw InputFileError(path: logits, reason: e.description)  // e.g. NaN scores: name the file
        }
        for (h, r) in results.enumerated() { try r.requireUsable(head: h, options: options) }
        guard world.isRoot else { return }  // every rank holds the same labels; rank 0 writes them
        var labels: [Int64] = []
        labels.reserveCapacity(scores.heads * scores.samples)
        for r in results { labels.append(contentsOf: r.labels.map(Int64.init)) }
        let shape = scores.hasHeadAxis ? [scores.heads, scores.samples] : [scores.samples]
        let total = ResourceUsage.monotonicSeconds - t0
        var line = JSONLine(["what": "label", "logits": logits, "out": out, "heads": scores.heads,
                             "n": scores.samples, "k": scores.clusters, "lamb": solver.lamb, "tol": solver.tol,
                             "dtype": solver.dtype.rawValue, "storage": solver.storageName, "threads": solver.threads,
                             "acceleration": solver.acceleration.rawValue, "truncation": solver.truncation.rawValue, "total_seconds": total,
                             "peak_rss_mb": ResourceUsage.peakRSSMegabytes])
        if world.size > 1 { line.append("ranks", world.size) }
        line.append("converged", results.allSatisfy { $0.diagnostics.converged })
        line.append("degenerate_labels", results.contains { $0.diagnostics.degenerateLabels })
        line.append("per_head", results.map { LabelRun.json($0.diagnostics) })
        try outputs.write(labels: labels, shape: shape, reportText: line.text + "\n")
        print(line.text)
        for (h, r) in results.enumerated() {
            let d = r.diagnostics
            if !d.converged {
                let cap = d.stalled ? "the automatic iteration cap (the error stopped falling)"
                    : "the iteration cap \(solver.maxIters == 0 ? SinkhornOptions.automaticCeiling : solver.maxIters)"
                LabelRun.standardError("warning: head \(h) stopped at \(cap) after \(d.iterations) iterations with "
                    + "error \(d.finalError) > tolerance \(solver.tol); "
                    + (d.stalled ? "the scores may not admit equal-size clusters (zero probabilities) or --tol is below rounding\n"
                       : "raise --max-iters (0: automatic) or use --acceleration anderson\n"))
            }
            if d.degenerateLabels {
                LabelRun.standardError("warning: head \(h) labels are degenerate: \(d.emptyClusters) empty clusters, "
                    + "largest cluster \(d.maxClusterSize) samples (\(scores.samples / scores.clusters) would be equal "
                    + "shares); the scores may not separate the samples (for example all-equal rows)\n")
            }
        }
    }
}
