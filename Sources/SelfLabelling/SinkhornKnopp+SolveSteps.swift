import CSinkhornKernels
import Foundation
import Tensors

extension SinkhornKnoppSolver {
    /// Iterate with the truncated method; nil (with `c'` and `b` restored to their starting values) when the
    /// kept entries would exceed `maxDensity` of the matrix, so the dense method should be used.
    func iterateTruncated(_ p: SinkhornProblem, maxDensity: Double, warmStart: [Double]?) throws -> SinkhornIterated? {
        let prepared = ResourceUsage.monotonicSeconds
        let ws = workspace
        let c0 = ws.c0(p.n), colShift0 = ws.colShift0(p.kp)
        c0.update(from: p.c, count: p.n)
        colShift0.update(from: p.colShift, count: p.kp)
        let m = SinkhornTruncatedMatrix(scores: p.scores, kind: options.scoreKind, n: p.n, k: p.k, kp: p.kp,
                                        lambda: options.lambda, rowMax: p.rowShift, layout: p.layout,
                                        threads: options.threads, releasePages: options.releaseFileBackedScores,
                                        maxDensity: maxDensity, screen: options.screensProbabilities,
                                        workspace: ws)
        var iteration = SinkhornIteration(solver: self, source: .truncated(m), problem: p)
        guard let state = try iteration.run(warmStart: warmStart) else {
            p.c.update(from: c0, count: p.n)
            p.colShift.update(from: colShift0, count: p.kp)
            return nil
        }
        let stored = isDistributed ? try communicator.allreduce(m.storedBytes, .sum) : m.storedBytes
        return SinkhornIterated(state: state, method: .truncated, storedBytes: stored,
                                keptEntries: m.keptEntries, rebuilds: m.builds, denseRebuilds: m.denseBuilds,
                                streamed: !m.storeDenseRows, prepared: prepared)
    }

    /// Iterate with the dense method. Float32: a streamed source (`SinkhornIteration`), whose pass stores the
    /// matrix `A = exp(λ (y − m) − b)` (as `SinkhornStorage`) while reading the scores, in the pass
    /// `SinkhornIteration.deferStore` says: the first pass (the reference start's column sums, the balanced
    /// start's pass 0, a warm start's first iteration); on flat scores (`SinkhornProblem.allFlat`) and scores
    /// with no peaked row (`allDenseRows`), with float32 storage and `--dense-rows auto`, the pass after the
    /// first few, if it comes; never where `streamsDenseRows` (every pass computes the rows from the scores).
    /// Every way gives the same bits. `.f64` precision: the float64 matrix stored first.
    func iterateDense(_ p: SinkhornProblem, warmStart: [Double]?) throws -> SinkhornIterated {
        let o = options, ws = workspace
        // This rank's rows only, addressed by global row (`matrix + row · kp` elements).
        let rows = p.layout.ownedRows
        let rowBytes = p.kp * o.elementBytes, localBytes = rows.count * rowBytes
        let streams = o.streamsDenseMatrix(bytes: rows.count * p.kp * 4)
        if !streams && !ws.hasMatrix(bytes: localBytes) {
            var dense = o
            dense.truncation = .off
            let available = o.availableMemoryBytes ?? SinkhornMemoryPlan.systemAvailableBytes() ?? Int.max
            try SinkhornMemoryPlan(samples: rows.count, clusters: p.k, options: dense).check(available: available, options: dense)
        }
        if o.precision == .f64 {
            let matrix = (ws.matrix(bytes: localBytes) - rows.lowerBound * rowBytes).assumingMemoryBound(to: Double.self)
            p.prepare.storeF64(into: matrix, rowShift: p.rowShift, colShift: p.colShift, threads: o.threads)
            var iteration = SinkhornIteration(solver: self, source: .stored(UnsafeRawPointer(matrix)), problem: p)
            let prepared = ResourceUsage.monotonicSeconds
            let state = try iteration.run(warmStart: warmStart)!
            return SinkhornIterated(state: state, method: .dense, storedBytes: p.plan.matrixBytes,
                                    keptEntries: p.n * p.k, rebuilds: 0, prepared: prepared)
        }
        let colShift32 = ws.colShift32(p.kp)
        for j in 0..<p.kp { colShift32[j] = Float(p.colShift[j]) }
        let prepare = p.prepare.withPowers(colShift: p.colShift, into: ws.colRoot32(p.kp))
        var iteration = SinkhornIteration(solver: self, source: .streamed(prepare, rowShift: p.rowShift,
                                                                           colShift: colShift32), problem: p)
        if !streams {
            let defers = o.storage == .f32 && o.denseRows == .automatic
            let passes = defers && p.allFlat ? SinkhornIteration.deferredStorePasses
                : defers && p.allDenseRows ? SinkhornIteration.deferredStorePassesNoPeak : 0
            let element = o.storage == .f32 ? CSK_F32 : o.storage == .bf16 ? CSK_BF16 : CSK_F16
            iteration.deferStore(after: passes, as: element) { ws.matrix(bytes: localBytes) - rows.lowerBound * rowBytes }
        }
        let prepared = ResourceUsage.monotonicSeconds
        let state = try iteration.run(warmStart: warmStart)!
        var stored = false  // whether the store ran
        if case .stored = iteration.source { stored = true }
        return SinkhornIterated(state: state, method: .dense, storedBytes: stored ? p.plan.matrixBytes : 0,
                                keptEntries: p.n * p.k, rebuilds: 0, streamed: !stored, prepared: prepared)
    }

    /// Whether a cold start is the balanced one (`SinkhornOptions.startsBalanced`, with Anderson).
    var startsBalanced: Bool { options.acceleration == .anderson && options.startsBalanced }

    /// Label: `label_n = argmax_k (log r_k + λ y_nk)` from the scores, with the reference problem's
    /// `log r_k = log r'_k − b_k`, and the diagnostics.
    func label(_ p: SinkhornProblem, _ it: SinkhornIterated) throws -> SinkhornResult {
        let iterated = ResourceUsage.monotonicSeconds
        let state = it.state
        let logR = (0..<p.k).map { state.logR[$0] - p.colShift[$0] }
        var labels = SinkhornLabels(scores: p.scores, n: p.n, k: p.k, lambda: options.lambda, kind: options.scoreKind,
                                    layout: p.layout, releasePages: options.releaseFileBackedScores,
                                    screen: options.screensProbabilities)
            .assign(logR: logR, threads: options.threads)
        if isDistributed {
            try labels.withUnsafeMutableBufferPointer {
                let r = communicator.size
                try communicator.allgather($0.baseAddress!, counts: (0..<r).map {
                    p.layout.rows(ofBlocks: p.layout.blocks(ofRank: $0, ranks: r)).count
                })
            }
        }
        let labelled = ResourceUsage.monotonicSeconds
        var sizes = [Int](repeating: 0, count: p.k)
        for l in labels { sizes[Int(l)] += 1 }
        var repaired = 0
        if sizes.contains(0) {
            switch options.emptyClusters {
            case .report: break
            case .refuse: throw SinkhornError.emptyClusters(head: p.head, count: sizes.filter { $0 == 0 }.count)
            case .split:
                repaired = try SinkhornEmptyClusterRepair(scores: p.scores, n: p.n, k: p.k, lambda: options.lambda,
                                                      kind: options.scoreKind, logR: logR,
                                                      communicator: communicator, layout: p.layout).split(&labels)
                sizes = [Int](repeating: 0, count: p.k)
                for l in labels { sizes[Int(l)] += 1 }
            }
        }
        let maxLogR = logR.max() ?? 0
        var diagnostics = SinkhornDiagnostics(
            iterations: state.iterations, converged: state.converged, finalError: state.errors.last ?? .nan,
            errorHistory: state.errors, maxMarginalDeviation: state.marginalDeviation,
            minClusterSize: sizes.min() ?? 0, maxClusterSize: sizes.max() ?? 0,
            emptyClusters: sizes.filter { $0 == 0 }.count, storedMatrixBytes: it.storedBytes,
            prepareSeconds: it.prepared - p.started, iterateSeconds: iterated - it.prepared,
            labelSeconds: labelled - iterated, method: it.method, keptEntries: it.keptEntries,
            rebuilds: it.rebuilds, fullPasses: state.fullPasses)
        diagnostics.representableLambda = p.representableLambda
        diagnostics.streamedDenseRows = it.streamed
        diagnostics.denseRebuilds = it.denseRebuilds
        diagnostics.repairedEmptyClusters = repaired
        diagnostics.stalled = state.stalled
        diagnostics.sparsePasses = state.sparsePasses
        diagnostics.degenerateLabels = SinkhornDiagnostics.isDegenerate(
            emptyClusters: diagnostics.emptyClusters, maxClusterSize: diagnostics.maxClusterSize, samples: p.n, clusters: p.k)
        return SinkhornResult(labels: labels,
                              clusterScaling: logR.map { Swift.max(exp($0 - maxLogR), Double.leastNormalMagnitude) },
                              diagnostics: diagnostics)
    }
}
