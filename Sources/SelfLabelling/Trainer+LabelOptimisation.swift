import Autograd
import DataPipeline
import Evaluation
import Foundation
import Interop
import Tensors

/// A stop request arrived during a label optimisation's network pass (before anything changed).
struct LabelPassInterrupted: Error {}

extension Trainer {
    /// One label optimisation (the official `optimize_labels`): the network in evaluation mode over the whole
    /// training set with the pseudo-label transform, the logits of the heads this step re-solves collected
    /// (heads × N × K; every head, or one with `--label-heads cycle`), then each of those heads solved by
    /// Sinkhorn-Knopp (warm-started from that head's previous cluster scaling with `skWarmStart`).
    func optimizeLabels() throws {
        let started = Date()
        let n = dataset.count, k = configuration.ncl
        let selected = configuration.labelHeadSelection.heads(epoch: progress.epoch, of: configuration.hc)
        let heads = selected.count
        let optimisation = progress.labelOptimisations
        let bytes = heads * n * k * MemoryLayout<Float>.stride
        if let available = ResourceUsage.availableMemoryBytes, bytes > available / 2 {
            throw TrainingError.scoresTooLarge(bytes: bytes, available: available)
        }
        network.setTraining(false)
        // Zeros (uniform scores) for any image the loader had to skip as corrupt.
        var scores = Tensor.zeros([heads, n, k])
        let loader = BatchLoader(dataset: dataset, transform: pseudoTransform, batchSize: configuration.batchSize,
                                 shuffle: false, seed: configuration.seed ^ 0x5053_4555_444F, workers: configuration.workers)
        let pass = loader.epoch(optimisation)
        var done = 0
        try scores.withUnsafeMutableBufferPointer { out in
            while let b = try pass.next() {
                let tape = Tape(recording: false, kernels: kernels)
                let result = try network.forward(tape.constant(b.images))
                for (slot, h) in selected.enumerated() {
                    let logits = result.heads[h].value.contiguous()
                    logits.withUnsafeBufferPointer { l in
                        for (row, index) in b.indices.enumerated() {
                            let dst = out.baseAddress! + (slot * n + index) * k
                            dst.update(from: l.baseAddress! + row * k, count: k)
                        }
                    }
                }
                done += b.indices.count
                notify { $0.labelPassAdvanced(optimisation: optimisation, done: done, total: n) }
                // A stop request (SIGINT, SIGTERM) ends the pass: the run stops at the state before it.
                DebugPause.at("label-pass", "\(optimisation + 1)", until: { StopRequest.signal != nil })
                if StopRequest.signal != nil { throw LabelPassInterrupted() }
            }
        }
        let passSeconds = Date().timeIntervalSince(started)
        if configuration.saveScores {
            let dir = (experiment as NSString).appendingPathComponent("scores")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Npy.write(scores, to: (dir as NSString).appendingPathComponent("optimisation-\(optimisation).npy"))
        }
        let warm = configuration.sinkhornWarmStart && selected.allSatisfy({ warmStarts[$0] != nil })
            ? selected.map { warmStarts[$0]! } : nil
        phaseTimes.labelPassSeconds += passSeconds
        let solving = ResourceUsage.monotonicSeconds
        let results = try scores.withUnsafeBufferPointer {
            try solveLabelHeads($0, heads: selected, samples: n, clusters: k, warmStarts: warm, optimisation: optimisation)
        }
        phaseTimes.add(\.sinkhornSeconds, since: solving)
        for r in results {
            phaseTimes.sinkhornIterations += r.diagnostics.iterations
            phaseTimes.maxSinkhornIterations = max(phaseTimes.maxSinkhornIterations, r.diagnostics.iterations)
        }
        var reports: [LabelOptimisationReport.Head] = []
        for (h, r) in zip(selected, results) {
            let previous = labels.head(h).map(Int.init)
            let changed = labels.replace(head: h, with: r.labels)
            let nmi = try ClusteringMetrics.normalizedMutualInformation(
                ContingencyTable(predicted: labels.head(h).map(Int.init), truth: previous))
            warmStarts[h] = r.clusterScaling
            reports.append(.init(head: h, diagnostics: r.diagnostics, changedFraction: changed, nmiWithPrevious: nmi))
        }
        progress.labelOptimisations += 1
        if results.contains(where: \.diagnostics.degenerateLabels) { progress.degenerateLabelOptimisations += 1 }
        if results.contains(where: { !$0.diagnostics.converged && !$0.diagnostics.numericalBreakdown }) {
            progress.cappedLabelOptimisations += 1
        }
        let report = LabelOptimisationReport(optimisation: optimisation, epoch: progress.epoch,
                                             iteration: progress.iteration, seconds: Date().timeIntervalSince(started),
                                             networkPassSeconds: passSeconds, tolerance: configuration.skTol,
                                             heads: reports)
        notify { $0.labelsOptimised(report) }
    }
}
