import CSinkhornKernels
import Foundation
import Tensors

/// What the iterations read: the stored dense matrix, the dense matrix computed from the scores in every pass
/// (`prepare` with the row shifts m and the float32 column shifts b), or the truncated matrix (with the scores behind it).
enum SinkhornSource {
    case stored(UnsafeRawPointer)
    case streamed(SinkhornPrepare, rowShift: UnsafeMutablePointer<Double>, colShift: UnsafePointer<Float>)
    case truncated(SinkhornTruncatedMatrix)
}

/// The reference's loop over fused passes, with the scalings kept as float64 logarithms.
///
/// Naming follows the paper (Asano et al., ICLR 2020, and its `optimize_L_sk`): `r` is the per-cluster
/// scaling (K entries), `c` the per-sample scaling (N entries), and the plan is `Q = diag(c) P^λ diag(r)`.
///
/// Pass t takes `r_t`, held as `log r'` and loaded scaled by `exp(−α_t)` with `α_t = max_k log r'_t,k`
/// (`loadScaling`, so the loaded `r'` lies in (0, 1]), and yields `c_t = c'/exp(α_t)` and `Aᵀ c_t`, hence
/// `r_{t+1} = (1/K) / (Aᵀ c_t)` (`updateR`). That is exactly one iteration of the reference (`r` update, then
/// `c` update); the cold start first runs one column-sum pass with the reference's uniform `c_0` to get `r_1`
/// (`startingLogR`).
///
/// Truncated source: see `rebuild` and `checkedError` — the kept entries are rebuilt whenever `log r'` spreads
/// over more than 2W, and a check that passes on the kept entries is redone on the full matrix, so the
/// official rule is always evaluated on the full matrix. Acceleration: see `SinkhornAnderson` and
/// `SinkhornOverRelaxation`; the cap: `SinkhornCap`.
struct SinkhornIteration {
    let solver: SinkhornKnoppSolver
    private(set) var source: SinkhornSource
    let layout: SinkhornLayout
    let n: Int, k: Int, kp: Int
    /// c' per sample; holds the starting `c_0` on entry.
    let c: UnsafeMutablePointer<Double>
    /// b_k per cluster: log r_k = log r'_k − b_k. The truncated source moves them.
    let colShift: UnsafeMutablePointer<Double>
    let head: Int
    /// r' as loaded for a pass, float32 and float64 (kp).
    let r32: UnsafeMutablePointer<Float>, r64: UnsafeMutablePointer<Double>
    /// Per-block cluster sums (G x kp) and errors (G); per-worker float32 sums (T x kp).
    let blockAcc: UnsafeMutablePointer<Double>, blockErr: UnsafeMutablePointer<Double>
    let scratch: UnsafeMutablePointer<Float>
    /// Per-worker groups of streamed rows (T x 64 x kp).
    let chunk: UnsafeMutablePointer<Float>
    /// `Aᵀ c` of the last pass, blocks added in index order (kp).
    private(set) var acc: [Double]
    /// Passes over the full matrix computed from the scores (truncated source).
    private(set) var fullPasses = 0
    /// Passes over the sparse rows alone (`SinkhornFlatRowFreeze`).
    private(set) var sparsePasses = 0
    /// The dense rows' per-block cluster sums of the last pass that kept them (G x kp).
    let frozenBlockAcc: UnsafeMutablePointer<Double>
    /// The truncated source's dense rows have their own r' for this pass (`loadDenseScaling`).
    private var denseLoaded = false
    /// A streamed dense source that stores its matrix in a later pass (`deferStore`): after how many streamed
    /// passes, as what, and where; nil otherwise.
    private var deferredStore: (passes: Int, element: CSKElement, allocate: () throws -> UnsafeMutableRawPointer)? = nil
    /// Passes streamed so far.
    private var streamedPasses = 0

    /// Passes streamed before the store on flat scores (see `deferStore`).
    static let deferredStorePasses = 3
    /// Passes streamed before the store on scores with no peaked row that are not flat
    /// (`SinkhornProblem.allDenseRows`; see `deferStore`).
    static let deferredStorePassesNoPeak = 5
    /// Early checks (`SinkhornOptions.checksEarly`): while two consecutive plain iterations' checked errors fall
    /// by this factor or more, the steps stay plain (flat σ 0.1 scores at 200k × 3000: 37,600 → 683 → …,
    /// factors of 50 and more, where an Anderson step between checks costs a pass).
    static let plainContraction = 0.05

    init(solver: SinkhornKnoppSolver, source: SinkhornSource, problem p: SinkhornProblem) {
        self.solver = solver
        self.source = source
        layout = p.layout
        (n, k, kp, head) = (p.n, p.k, p.kp, p.head)
        c = p.c
        colShift = p.colShift
        let ws = solver.workspace, g = p.layout.blockCount
        r32 = ws.r32(p.kp)
        r64 = ws.r64(p.kp)
        blockAcc = ws.blockAcc(g * p.kp)
        blockErr = ws.blockErr(g)
        frozenBlockAcc = ws.frozenBlockAcc(g * p.kp)
        scratch = ws.scratch(solver.options.threads * p.kp)
        chunk = ws.chunk(solver.options.threads * Int(CSK_GROUP_ROWS) * p.kp)
        acc = [Double](repeating: 0, count: p.kp)
    }

    struct State {
        /// log r'_k of the last pass (kp entries, −∞ in the padding).
        var logR: [Double]
        var iterations: Int
        var converged: Bool
        var errors: [Double]
        var marginalDeviation: Double
        /// Passes over the full matrix computed from the scores (truncated source).
        var fullPasses = 0
        /// The automatic cap stopped the loop because the error had stopped falling.
        var stalled = false
        /// Passes over the sparse rows alone, the flat rows' scaling held (`SinkhornFlatRowFreeze`).
        var sparsePasses = 0
    }

    /// Runs to the stopping rule; nil when the truncated source turned out too dense (then nothing is
    /// usable and the caller solves densely).
    mutating func run(warmStart: [Double]?) throws -> State? {
        let o = solver.options
        var truncated: SinkhornTruncatedMatrix? = nil
        if case let .truncated(m) = source {
            truncated = m
            // Until the first build, the full matrix with the column shifts b (entries ≤ 1, row offsets 0).
            let used = m.setColumnOffsets { -colShift[$0] }
            for j in 0..<kp { colShift[j] = -used[j] }
        }
        // The balanced start (`SinkhornOptions.startsBalanced`): pass 0 runs from r' = 1, which no c produced,
        // so it is not a check; everything after it is as from the reference's start.
        let balanced = warmStart == nil && solver.startsBalanced
        var logR = try startingLogR(warmStart: warmStart, balanced: balanced)
        var relax = SinkhornOverRelaxation(enabled: o.acceleration == .overRelaxation, cold: warmStart == nil)
        var anderson = o.acceleration == .anderson ? SinkhornAnderson(clusters: k) : nil
        var alphaPrev = 0.0, err = Double.infinity, errors: [Double] = [], counter = 0
        var used = logR, deviation = Double.nan
        var cap = SinkhornCap(maxIterations: o.maxIterations)
        var freeze = anderson != nil && truncated != nil && o.freezesFlatRows
            ? SinkhornFlatRowFreeze(paddedClusters: kp, tolerance: o.tolerance) : nil
        // False while some row's c' is older than the last pass (after sparse passes): no check until a pass
        // has read every row.
        var everyRowCurrent = true
        // Early checks (`SinkhornOptions.checksEarly`, with Anderson): whether the step into this pass was plain
        // (then the pass is an official iteration and its error the official one), and the error of the last
        // pass that was not a check (every pass computes it then; a plain step follows when it meets tol).
        let checksEarly = anderson != nil && o.checksEarly
        var plainInto = true, estimate = Double.infinity
        // The last check (iteration, error): two checks on consecutive iterations whose error fell by
        // `plainContraction` or more keep the steps plain (`checksEarly`).
        var lastCheck: (iteration: Int, error: Double)? = nil, fastPlain = false
        while err > o.tolerance && !cap.reached(iterations: counter) {
            // With the flat rows held, the passes until the next every-row pass leave them out, so builds keep
            // them however far the offsets move (a build before the every-row pass brings them back in range).
            let freezing = freeze.map { !$0.abandoned && truncated!.freezesDenseRows } ?? false
            let sparseNext = freezing && freeze!.next.isSparse
            if let m = truncated, m.builds == 0 || spread(logR) > 2 * SinkhornTruncatedMatrix.drift
                || (freeze != nil && !sparseNext && !m.denseRowsWithinDrift()) {
                m.storeDenseRows = solver.storesDenseRows(rows: layout.ownedRows.count, paddedClusters: kp)
                let oldShift = (0..<kp).map { colShift[$0] }, denseBuilds = m.denseBuilds
                guard try rebuild(m, logR: &logR, used: &used, denseRowsUnread: sparseNext) else { return nil }
                anderson?.reset()
                if m.denseBuilds == denseBuilds { freeze?.shifted(from: oldShift, to: colShift) } else { freeze?.invalidate() }
            }
            let alpha = loadScaling(logR)
            let ratio = exp(alpha - alphaPrev)
            // Whether the step after this pass must be plain (and Anderson restart).
            var plain: Bool
            if var f = freeze, !f.abandoned, let m = truncated, m.freezesDenseRows {
                switch f.next {
                case .everyRow:
                    try pass(iterate: true, check: false, ratio: ratio, keepDenseSums: true)
                    f.held(blockSums: frozenBlockAcc, blocks: layout.blockCount, alpha: alpha)
                    everyRowCurrent = true
                    plain = true
                case .sparseRows:
                    try pass(iterate: true, check: true, ratio: ratio, skipDense: true)
                    f.add(to: &acc, alpha: alpha)
                    plain = f.sparsePassed(error: blockErrorSum())
                    everyRowCurrent = false
                    sparsePasses += 1
                case .check:
                    let confirmed = fullPasses
                    err = try checkedError(ratio: ratio, decideOnFullMatrix: true, keepDenseSums: true)
                    if fullPasses == confirmed { f.held(blockSums: frozenBlockAcc, blocks: layout.blockCount, alpha: alpha) }
                    f.checked(error: err, keptSums: fullPasses == confirmed)
                    errors.append(err)
                    cap.record(error: err, iterations: counter)
                    solver.progress?(SinkhornProgress(head: head, iteration: counter + 1, error: err))
                    everyRowCurrent = true
                    plain = true
                }
                freeze = f
            } else {
                let check = (counter % 10 == 0 || checksEarly && plainInto)
                    && (counter > 0 || warmStart == nil && !balanced) && everyRowCurrent
                if check {
                    err = try checkedError(ratio: ratio, decideOnFullMatrix: truncated != nil)
                    if checksEarly {
                        if let last = lastCheck, last.iteration == counter - 1 {
                            fastPlain = err <= Self.plainContraction * last.error
                        }
                        lastCheck = (counter, err)
                    }
                    errors.append(err)
                    relax.update(errors: errors)
                    cap.record(error: err, iterations: counter)
                    solver.progress?(SinkhornProgress(head: head, iteration: counter + 1, error: err))
                } else {
                    try pass(iterate: true, check: checksEarly, ratio: ratio, omega: relax.cOmega)
                    // After the balanced start's pass 0 the error compares with the prepared c_0, not an iterate.
                    if checksEarly && !(balanced && counter == 0) { estimate = blockErrorSum() }
                }
                freeze?.restart()
                everyRowCurrent = true
                // The step into every check is plain, so the check is an official Sinkhorn iteration.
                // With early checks also when the unchecked pass's error meets the rule (the next pass then
                // checks it), and while plain steps contract fast: each is then a check, and Anderson's
                // history would only delay the iteration that meets the rule. After the balanced start's pass 0
                // the history is cleared, so iterations 1 and 2 are both plain checks, as after the reference's
                // start (whose first Anderson step has an empty history): the first contraction factor is known
                // as early, and flat scores stop as soon (σ 0.005 at λ 25: 4 → 3 passes).
                plain = (counter + 1) % 10 == 0 || balanced && counter == 0
                    || checksEarly && (!check && estimate <= o.tolerance || check && fastPlain)
            }
            deviation = 0
            for j in 0..<k { deviation = max(deviation, abs(Double(k) * r64[j] * acc[j] - 1)) }
            used = logR
            if anderson != nil {
                var g = logR
                updateR(&g, alpha: alpha, omega: 1)
                if plain {
                    logR = g
                    anderson!.reset()
                    plainInto = true
                } else {
                    plainInto = anderson!.next(&logR, plainUpdate: g)
                    // Safeguard: a mixed step that spreads the scaling far beyond the plain one is an
                    // extrapolation off the kept entries' range (it would force a dense build, or leave the
                    // truncated method altogether): take the plain step instead.
                    if truncated != nil && spread(logR) > spread(g) + 4 * SinkhornTruncatedMatrix.drift {
                        logR = g
                        anderson!.reset()
                        plainInto = true
                    }
                }
            } else {
                updateR(&logR, alpha: alpha, omega: relax.rOmega(nextIteration: counter + 1))
            }
            alphaPrev = alpha
            counter += 1
        }
        return State(logR: used, iterations: counter, converged: err <= o.tolerance, errors: errors,
                     marginalDeviation: deviation, fullPasses: fullPasses, stalled: cap.stalled,
                     sparsePasses: sparsePasses)
    }

    /// Makes a streamed dense source store its matrix as `element`, into the memory `allocate` returns
    /// (addressed by global row), in the pass after the first `passes` streamed ones, the pass's own read of the
    /// scores doing both (C kernel `csk_store_pass_block`: the bits the streamed passes computed, so nothing
    /// changes but the cost).
    /// - `passes` 0: the first pass stores: the reference start's column sums, the balanced start's pass 0
    ///   (`SinkhornOptions.startsBalanced`) or a warm start's first iteration.
    /// - `deferredStorePasses` on flat scores (`SinkhornProblem.allFlat`): storing costs about one streamed pass
    ///   more than a streamed pass (first-touching N x kp x 4 bytes: about 0.5 s of it at 200k × 3000 on a calm
    ///   machine, several times that on a busy VM), a stored pass saves ~0.11 s on a streamed one (logits:
    ///   0.07 s against 0.18 s), and such scores meet the rule within three passes with Anderson's early checks
    ///   (`SinkhornOptions.checksEarly`), so nothing is stored. A fourth pass, if it comes, stores.
    /// - `deferredStorePassesNoPeak` on scores with no peaked row (`SinkhornProblem.allDenseRows`; σ 0.1 logits
    ///   at λ 10 and 25 need 3 and 5 passes): storing pays only after about four stored passes, and a streamed
    ///   pass over probabilities costs about what one over logits does since their entries are powers
    ///   (`SinkhornPrepare.withPowers`). Streaming σ 0.1 at 200k × 3000 took 0.78-1.33 s against 1.18-1.44 s
    ///   for storing in pass 0, in 117 MB instead of 2.5 GB. A longer solve stores in its sixth pass, having
    ///   spent at most about one store's cost on streaming (rent or buy).
    mutating func deferStore(after passes: Int, as element: CSKElement,
                             allocate: @escaping () throws -> UnsafeMutableRawPointer) {
        guard case .streamed = source else { preconditionFailure("deferStore: the source is not streamed") }
        deferredStore = (passes, element, allocate)
    }

    /// `log r'` to start from: the warm start shifted by `b`, `log r' = 0` (`balanced`), or (cold) the
    /// reference's `r_1 = (1/K)/(Aᵀ c_0)` from one column-sum pass.
    private mutating func startingLogR(warmStart: [Double]?, balanced: Bool) throws -> [Double] {
        var logR = [Double](repeating: -.infinity, count: kp)
        if let w = warmStart {
            for j in 0..<k { logR[j] = log(w[j]) + colShift[j] }
        } else if balanced {
            for j in 0..<k { logR[j] = 0 }
        } else {
            try pass(iterate: false, check: false, ratio: 1, full: true)
            for j in 0..<k { logR[j] = -log(Double(k) * acc[j]) }
        }
        return logR
    }

    /// The log shift: loads `r' = exp(log r' − α)` (float64 and float32) with `α = max_k log r'_k`, so the
    /// pass's products stay in range; returns α.
    private mutating func loadScaling(_ logR: [Double]) -> Double {
        var alpha = -Double.infinity
        for j in 0..<k { alpha = max(alpha, logR[j]) }
        for j in 0..<kp { r64[j] = exp(logR[j] - alpha) }
        for j in 0..<kp { r32[j] = Float(r64[j]) }
        if case let .truncated(m) = source { denseLoaded = m.loadDenseScaling(logR: logR, alpha: alpha) }
        return alpha
    }

    /// A checked (plain) iteration and its official error `Σ_n |c_n / c_new_n − 1|`. On a truncated source an
    /// error that meets the tolerance on the kept entries is not trusted: the same iteration is run again from
    /// the same `c'` over the full matrix, and that error decides.
    private mutating func checkedError(ratio: Double, decideOnFullMatrix: Bool,
                                       keepDenseSums: Bool = false) throws -> Double {
        let savedC = decideOnFullMatrix ? solver.workspace.savedC(n) : nil
        if let savedC { savedC.update(from: c, count: n) }
        try pass(iterate: true, check: true, ratio: ratio, keepDenseSums: keepDenseSums)
        var err = blockErrorSum()
        if let savedC, err <= solver.options.tolerance {
            c.update(from: savedC, count: n)
            try pass(iterate: true, check: true, ratio: ratio, full: true)
            err = blockErrorSum()
        }
        return err
    }

    private func blockErrorSum() -> Double {
        var err = 0.0
        for b in 0..<layout.blockCount { err += blockErr[b] }
        return err
    }

    /// The reference's r update from the last pass's `Aᵀ c` (`log r_new = α − log(K · Aᵀc)`), moved by ω in
    /// the log domain (ω = 1: the plain update).
    private func updateR(_ logR: inout [Double], alpha: Double, omega: Double) {
        for j in 0..<k { logR[j] += omega * (alpha - log(Double(k) * acc[j]) - logR[j]) }
    }

    /// One fused pass over the source (see `SinkhornPass`); leaves `Aᵀ c'` in `acc`, added block by block in
    /// index order so that it does not depend on the thread count.
    /// `skipDense`: the truncated source's sparse rows alone; `keepDenseSums`: its dense rows' per-block sums
    /// kept in `frozenBlockAcc` (see `SinkhornFlatRowFreeze`).
    private mutating func pass(iterate: Bool, check: Bool, ratio: Double, omega: Double = 1,
                               full: Bool = false, skipDense: Bool = false, keepDenseSums: Bool = false) throws {
        let o = solver.options
        var dense: (UnsafePointer<Float>, UnsafePointer<Double>)? = nil
        if case let .truncated(m) = source, denseLoaded { dense = (UnsafePointer(m.denseR32), UnsafePointer(m.denseScale)) }
        let p = SinkhornPass(n: n, kp: kp, r32: r32, r64: r64, c: c, blockAcc: blockAcc, blockErr: blockErr,
                             scratch: scratch, chunk: chunk, iterate: iterate, check: check, ratio: ratio, omega: omega,
                             r32Dense: dense?.0, denseScale: dense?.1, skipDense: skipDense,
                             denseAcc: keepDenseSums ? frozenBlockAcc : nil)
        let layout = self.layout
        switch (source, o.precision, o.storage) {
        case let (.truncated(m), _, _):
            if full { fullPasses += 1 }
            sinkhornForEachBlock(layout, threads: o.threads) { b, w in p.runTruncated(m, full: full, block: b, worker: w) }
        case let (.streamed(prepare, rowShift, colShift), _, _):
            let rowTemp = solver.workspace.rowTemp(o.threads * kp)
            if let store = deferredStore, streamedPasses >= store.passes {
                let matrix = try store.allocate()
                sinkhornForEachBlock(layout, threads: o.threads) { b, w in
                    p.runStoring(prepare, store.element, into: matrix, rowShift: rowShift, colShift: colShift, block: b,
                                 worker: w, rowTemp: rowTemp)
                }
                deferredStore = nil
                source = .stored(UnsafeRawPointer(matrix))
            } else {
                sinkhornForEachBlock(layout, threads: o.threads) { b, w in
                    p.runStreamed(prepare, rowShift: rowShift, colShift: colShift, block: b, worker: w, rowTemp: rowTemp)
                }
                streamedPasses += 1
            }
        case let (.stored(a), .f64, _):
            sinkhornForEachBlock(layout, threads: o.threads) { b, _ in p.runF64(a, block: b, layout: layout) }
        case let (.stored(a), .f32, storage):
            let element = storage == .f32 ? CSK_F32 : storage == .bf16 ? CSK_BF16 : CSK_F16
            sinkhornForEachBlock(layout, threads: o.threads) { b, w in
                p.runF32(a, element, block: b, worker: w, layout: layout)
            }
        }
        try gatherBlocks(check: check, keepDenseSums: keepDenseSums, full: full)
    }

    /// After a pass: every rank's blocks (cluster sums, errors when checking), then `acc` = the blocks' cluster
    /// sums added in index order.
    private mutating func gatherBlocks(check: Bool, keepDenseSums: Bool, full: Bool) throws {
        try solver.shareBlocks(blockAcc, stride: kp, layout: layout)
        if keepDenseSums && !full { try solver.shareBlocks(frozenBlockAcc, stride: kp, layout: layout) }
        if check { try solver.shareBlocks(blockErr, stride: 1, layout: layout) }
        for j in 0..<kp { acc[j] = 0 }
        for b in 0..<layout.blockCount {
            let row = blockAcc + b * kp
            for j in 0..<kp { acc[j] += row[j] }
        }
    }

    /// max − min of `log r'` over the clusters.
    private func spread(_ logR: [Double]) -> Double {
        var lo = Double.infinity, hi = -Double.infinity
        for j in 0..<k { lo = min(lo, logR[j]); hi = max(hi, logR[j]) }
        return hi - lo
    }

    /// Truncation rebuild: rebuilds the kept entries around the current `r` (column offsets
    /// `log r̂ = log r − max log r`), which moves the column shifts to `−log r̂` and the row shifts to the rows'
    /// new maxima, and carries `log r'`, the last pass's `log r'` and `c'` over to the new shifts. False when
    /// too dense.
    private func rebuild(_ m: SinkhornTruncatedMatrix, logR: inout [Double], used: inout [Double],
                         denseRowsUnread: Bool = false) throws -> Bool {
        var logRHat = [Double](repeating: 0, count: k)
        var top = -Double.infinity
        for j in 0..<k { logRHat[j] = logR[j] - colShift[j]; top = max(top, logRHat[j]) }
        let newShift = m.setColumnOffsets { logRHat[$0] - top }.map { -$0 }
        let oldRowOffset = solver.workspace.truncatedOldRowOffset(n)
        oldRowOffset.update(from: m.rowOffset, count: n)
        guard try m.build(solver: solver, denseRowsUnread: denseRowsUnread) else { return false }
        for j in 0..<k {
            logR[j] += newShift[j] - colShift[j]
            used[j] += newShift[j] - colShift[j]
            colShift[j] = newShift[j]
        }
        for i in layout.ownedRows { c[i] *= exp(Double(m.rowOffset[i]) - Double(oldRowOffset[i])) }
        return true
    }
}
