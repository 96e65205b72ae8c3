import Autograd
import DataPipeline
import Evaluation
import Foundation
import Interop
import Tensors

/// A stop request arrived during a label optimisation's network pass (before anything changed).
struct LabelPassInterrupted: Error {}

extension Trainer {
    /// One label optimisation (the official `optimize_labels`): the network over the whole training set — in
    /// evaluation mode with the pseudo-label transform in data order (`--pl-mode eval`), or in training mode
    /// over the shuffled, augmented training loader (`--pl-mode official`, main.py's pass) — every head's
    /// logits collected at their samples' indices (heads × N × K), then every head solved by Sinkhorn-Knopp
    /// (warm-started from that head's previous cluster scaling with `skWarmStart`). When it throws, the
    /// network's running statistics are restored to their values before the pass.
    func optimizeLabels() throws {
        let started = Date()
        let n = dataset.count, heads = configuration.hc, k = configuration.ncl
        let optimisation = progress.labelOptimisations
        let bytes = heads * n * k * MemoryLayout<Float>.stride
        if let available = ResourceUsage.availableMemoryBytes, bytes > available / 2 {
            throw TrainingError.scoresTooLarge(bytes: bytes, available: available)
        }
        // Zeros (uniform scores) for any image the loader had to skip as corrupt.
        var scores = Tensor.zeros([heads, n, k])
        let official = configuration.pseudoLabelPassMode == .official
        let buffers = official ? network.namedBuffers().map { ($0.parameter, $0.parameter.value) } : []
        var finished = false
        defer {  // a pass that does not finish leaves the running statistics as they were
            if !finished { for (p, v) in buffers { p.value = v } }
        }
        network.setTraining(official)
        let loader = BatchLoader(dataset: dataset, transform: official ? trainTransform : pseudoTransform,
                                 batchSize: configuration.batchSize, shuffle: official,
                                 seed: configuration.seed ^ 0x5053_4555_444F, workers: configuration.workers)
        let pass = loader.epoch(optimisation)
        var done = 0, batchNumber: UInt64 = 0
        try scores.withUnsafeMutableBufferPointer { out in
            while let b = try pass.next() {
                // Dropout masks of the official pass: seeded per optimisation and batch.
                let tape = Tape(recording: false, kernels: kernels,
                                generator: Xoshiro256(seed: configuration.seed, 0x504C_5041_5353,
                                                      UInt64(optimisation), batchNumber))
                batchNumber += 1
                let result = try network.forward(tape.constant(b.images))
                for h in 0..<heads {
                    let logits = result.heads[h].value.contiguous()
                    logits.withUnsafeBufferPointer { l in
                        for (row, index) in b.indices.enumerated() {
                            let dst = out.baseAddress! + (h * n + index) * k
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
        network.setTraining(true)
        let passSeconds = Date().timeIntervalSince(started)
        if configuration.saveScores {
            let dir = (experiment as NSString).appendingPathComponent("scores")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Npy.write(scores, to: (dir as NSString).appendingPathComponent("optimisation-\(optimisation).npy"))
        }
        let warm = configuration.sinkhornWarmStart && warmStarts.allSatisfy { $0 != nil } ? warmStarts.map { $0! } : nil
        phaseTimes.labelPassSeconds += passSeconds
        let solving = ResourceUsage.monotonicSeconds
        let results = try scores.withUnsafeBufferPointer {
            try solveLabelHeads($0, heads: heads, samples: n, clusters: k, warmStarts: warm, optimisation: optimisation)
        }
        phaseTimes.add(\.sinkhornSeconds, since: solving)
        for r in results {
            phaseTimes.sinkhornIterations += r.diagnostics.iterations
            phaseTimes.maxSinkhornIterations = max(phaseTimes.maxSinkhornIterations, r.diagnostics.iterations)
        }
        var reports: [LabelOptimisationReport.Head] = []
        for (h, r) in results.enumerated() {
            let previous = labels.head(h).map(Int.init)
            let changed = labels.replace(head: h, with: r.labels)
            let nmi = try ClusteringMetrics.normalizedMutualInformation(
                ContingencyTable(predicted: labels.head(h).map(Int.init), truth: previous))
            warmStarts[h] = r.clusterScaling
            reports.append(.init(head: h, diagnostics: r.diagnostics, changedFraction: changed, nmiWithPrevious: nmi))
        }
        finished = true
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
