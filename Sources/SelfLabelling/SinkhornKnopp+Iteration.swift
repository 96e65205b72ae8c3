import CSinkhornKernels
import Foundation
import Tensors

/// What the iterations read: the stored dense matrix, or the truncated matrix (with the scores behind it).
enum SinkhornSource {
    case stored(UnsafeRawPointer)
    case truncated(SinkhornTruncatedMatrix)
}

/// The reference's loop over fused passes, with the scalings kept as float64 logarithms.
///
/// Pass t takes r_t (scaled by `exp(−α_t)`, `α_t = max_k log r_t,k`, so the stored `r'` lies in (0, 1]) and
/// yields `c_t = c'/exp(α_t)` and `Aᵀ c_t`, hence `r_{t+1} = (1/K) / (Aᵀ c_t)`. That is exactly one iteration of
/// the reference (`r` update, then `c` update); the cold start first runs one column-sum pass with the
/// reference's uniform `c_0` to get `r_1`.
///
/// Truncated source: the kept entries are (re)built before the first pass and whenever `log r'` spreads over
/// more than 2W; a rebuild moves the column shifts to `−log r̂` and the row shifts to the rows' new maxima, and
/// the loop carries `log r'` and `c'` over to the new shifts. At a check whose error on the kept entries
/// meets the tolerance, the same iteration is run again over the full matrix (from the scores), and that
/// error decides — so the official rule is always evaluated on the full matrix.
struct SinkhornIteration {
    let solver: SinkhornKnoppSolver
    let source: SinkhornSource
    let layout: SinkhornLayout
    let n: Int, k: Int, kp: Int
    /// c' per row; holds the starting `c_0` on entry.
    let c: UnsafeMutablePointer<Double>
    /// b_k: log r_k = log r'_k − b_k. The truncated source moves them.
    let colShift: UnsafeMutablePointer<Double>
    let head: Int

    struct State {
        /// log r'_k of the last pass (kp entries, −∞ in the padding).
        var logR: [Double]
        var iterations: Int
        var converged: Bool
        var errors: [Double]
        var marginalDeviation: Double
        /// Passes over the full matrix computed from the scores (truncated source).
        var fullPasses = 0
    }

    /// Runs to the stopping rule; nil when the truncated source turned out too dense (then nothing is
    /// usable and the caller solves densely).
    func run(warmStart: [Double]?) throws -> State? {
        let o = solver.options
        let ws = solver.workspace
        let g = layout.blockCount
        let r32 = ws.floats("r32", kp), r64 = ws.doubles("r64", kp)
        let blockAcc = ws.doubles("blockAcc", g * kp), blockErr = ws.doubles("blockErr", g)
        let scratch = ws.floats("scratch", o.threads * kp)
        var acc = [Double](repeating: 0, count: kp)
        var fullPasses = 0

        func pass(iterate: Bool, check: Bool, ratio: Double, omega: Double = 1, full: Bool = false) {
            let p = SinkhornPass(n: n, kp: kp, r32: r32, r64: r64, c: c, blockAcc: blockAcc,
                                 blockErr: blockErr, scratch: scratch, iterate: iterate, check: check, ratio: ratio,
                                 omega: omega)
            let layout = self.layout
            switch (source, o.precision, o.storage) {
            case let (.truncated(m), _, _):
                if full { fullPasses += 1 }
                sinkhornForEachBlock(layout, threads: o.threads) { b, w in
                    p.runTruncated(m, full: full, block: b, worker: w)
                }
            case let (.stored(a), .f64, _):
                sinkhornForEachBlock(layout, threads: o.threads) { b, _ in p.runF64(a, block: b, layout: layout) }
            case let (.stored(a), .f32, .f32):
                sinkhornForEachBlock(layout, threads: o.threads) { b, w in
                    p.runF32(a, CSK_F32, block: b, worker: w, layout: layout)
                }
            case let (.stored(a), .f32, .bf16):
                sinkhornForEachBlock(layout, threads: o.threads) { b, w in
                    p.runF32(a, CSK_BF16, block: b, worker: w, layout: layout)
                }
            case let (.stored(a), .f32, .f16):
                sinkhornForEachBlock(layout, threads: o.threads) { b, w in
                    p.runF32(a, CSK_F16, block: b, worker: w, layout: layout)
                }
            }
            for j in 0..<kp { acc[j] = 0 }
            for b in 0..<g {  // fixed order: independent of the thread count
                let row = blockAcc + b * kp
                for j in 0..<kp { acc[j] += row[j] }
            }
        }

        var truncated: SinkhornTruncatedMatrix? = nil
        if case let .truncated(m) = source {
            truncated = m
            // Until the first build, the full matrix with the column shifts b (entries ≤ 1, row offsets 0).
            let used = m.setColumnOffsets { -colShift[$0] }
            for j in 0..<kp { colShift[j] = -used[j] }
        }
        var logR = [Double](repeating: -.infinity, count: kp)
        if let w = warmStart {
            for j in 0..<k { logR[j] = log(w[j]) + colShift[j] }
        } else {
            pass(iterate: false, check: false, ratio: 1, full: true)
            for j in 0..<k { logR[j] = -log(Double(k) * acc[j]) }
        }
        var alphaPrev = 0.0
        var err = Double.infinity
        var errors: [Double] = []
        var counter = 0
        var used = logR
        var deviation = Double.nan
        var omega = 1.0
        let relax = o.overRelaxation
        let savedC = truncated == nil ? nil : ws.doubles("savedC", n)
        while err > o.tolerance && counter < o.maxIterations {
            if let m = truncated, m.builds == 0 || spread(logR) > 2 * SinkhornTruncatedMatrix.drift {
                guard try rebuild(m, logR: &logR, used: &used) else { return nil }
            }
            var alpha = -Double.infinity
            for j in 0..<k { alpha = max(alpha, logR[j]) }
            for j in 0..<kp { r64[j] = exp(logR[j] - alpha) }
            for j in 0..<kp { r32[j] = Float(r64[j]) }
            let check = counter % 10 == 0 && (counter > 0 || warmStart == nil)
            let ratio = exp(alpha - alphaPrev)
            if check, let savedC { savedC.update(from: c, count: n) }
            pass(iterate: true, check: check, ratio: ratio, omega: relax && !check ? omega : 1)
            if check {
                err = 0
                for b in 0..<g { err += blockErr[b] }
                if let savedC, err <= o.tolerance {  // decide on the full matrix
                    c.update(from: savedC, count: n)
                    pass(iterate: true, check: true, ratio: ratio, full: true)
                    err = 0
                    for b in 0..<g { err += blockErr[b] }
                }
                errors.append(err)
                if relax { omega = nextOmega(omega, errors: errors, cold: warmStart == nil) }
                solver.progress?(SinkhornProgress(head: head, iteration: counter + 1, error: err))
            }
            deviation = 0
            for j in 0..<k { deviation = max(deviation, abs(Double(k) * r64[j] * acc[j] - 1)) }
            used = logR
            let rOmega = relax && (counter + 1) % 10 != 0 ? omega : 1  // plain into every check
            for j in 0..<k { logR[j] += rOmega * (alpha - log(Double(k) * acc[j]) - logR[j]) }
            alphaPrev = alpha
            counter += 1
        }
        return State(logR: used, iterations: counter, converged: err <= o.tolerance, errors: errors,
                     marginalDeviation: deviation, fullPasses: fullPasses)
    }

    /// max − min of `log r'` over the clusters.
    private func spread(_ logR: [Double]) -> Double {
        var lo = Double.infinity, hi = -Double.infinity
        for j in 0..<k { lo = min(lo, logR[j]); hi = max(hi, logR[j]) }
        return hi - lo
    }

    /// Rebuilds the truncated matrix around the current `r` (column offsets `log r̂ = log r − max log r`) and
    /// carries `log r'`, the last pass's `log r'` and `c'` over to the new shifts. False when too dense.
    private func rebuild(_ m: SinkhornTruncatedMatrix, logR: inout [Double], used: inout [Double]) throws -> Bool {
        var logRHat = [Double](repeating: 0, count: k)
        var top = -Double.infinity
        for j in 0..<k { logRHat[j] = logR[j] - colShift[j]; top = max(top, logRHat[j]) }
        let newShift = m.setColumnOffsets { logRHat[$0] - top }.map { -$0 }
        let oldRowOffset = solver.workspace.floats("truncOldRowOffset", n)
        oldRowOffset.update(from: m.rowOffset, count: n)
        guard try m.build() else { return false }
        for j in 0..<k {
            logR[j] += newShift[j] - colShift[j]
            used[j] += newShift[j] - colShift[j]
            colShift[j] = newShift[j]
        }
        for i in 0..<n { c[i] *= exp(Double(m.rowOffset[i]) - Double(oldRowOffset[i])) }
        return true
    }

    /// The over-relaxation factor after a check. First estimated from two plain checks (the error falls by
    /// ρ per iteration: ω = 2/(1+√(1−ρ)), Young's optimum for SOR); then, while errors fall, raised from the
    /// observed relaxed rate λ through the SOR relation `(λ + ω − 1)² = λ ω² ρ`; halved towards 1 when an
    /// error grows. Capped at 1.9.
    func nextOmega(_ omega: Double, errors: [Double], cold: Bool) -> Double {
        let m = errors.count
        guard m >= 2, errors[m - 2] > 0, errors[m - 1] > 0 else { return omega }
        let lambda = pow(errors[m - 1] / errors[m - 2], 0.1)
        if omega == 1 {
            guard m >= (cold ? 3 : 2), lambda < 1 else { return 1 }
            return min(1.9, 2 / (1 + (1 - min(lambda, 0.9999)).squareRoot()))
        }
        if lambda >= 1 { return 1 + (omega - 1) / 2 }
        let rho = min((lambda + omega - 1) * (lambda + omega - 1) / (lambda * omega * omega), 0.9999)
        return min(1.9, max(omega, 2 / (1 + (1 - rho).squareRoot())))
    }
}
