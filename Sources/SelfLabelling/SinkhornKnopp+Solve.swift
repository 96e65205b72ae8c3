import Foundation
import Tensors

extension SinkhornKnoppSolver {
    /// One head. In float32 precision, a numerical breakdown (a non-finite error: the scalings of a very
    /// peaked problem can leave float32's range even after the log-domain shifts) is repaired by solving the
    /// head again in float64 with the same options, reported in `fellBackToFloat64`. If the float64 matrix
    /// does not fit in memory, the memory error says so.
    func solveHead(_ scores: UnsafePointer<Float>, head: Int, n: Int, k: Int,
                   warmStart: [Double]?) throws -> SinkhornResult {
        let result = try solveHeadOnce(scores, head: head, n: n, k: k, warmStart: warmStart)
        guard options.precision == .f32, !result.diagnostics.errorHistory.allSatisfy(\.isFinite) else { return result }
        var f64 = options
        f64.precision = .f64
        f64.storage = .f32
        f64.overRelaxation = false
        var repaired = try SinkhornKnoppSolver(options: f64).solveHeadOnce(scores, head: head, n: n, k: k,
                                                                          warmStart: warmStart)
        repaired.diagnostics.fellBackToFloat64 = true
        return repaired
    }

    /// One head: prepare (validate, shift, store), iterate to the official stopping rule, label.
    func solveHeadOnce(_ scores: UnsafePointer<Float>, head: Int, n: Int, k: Int,
                       warmStart: [Double]?) throws -> SinkhornResult {
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
        try prep.statistics(rowShift: rowShift, logC0: c, blockColMax: colMaxBlocks, threads: threads)

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
        let t1 = ResourceUsage.monotonicSeconds

        let iter = SinkhornIteration(solver: self, matrix: UnsafeRawPointer(matrix), layout: layout, n: n, k: k,
                                     kp: kp, c: c, colShift: colShift, head: head)
        let state = iter.run(warmStart: warmStart)
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
            emptyClusters: sizes.filter { $0 == 0 }.count, storedMatrixBytes: plan.matrixBytes,
            prepareSeconds: t1 - t0, iterateSeconds: t2 - t1, labelSeconds: t3 - t2)
        return SinkhornResult(labels: labels,
                              clusterScaling: logR.map { Swift.max(exp($0 - maxLogR), Double.leastNormalMagnitude) },
                              diagnostics: diagnostics)
    }
}
