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
    /// over the shuffled, augmented training loader (`--pl-mode official`, main.py's pass) — its pre-head
    /// features kept at their samples' indices (N × D; `LabelPassMemoryPlan` puts them in RAM or a spill file),
    /// then head by head for the heads this step re-solves (every head, or one with `--label-heads cycle`): the
    /// head's logits computed from the features (`LabelPassHeads`) and solved by Sinkhorn-Knopp (warm-started
    /// from that head's previous cluster scaling with `skWarmStart`). When it
    /// throws, the network's running statistics are restored to their values before the pass.
    ///
    /// Across ranks (data-parallel training) each rank passes only its rows — the solver's share,
    /// `SinkhornKnoppSolver.rows(samples:rank:ranks:)` — with rank 0's running statistics, computes those rows'
    /// scores, and the distributed solver gives every rank all the labels, identical to one process's. A stop
    /// request is honoured once the ranks' passes are done (they agree on it then).
    func optimizeLabels() throws {
        let started = Date()
        let n = dataset.count, k = configuration.ncl
        if let dataParallel { try broadcastFromRoot(dataParallel, parameters: false) }
        let mine = dataParallel.map { SinkhornKnoppSolver.rows(samples: n, rank: $0.communicator.rank,
                                                               ranks: $0.communicator.size) }
        let selected = configuration.labelHeadSelection.heads(epoch: progress.epoch, of: configuration.hc)
        let heads = selected.count
        let optimisation = progress.labelOptimisations
        let plan = try labelPassPlan()
        if plan.arrangement != announcedLabelPassPlan?.arrangement {
            announcedLabelPassPlan = plan
            notify { $0.note("label pass memory: \(plan)") }
        }
        let features = try LabelPassFeatures(samples: n, dimension: plan.dimension, element: plan.element,
                                             spillFolder: plan.featuresSpilled ? experiment : nil)
        let official = configuration.pseudoLabelPassMode == .official
        let buffers = official ? network.namedBuffers().map { ($0.parameter, $0.parameter.value) } : []
        var finished = false
        defer {  // a pass that does not finish leaves the running statistics as they were
            if !finished { for (p, v) in buffers { p.value = v } }
        }
        network.setTraining(official)
        let loader = BatchLoader(dataset: dataset, transform: official ? trainTransform : pseudoTransform,
                                 batchSize: configuration.batchSize, shuffle: official,
                                 seed: configuration.seed ^ 0x5053_4555_444F, workers: configuration.workers,
                                 positions: mine)
        let pass = loader.epoch(optimisation)
        var done = 0, batchNumber: UInt64 = 0
        while let b = try pass.next() {
            // Dropout masks of the official pass: seeded per optimisation and batch.
            let tape = Tape(recording: false, kernels: kernels,
                            generator: Xoshiro256(seed: configuration.seed, 0x504C_5041_5353, UInt64(optimisation), batchNumber))
            batchNumber += 1
            let f = try network.features(tape.constant(b.images)).value.contiguous()
            f.withUnsafeBufferPointer { f in
                for (row, index) in b.indices.enumerated() { features.write(index, from: f.baseAddress! + row * plan.dimension) }
            }
            done += b.indices.count
            notify { $0.labelPassAdvanced(optimisation: optimisation, done: done, total: mine?.count ?? n) }  // rank 0's rows
            // A stop request (SIGINT, SIGTERM) ends the pass: the run stops at the state before it.
            DebugPause.at("label-pass", "\(optimisation + 1)", until: { StopRequest.signal != nil })
            if dataParallel == nil && StopRequest.signal != nil { throw LabelPassInterrupted() }
        }
        if let dataParallel {
            agreedSignal = try agreedStopSignal(dataParallel)
            if agreedSignal != nil { throw LabelPassInterrupted() }
        }
        network.setTraining(true)
        let passSeconds = Date().timeIntervalSince(started)
        phaseTimes.labelPassSeconds += passSeconds
        var saved: NpyFileWriter? = nil
        if configuration.saveScores {
            let dir = (experiment as NSString).appendingPathComponent("scores")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            saved = try NpyFileWriter(path: (dir as NSString).appendingPathComponent("optimisation-\(optimisation).npy"),
                                      dtype: .float32, shape: [heads, n, k])
        }
        let warm = configuration.sinkhornWarmStart && selected.allSatisfy { warmStarts[$0] != nil }
        var solved: [SinkhornResult?] = Array(repeating: nil, count: heads)
        let scoring = LabelPassHeads(features: features, heads: network.heads, kernels: kernels,
                                     blockRows: configuration.batchSize, plan: plan, spillFolder: experiment, rows: mine)
        try scoring.forEachHead(selected) { h, scores, spilled in
            let slot = selected.firstIndex(of: h)!
            try saved?.write(UnsafeRawBufferPointer(scores), atElement: slot * n * k)
            let solving = ResourceUsage.monotonicSeconds
            solved[slot] = try solveLabelHead(scores.baseAddress!, head: h, samples: n, clusters: k,
                                              warmStart: warm ? warmStarts[h] : nil, optimisation: optimisation,
                                              fileBacked: spilled)
            phaseTimes.add(\.sinkhornSeconds, since: solving)
        }
        try saved?.finish()
        let results = solved.map { $0! }
        try requireUsableLabels(results, heads: selected)
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

    /// The memory plan of this run's label optimisations (`--pl-features`, `--pl-memory` or three quarters of the
    /// available memory, the experiment folder's free disk).
    func labelPassPlan() throws -> LabelPassMemoryPlan {
        let n = dataset.count, k = configuration.ncl
        let budget = configuration.plMemory.map { Int($0 * 1e9) }
            ?? ResourceUsage.availableMemoryBytes.map { $0 / 4 * 3 } ?? Int.max
        return try LabelPassMemoryPlan.make(samples: n, dimension: network.heads[0].inFeatures, heads: configuration.hc,
                                            clusters: k, element: configuration.plFeatures,
                                            solverBytes: solver.memoryPlan(samples: n, clusters: k).totalBytes,
                                            blockRows: configuration.batchSize, budget: budget,
                                            diskFree: SpillFile.freeDiskBytes(folder: experiment))
    }
}
