import Foundation
import Tensors

/// What the prepare step leaves for the iterate and label steps of one head: the problem's shape, its shifts
/// (`m_n` per sample, `b_k` per cluster) and the starting per-sample scaling `c'`, all in the workspace.
struct SinkhornProblem {
    let scores: UnsafePointer<Float>
    let head: Int, n: Int, k: Int, kp: Int
    let layout: SinkhornLayout
    let plan: SinkhornMemoryPlan
    let prepare: SinkhornPrepare
    /// m_n (N), c' (N, c0 on entry to the iterations) and b_k (kp).
    let rowShift: UnsafeMutablePointer<Double>
    let c: UnsafeMutablePointer<Double>
    let colShift: UnsafeMutablePointer<Double>
    /// When the solve started (monotonic seconds).
    let started: Double
    /// Per row block, the entries within the truncated method's drop of their row maximum (no column shift).
    let nearRowMaximum: [Int]
    /// Whether every entry lies within `CSK_FLAT_RANGE` (6) nats of its row's largest in the plan
    /// (`λ (y_nk − m_n) ≥ −6`): flat scores, on which the iteration converges in a few passes.
    let allFlat: Bool
    /// Whether every row has more than a quarter of its entries within the truncated method's drop of its largest
    /// (no column shifted): every row would be a dense row of that method, no row is peaked (flat scores, and
    /// rows like σ 0.1 logits at λ 25 that span ~18 nats), on which the iteration converges in a few passes.
    let allDenseRows: Bool
    /// The largest λ at which every row's largest entry of float64 `P^λ` stays above e^-700
    /// (`SinkhornDiagnostics.representableLambda`).
    let representableLambda: Double
}

/// What the iterate step leaves for the label step.
struct SinkhornIterated {
    let state: SinkhornIteration.State
    let method: SinkhornMethod
    let storedBytes: Int, keptEntries: Int, rebuilds: Int
    var denseRebuilds = 0
    /// Whether rows read in full were computed from the scores in every pass (`SinkhornDenseRows`).
    var streamed = false
    /// When preparing ended and iterating started (the float32 dense method stores its matrix in a pass, which counts
    /// as iterating; the float64 store counts as preparing).
    let prepared: Double
}

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
            let rows = layout(samples: n).ownedRows.count
            if try everywhere(memoryPlan(samples: rows, clusters: k).workBytes
                + SinkhornTruncatedMatrix.worstCaseBytes(samples: rows, clusters: k, density: 1) <= available) {
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
        f64.acceleration = .off
        f64.truncation = .off
        var repaired = try SinkhornKnoppSolver(options: f64, communicator: communicator).solveHeadOnce(scores, head: head, n: n, k: k,
                                                                          warmStart: warmStart, truncatedDensity: nil)
        repaired.diagnostics.fellBackToFloat64 = true
        return repaired
    }

    /// −log of the smallest float64 entry the reference's `P^λ` may need (e^-700 ≈ 1e-304).
    static let float64ExponentRange = 700.0

    /// The largest log-ratio kept between entries of the starting per-sample scaling c0.
    static let startingSampleScalingRange = 600.0

    /// Whether the truncated method's next build stores its flat rows (`SinkhornDenseRows`): as asked, or
    /// (automatic) when the worst case of `rows` flat rows (`SinkhornTruncatedMatrix.maxDensity` of them) fits
    /// in a quarter of the available memory. Stored and streamed rows give the same bits, so ranks may decide
    /// differently.
    func storesDenseRows(rows: Int, paddedClusters kp: Int) -> Bool {
        switch options.denseRows {
        case .stored: return true
        case .streamed: return false
        case .automatic:
            return options.fitsStoredRows(bytes: Int(Double(rows * kp * 4) * SinkhornTruncatedMatrix.maxDensity))
        }
    }

    /// Whether this solver may use the truncated method on these scores (see `SinkhornTruncation.automatic`).
    func truncates(clusters k: Int) -> Bool { SinkhornTruncatedMatrix.applies(options, clusters: k) }

    /// One head: prepare (validate, shift), iterate to the official stopping rule (truncated, or densely on
    /// the stored matrix), label.
    /// `truncatedDensity`: try the truncated method, keeping at most this share of the entries (nil: dense).
    func solveHeadOnce(_ scores: UnsafePointer<Float>, head: Int, n: Int, k: Int,
                       warmStart: [Double]?, truncatedDensity: Double?) throws -> SinkhornResult {
        let problem = try prepare(scores, head: head, n: n, k: k, warmStart: warmStart)
        var iterated: SinkhornIterated? = nil
        if let density = truncatedDensity, !tooDenseToTruncate(problem, maxDensity: density) {
            iterated = try iterateTruncated(problem, maxDensity: density, warmStart: warmStart)
        }
        return try label(problem, try iterated ?? iterateDense(problem, warmStart: warmStart))
    }

    /// Whether the truncated method's first build is known, from the statistics pass, to keep more than
    /// `maxDensity` of some block's entries (exactly its own test when every column shift is 0, as for any
    /// problem where every cluster is some sample's favourite): then it is not tried.
    func tooDenseToTruncate(_ p: SinkhornProblem, maxDensity: Double) -> Bool {
        for j in 0..<p.k where p.colShift[j] != 0 { return false }
        for b in 0..<p.layout.blockCount {
            let cap = SinkhornTruncatedMatrix.cap(rows: p.layout.rows(ofBlock: b).count, paddedClusters: p.kp,
                                                  density: maxDensity)
            if p.nearRowMaximum[b] > cap { return true }
        }
        return false
    }

    /// Prepare: checks the warm start, reads the scores once (validation, row shifts `m`, column shifts `b`,
    /// the reference's starting `c0`) and scales `c0` so that its largest entry is 1.
    func prepare(_ scores: UnsafePointer<Float>, head: Int, n: Int, k: Int,
                 warmStart: [Double]?) throws -> SinkhornProblem {
        if let w = warmStart {
            guard w.count == k else { throw SinkhornError.invalidWarmStart(expectedCount: k, count: w.count, badIndex: nil) }
            if let bad = w.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
                throw SinkhornError.invalidWarmStart(expectedCount: k, count: k, badIndex: bad)
            }
        }
        let started = ResourceUsage.monotonicSeconds
        let layout = layout(samples: n)
        let plan = memoryPlan(samples: n, clusters: k)
        let kp = plan.paddedClusters, g = layout.blockCount, ws = workspace
        let rowShift = ws.rowShift(n), c = ws.c(n), colShift = ws.colShift(kp), colMax = ws.blockColMax(g * kp)
        let prep = SinkhornPrepare(scores: scores, n: n, k: k, kp: kp, lambda: options.lambda,
                                   kind: options.scoreKind, head: head, layout: layout,
                                   releasePages: options.releaseFileBackedScores)
        var (near, flat) = try prep.statistics(rowShift: rowShift, logC0: c, blockColMax: colMax,
                                               rowTemp: ws.rowTemp(options.threads * kp), threads: options.threads,
                                               solver: self)
        try shareBlocks(colMax, stride: kp, layout: layout)
        try shareBlocks(&near, layout: layout)
        try shareBlocks(&flat, layout: layout)
        for j in 0..<kp {  // b_k = λ · max over blocks (0 in the padding)
            var m = -Float.infinity
            if j < k { for b in 0..<g { m = max(m, colMax[b * kp + j]) } }
            colShift[j] = j < k ? options.lambda * Double(m) : 0
        }
        var maxLogC0 = -Double.infinity, minLogC0 = Double.infinity
        let rows = layout.ownedRows
        for i in rows { maxLogC0 = max(maxLogC0, c[i]); minLogC0 = min(minLogC0, c[i]) }
        if isDistributed {
            maxLogC0 = try communicator.allreduce(maxLogC0, .max)
            minLogC0 = try communicator.allreduce(minLogC0, .min)
        }
        // Where c0 spans more than e^600 (λ in the thousands, where float64 cannot hold the reference's P^λ
        // and the official loop itself breaks down), the smallest entries are raised to e^-600 of the
        // largest: a different positive start, the same fixed point, no zero column sum.
        for i in rows { c[i] = exp(max(c[i] - maxLogC0, -Self.startingSampleScalingRange)) }
        // Before scaling, log c0_n = λ log max_k P_nk (≤ 0), so −min_n log c0_n / λ is the largest row's
        // −log max_k P_nk.
        let spread = -minLogC0 / options.lambda
        return SinkhornProblem(scores: scores, head: head, n: n, k: k, kp: kp, layout: layout, plan: plan,
                               prepare: prep, rowShift: rowShift, c: c, colShift: colShift, started: started,
                               nearRowMaximum: near, allFlat: flat.reduce(0, +) == n * k,
                               allDenseRows: near.reduce(0, +) == n * kp,
                               representableLambda: spread > 0 ? Self.float64ExponentRange / spread : .infinity)
    }
}
