import Foundation
import Tensors

extension SinkhornKnoppSolver {
    /// One head. In float32 precision, a numerical breakdown of the dense iteration (a non-finite error: the
    /// scalings of a very peaked problem can leave float32's range even after the log-domain shifts) is
    /// repaired by solving the head again with the truncated method keeping every entry it needs, however
    /// many (its rebuilds absorb the scalings into the stored values, so float32 stays in range), reported in
    /// `repairedBreakdown`; where that method does not apply (`truncation: .off`, K > 65,536) or does not
    /// fit in memory, in float64 (`fellBackToFloat64`). If the float64 matrix does not fit either, the memory
    /// error says so.
    func solveHead(_ scores: UnsafePointer<Float>, head: Int, n: Int, k: Int,
                   warmStart: [Double]?) throws -> SinkhornResult {
        let result = try solveHeadOnce(scores, head: head, n: n, k: k, warmStart: warmStart,
                                       truncatedDensity: truncates(clusters: k)
                                           ? SinkhornTruncatedMatrix.maxDensity : nil)
        guard options.precision == .f32, !result.diagnostics.errorHistory.allSatisfy(\.isFinite) else { return result }
        if truncates(clusters: k), result.diagnostics.method == .dense {
            let available = options.availableMemoryBytes ?? SinkhornMemoryPlan.systemAvailableBytes() ?? Int.max
            if memoryPlan(samples: n, clusters: k).workBytes
                + SinkhornTruncatedMatrix.worstCaseBytes(samples: n, clusters: k, density: 1) <= available {
                var repaired = try solveHeadOnce(scores, head: head, n: n, k: k, warmStart: warmStart,
                                                 truncatedDensity: 1)
                if repaired.diagnostics.errorHistory.allSatisfy(\.isFinite) {
                    repaired.diagnostics.repairedBreakdown = true
                    return repaired
                }
            }
        }
        var f64 = options
        f64.precision = .f64
        f64.storage = .f32
        f64.overRelaxation = false
        f64.truncation = .off
        var repaired = try SinkhornKnoppSolver(options: f64).solveHeadOnce(scores, head: head, n: n, k: k,
                                                                          warmStart: warmStart, truncatedDensity: nil)
        repaired.diagnostics.fellBackToFloat64 = true
        return repaired
    }

    /// Whether this solver may use the truncated method on these scores (see `SinkhornTruncation.automatic`).
    func truncates(clusters k: Int) -> Bool { SinkhornTruncatedMatrix.applies(options, clusters: k) }

    /// One head: prepare (validate, shift), iterate to the official stopping rule (truncated, or densely on
    /// the stored matrix), label.
    /// `truncatedDensity`: try the truncated method, keeping at most this share of the entries (nil: dense).
    func solveHeadOnce(_ scores: UnsafePointer<Float>, head: Int, n: Int, k: Int,
                       warmStart: [Double]?, truncatedDensity: Double?) throws -> SinkhornResult {
        let o = options
        if let w = warmStart {
            guard w.count == k else { throw SinkhornError.invalidWarmStart(expectedCount: k, count: w.count, badIndex: nil) }
            if let bad = w.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
                throw SinkhornError.invalidWarmStart(expectedCount: k, count: k, badIndex: bad)
            }
        }
        let t0 = ResourceUsage.monotonicSeconds
        let layout = SinkhornLayout(samples: n)
        let plan = memoryPlan(samples: n, clusters: k)
        let kp = plan.paddedClusters, g = layout.blockCount, threads = o.threads
        let ws = workspace
        let rowShift = ws.doubles("rowShift", n), c = ws.doubles("c", n)
        let colMaxBlocks = ws.floats("colMax", g * kp)
        let prep = SinkhornPrepare(scores: scores, n: n, k: k, kp: kp, lambda: o.lambda, kind: o.scoreKind,
                                   head: head, layout: layout, releasePages: o.releaseFileBackedScores)
        try prep.statistics(rowShift: rowShift, logC0: c, blockColMax: colMaxBlocks,
                            rowTemp: ws.floats("rowTemp", threads * kp), threads: threads)

        // Column shifts b_k = λ · max over blocks (0 in the padding).
        let colShift = ws.doubles("colShift", kp)
        for j in 0..<kp {
            var m = -Float.infinity
            if j < k { for b in 0..<g { m = max(m, colMaxBlocks[b * kp + j]) } }
            colShift[j] = j < k ? o.lambda * Double(m) : 0
        }
        // Starting c' = c0 normalised so that its largest entry is 1.
        var maxLogC0 = -Double.infinity
        for i in 0..<n { maxLogC0 = max(maxLogC0, c[i]) }
        for i in 0..<n { c[i] = exp(c[i] - maxLogC0) }

        let tStatistics = ResourceUsage.monotonicSeconds
        var method = SinkhornMethod.dense
        var truncatedState: (SinkhornIteration.State, SinkhornTruncatedMatrix)? = nil
        if let density = truncatedDensity {
            let c0 = ws.doubles("c0", n), colShift0 = ws.doubles("colShift0", kp)
            c0.update(from: c, count: n)
            colShift0.update(from: colShift, count: kp)
            let m = SinkhornTruncatedMatrix(scores: scores, kind: o.scoreKind, n: n, k: k, kp: kp, lambda: o.lambda,
                                            rowMax: rowShift,
                                            layout: layout, threads: threads,
                                            releasePages: o.releaseFileBackedScores, maxDensity: density,
                                            workspace: ws)
            let iter = SinkhornIteration(solver: self, source: .truncated(m), layout: layout, n: n, k: k, kp: kp,
                                         c: c, colShift: colShift, head: head)
            if let state = try iter.run(warmStart: warmStart) {
                truncatedState = (state, m)
                method = .truncated
            } else {  // too dense to pay off: start again densely
                c.update(from: c0, count: n)
                colShift.update(from: colShift0, count: kp)
            }
        }
        let t1: Double
        let state: SinkhornIteration.State
        if let (s, _) = truncatedState {
            t1 = tStatistics
            state = s
        } else {
            if !ws.hasMatrix(bytes: plan.matrixBytes) {
                var dense = o
                dense.truncation = .off
                let available = o.availableMemoryBytes ?? SinkhornMemoryPlan.systemAvailableBytes() ?? Int.max
                try SinkhornMemoryPlan(samples: n, clusters: k, options: dense).check(available: available, options: dense)
            }
            let matrix = ws.matrix(bytes: plan.matrixBytes)
            if o.precision == .f64 {
                prep.storeF64(into: matrix.assumingMemoryBound(to: Double.self), rowShift: rowShift,
                              colShift: colShift, threads: threads)
            } else {
                let colShift32 = ws.floats("colShift32", kp)
                for j in 0..<kp { colShift32[j] = Float(colShift[j]) }
                let temp = ws.floats("rowTemp", threads * kp)
                switch o.storage {
                case .f32: prep.storeF32(F32Element.self, into: matrix, rowShift: rowShift, colShift: colShift32,
                                         rowTemp: temp, threads: threads)
                case .bf16: prep.storeF32(BF16Element.self, into: matrix, rowShift: rowShift, colShift: colShift32,
                                          rowTemp: temp, threads: threads)
                case .f16: prep.storeF32(F16Element.self, into: matrix, rowShift: rowShift, colShift: colShift32,
                                         rowTemp: temp, threads: threads)
                }
            }
            t1 = ResourceUsage.monotonicSeconds
            let iter = SinkhornIteration(solver: self, source: .stored(UnsafeRawPointer(matrix)), layout: layout,
                                         n: n, k: k, kp: kp, c: c, colShift: colShift, head: head)
            state = try iter.run(warmStart: warmStart)!
        }
        let t2 = ResourceUsage.monotonicSeconds

        // log r of the reference's problem: log r'_k − b_k.
        var logR = [Double](repeating: 0, count: k)
        for j in 0..<k { logR[j] = state.logR[j] - colShift[j] }
        let labels = SinkhornLabels(scores: scores, n: n, k: k, lambda: o.lambda, kind: o.scoreKind,
                                    layout: layout, releasePages: o.releaseFileBackedScores).assign(logR: logR, threads: threads)
        let t3 = ResourceUsage.monotonicSeconds

        var sizes = [Int](repeating: 0, count: k)
        for l in labels { sizes[Int(l)] += 1 }
        let maxLogR = logR.max() ?? 0
        let diagnostics = SinkhornDiagnostics(
            iterations: state.iterations, converged: state.converged, finalError: state.errors.last ?? .nan,
            errorHistory: state.errors, maxMarginalDeviation: state.marginalDeviation,
            minClusterSize: sizes.min() ?? 0, maxClusterSize: sizes.max() ?? 0,
            emptyClusters: sizes.filter { $0 == 0 }.count,
            storedMatrixBytes: truncatedState?.1.storedBytes ?? plan.matrixBytes,
            prepareSeconds: t1 - t0, iterateSeconds: t2 - t1, labelSeconds: t3 - t2, method: method,
            keptEntries: truncatedState?.1.keptEntries ?? n * k, rebuilds: truncatedState?.1.builds ?? 0,
            fullPasses: state.fullPasses)
        return SinkhornResult(labels: labels,
                              clusterScaling: logR.map { Swift.max(exp($0 - maxLogR), Double.leastNormalMagnitude) },
                              diagnostics: diagnostics)
    }
}
