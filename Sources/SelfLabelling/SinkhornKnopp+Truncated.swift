import CSinkhornKernels
import Foundation
import Tensors

/// Which entries of the matrix the iterations read.
public enum SinkhornTruncation: String, Sendable, CaseIterable {
    /// The truncated method where it applies — `.f32` precision, K ≤ 65,536, and the kept entries at most
    /// three quarters of the matrix (flat rows count whole) — else the dense method. Same stopping rule and
    /// labels either way.
    case automatic = "auto"
    /// Always the dense method: the whole shifted matrix stored (as `SinkhornStorage`) and read every
    /// iteration.
    case off
}

/// How a solve iterated.
public enum SinkhornMethod: String, Sendable, Equatable {
    /// Every entry stored and read in every iteration.
    case dense
    /// Only the entries that can carry mass stored; the full matrix read (from the scores) to start, to
    /// rebuild, and whenever the stopping rule may be met.
    case truncated
}

/// The truncated method's matrix: per row, only the entries within `drop` (in the log domain) of the row's
/// largest entry of `P^λ diag(r̂)`, where `r̂` is a recent cluster scaling.
///
/// Why the dropped entries do not matter: with `u_nk = λ log P_nk + log r_k` (`λ z_nk` for logits, up to a
/// per-row constant), sample n's share of its mass in
/// cluster k is `e^{u_nk} / Σ_j e^{u_nj} ≤ e^{u_nk − max_j u_nj}`. While the iterate `r` stays within a
/// factor `e^{W}` of `r̂` (up to a common constant), an entry dropped at `u − max u < −(Δ + 2W)` for `r̂` is
/// below `−Δ` for `r`, so the dropped part of every row sum and (the shares times the row masses 1/N, summed
/// over N rows) of every cluster sum is below `K e^{−Δ}` relative. With `Δ = log K + 25` that is
/// `e^{−25} ≈ 1.4e-11` — far below float32's rounding. When `r` drifts further, the kept set is rebuilt for
/// the new `r`; every cluster keeps an entry (right after an `r` update some sample gives it a share ≥ 1/K,
/// i.e. `u ≥ max u − log K`) and every row its largest, so no sum is ever zero.
///
/// Values are stored relative to their row's largest entry and the scaling `r̂` (`e_nk = exp(u_nk − M_n)`
/// with `r̂` absorbed), so they lie in `(e^{−drop}, 1]` and the iterate's scaling relative to `r̂` within
/// `[e^{−2W}, 1]`: float32 cannot over- or underflow, however peaked the scores.
final class SinkhornTruncatedMatrix: @unchecked Sendable {
    /// W: the largest spread (max − min) of `log r − log r̂` is 2W before the kept set is rebuilt.
    static let drift = 5.0
    /// By default the entries the passes read (kept entries plus every entry of a dense row) may fill at most
    /// this share of the padded matrix; beyond it (most rows flat) the dense method is used, which does the
    /// same work without rebuilds.
    static let maxDensity = 0.75

    /// The share the memory plan reserves up front: the kept entries of a problem of peaked rows. A mixture
    /// with flat rows allocates its dense rows as they are built (at most `maxDensity`).
    static let plannedDensity = 0.125

    /// A row keeping more than this many of its kp entries is stored densely (a flat row: the dense pass reads
    /// 4 bytes per entry at vector speed, the sparse one 6 bytes per entry by gathers).
    static func denseRowMin(paddedClusters kp: Int) -> Int { kp / 4 }

    /// The entries the passes may read in a block of `rows` rows at `density`.
    static func cap(rows: Int, paddedClusters kp: Int, density: Double) -> Int {
        Int((Double(rows) * Double(kp) * density).rounded(.up))
    }

    /// The most bytes the kept entries of an N x K problem can take at `density`: 4 bytes per entry read, 2 more
    /// per sparse entry (at most kp/4 per row), row starts and the dense rows' bookkeeping.
    static func worstCaseBytes(samples n: Int, clusters k: Int, density: Double) -> Int {
        let kp = (k + 15) / 16 * 16
        let entries = cap(rows: n, paddedClusters: kp, density: density)
        return entries * 4 + 2 * min(entries, n * denseRowMin(paddedClusters: kp)) + n * 24
            + SinkhornLayout(samples: n).blockCount * 8
    }

    /// Whether solves under `options` with K clusters try this method: `.automatic` truncation, `.f32`
    /// precision, and column indices that fit the kernels' 16 bits.
    static func applies(_ options: SinkhornOptions, clusters k: Int) -> Bool {
        options.truncation == .automatic && options.precision == .f32 && k <= 65_536
    }

    /// `Δ + 2W` for K clusters.
    static func drop(clusters k: Int) -> Float { Float(log(Double(k)) + 25 + 2 * drift) }

    private let blocks: UnsafeMutablePointer<CSKSparseBlock>
    private let blockCount: Int
    /// Row offsets M_n (N), column offsets o_k (kp) and one kp row per worker.
    let rowOffset: UnsafeMutablePointer<Float>
    let colOffset: UnsafeMutablePointer<Float>
    /// Probabilities: `w_j = e^{(o_j − ō)/λ}` for the kernels' screening (see `CSKScores.screenWeight`); nil for
    /// logits, whose entries cost no logarithm.
    private let screenWeight: UnsafeMutablePointer<Float>?
    private let rowTemp: UnsafeMutablePointer<Float>
    private(set) var scores: CSKScores
    let layout: SinkhornLayout
    let threads: Int
    let releasePages: Bool
    /// The share of the matrix the kept entries may fill.
    let maxDensity: Double
    /// Whether builds store the dense rows' values (else the passes compute them from the scores); set before
    /// each build.
    var storeDenseRows = false
    /// Kept entries after the last build (the dense rows count kp each).
    private(set) var keptEntries = 0
    /// Rows stored densely (every entry read) after the last build, over every rank.
    private(set) var denseRowCount = 0
    /// Builds so far, and those that rebuilt the dense rows too (the others keep them: see `denseDrift`).
    private(set) var builds = 0
    private(set) var denseBuilds = 0
    /// The dense rows' column offsets: the column offsets of the last build of every row (kp, −∞ in the padding).
    let denseColOffset: UnsafeMutablePointer<Float>
    /// r' as loaded for the dense rows (kp) and the factors `e^{δ_k}` of their cluster sums (kp, set by each
    /// build): see `loadDenseScaling`.
    let denseR32: UnsafeMutablePointer<Float>
    let denseScale: UnsafeMutablePointer<Double>
    /// `δ_k = o_k − o^D_k` (k entries) after a build that kept the dense rows at other offsets; nil while
    /// they read the current offsets.
    private var denseDelta: [Double]? = nil
    private var denseStoredAtBuild = false

    init(scores: UnsafePointer<Float>, kind: SinkhornScoreKind, n: Int, k: Int, kp: Int, lambda: Double,
         rowMax: UnsafePointer<Double>,
         layout: SinkhornLayout, threads: Int, releasePages: Bool, maxDensity: Double, screen: Bool,
         workspace ws: SinkhornWorkspace) {
        self.layout = layout
        self.maxDensity = maxDensity
        self.threads = threads
        self.releasePages = releasePages
        blockCount = layout.blockCount
        blocks = ws.sparseBlocks(layout.blockCount)
        rowOffset = ws.truncatedRowOffset(n)
        colOffset = ws.truncatedColOffset(kp)
        rowTemp = ws.truncatedRowTemp(threads * kp)
        denseColOffset = ws.truncatedDenseColOffset(kp)
        denseR32 = ws.truncatedDenseR32(kp)
        denseScale = ws.truncatedDenseScale(kp)
        // Screening keeps its rounding margin for λ up to about 10^6 (see CSK_SCREEN).
        screenWeight = screen && kind == .probabilities && lambda <= Self.maxScreenedLambda
            ? ws.truncatedScreenWeight(kp) : nil
        rowOffset.initialize(repeating: 0, count: n)
        self.scores = CSKScores(scores: scores, k: k, kp: kp, lambda: Float(lambda), rowMax: rowMax,
                                colOffset: colOffset, rowOffset: rowOffset,
                                probabilities: kind == .probabilities ? 1 : 0, denseColOffset: denseColOffset,
                                screenWeight: nil, screenShift: 0)
    }

    /// The largest λ for which probabilities passes skip groups of entries that are exactly 0 (`CSK_SCREEN`).
    static let maxScreenedLambda = 1e5

    /// Bytes held by the kept entries (column index, value and row starts) of this rank's blocks.
    var storedBytes: Int {
        layout.ownedBlocks.reduce(0) {
            $0 + blocks[$1].count * 6 + (blocks[$1].rows + 1) * 8
                + blocks[$1].denseRows * ((storeDenseRows ? scores.kp * 4 : 0) + 16)
        }
    }

    /// Sets the column offsets `o_k` from float64 values (−∞ in the padding); returns the float32 values
    /// actually used, as float64 (what the iteration's bookkeeping must use).
    func setColumnOffsets(_ o: (Int) -> Double) -> [Double] {
        let k = scores.k, kp = scores.kp
        for j in 0..<kp { colOffset[j] = j < k ? Float(o(j)) : -.infinity }
        if let w = screenWeight {
            var top = -Double.infinity
            for j in 0..<k { top = max(top, Double(colOffset[j])) }
            let lambda = Double(scores.lambda)
            for j in 0..<kp { w[j] = j < k ? Float(exp((Double(colOffset[j]) - top) / lambda)) : 0 }
            scores.screenWeight = UnsafePointer(w)
            scores.screenShift = top
        }
        return (0..<kp).map { j in j < k ? Double(colOffset[j]) : 0 }
    }

    /// Rebuilds the kept entries for the current column offsets, writing the row offsets. The dense rows stay
    /// as the last build of every row made them while the column offsets stay within `denseDrift` of theirs
    /// and no other row turns dense; else every row is rebuilt. False when the kept entries would exceed
    /// `maxDensity` of the matrix (nothing usable is left then). Throws when memory runs out.
    ///
    /// `denseRowsUnread`: the passes until the next build leave the dense rows out (`SinkhornFlatRowFreeze`),
    /// so they are kept however far the column offsets moved; the build before a pass that reads them must not
    /// set it.
    func build(solver: SinkhornKnoppSolver, denseRowsUnread: Bool = false) throws -> Bool {
        if builds > 0 && storeDenseRows == denseStoredAtBuild && (denseRowsUnread || denseRowsWithinDrift()) {
            let status = try buildBlocks(solver: solver, keepDense: true)
            if !status.contains(where: { $0 < 0 }) {
                builds += 1
                keptEntries = status.reduce(0, +)
                denseRowCount = try countDenseRows(solver: solver)
                setDenseDelta()
                return true
            }
        }
        let status = try buildBlocks(solver: solver, keepDense: false)
        builds += 1
        denseBuilds += 1
        denseStoredAtBuild = storeDenseRows
        denseColOffset.update(from: colOffset, count: scores.kp)
        denseDelta = nil
        if status.contains(-1) { keptEntries = 0; return false }
        keptEntries = status.reduce(0, +)
        denseRowCount = try countDenseRows(solver: solver)
        return true
    }

    /// The dense rows of every block, added over the ranks.
    private func countDenseRows(solver: SinkhornKnoppSolver) throws -> Int {
        var counts = [Int](repeating: 0, count: blockCount)
        for b in layout.ownedBlocks { counts[b] = blocks[b].denseRows }
        try solver.shareBlocks(&counts, layout: layout)
        return counts.reduce(0, +)
    }

    /// Whether passes over the sparse rows alone, with the dense rows' scaling held (`SinkhornFlatRowFreeze`),
    /// pay off: there are both kinds of rows and the dense rows' entries are at least `freezeMinShare` times
    /// the sparse rows' (so such a pass reads at most a fifth of what a whole pass reads).
    var freezesDenseRows: Bool {
        let dense = denseRowCount * scores.kp
        return denseRowCount > 0 && denseRowCount < layout.samples
            && dense >= Self.freezeMinShare * (keptEntries - dense)
    }

    static let freezeMinShare = 4

    /// The dense rows keep their values while every column offset is within this of theirs (log domain): their
    /// r' then lies within `e^{±(2W + denseDrift)}` of its largest entry, so their float32 products keep the
    /// entries that carry mass (above `e^{−Δ}` of a row's sum) far from underflow, as the kept entries do.
    static let denseDrift = 20.0

    func denseRowsWithinDrift() -> Bool {
        for j in 0..<scores.k where abs(Double(colOffset[j]) - Double(denseColOffset[j])) > Self.denseDrift {
            return false
        }
        return true
    }

    /// After a build that kept the dense rows: `δ_k = o_k − o^D_k` (the column offsets now and at their build)
    /// and `denseScale = e^{δ}`, which takes their cluster sums to the other rows' terms (1 in the padding); nil
    /// when the offsets are the same.
    private func setDenseDelta() {
        let k = scores.k
        guard (0..<k).contains(where: { colOffset[$0] != denseColOffset[$0] }) else { denseDelta = nil; return }
        let delta = (0..<k).map { Double(colOffset[$0]) - Double(denseColOffset[$0]) }
        denseDelta = delta
        for j in 0..<scores.kp { denseScale[j] = j < k ? exp(delta[j]) : 1 }
    }

    /// Loads the dense rows' r' for a pass whose other rows read `exp(logR − α)`: `r'^D_k = exp(logR_k − α + δ_k)`
    /// (see `setDenseDelta`). False (nothing loaded) while they read the current offsets.
    func loadDenseScaling(logR: [Double], alpha: Double) -> Bool {
        guard let delta = denseDelta else { return false }
        let k = scores.k
        for j in 0..<scores.kp { denseR32[j] = j < k ? Float(exp(logR[j] - alpha + delta[j])) : 0 }
        return true
    }

    /// Every block built (`keepDense`: the dense rows kept); the blocks' statuses, the same on every rank.
    private func buildBlocks(solver: SinkhornKnoppSolver, keepDense: Bool) throws -> [Int] {
        let k = scores.k
        let drop = Self.drop(clusters: k)
        var status = [Int](repeating: 0, count: blockCount)
        status.withUnsafeMutableBufferPointer { st in
            let ctx = UnsafeSendable((st.baseAddress!, self))
            sinkhornForEachBlock(layout, threads: threads) { b, w in
                let (st, m) = ctx.value
                let rows = m.layout.rows(ofBlock: b)
                let cap = Self.cap(rows: rows.count, paddedClusters: m.scores.kp, density: m.maxDensity)
                withUnsafePointer(to: m.scores) { s in
                    st[b] = csk_truncated_build_block(s, rows.lowerBound, rows.upperBound, drop, cap,
                                                      Self.denseRowMin(paddedClusters: m.scores.kp),
                                                      m.storeDenseRows ? 1 : 0, keepDense ? 1 : 0, m.blocks + b,
                                                      m.rowTemp + w * m.scores.kp)
                }
                m.release(rows)
            }
        }
        try solver.shareBlocks(&status, layout: layout)  // every rank takes the same decisions below
        if status.contains(-2) {
            let n = layout.samples
            throw SinkhornError.insufficientMemory(
                needed: Self.worstCaseBytes(samples: n, clusters: k, density: maxDensity),
                available: SinkhornMemoryPlan.systemAvailableBytes() ?? 0, fittingStorage: nil)
        }
        return status
    }

    /// One Sinkhorn pass over the kept entries of block `b` (dense rows not stored: computed from the
    /// scores in `chunk`, whose pages are then returned).
    func pass(_ args: inout CSKPass, block b: Int, worker w: Int, acc: UnsafeMutablePointer<Double>,
              scratch: UnsafeMutablePointer<Float>, chunk: UnsafeMutablePointer<Float>) -> Double {
        let rows = layout.rows(ofBlock: b)
        let err = withUnsafePointer(to: scores) { s in
            csk_truncated_pass_block(&args, s, blocks + b, rows.lowerBound, acc, scratch, chunk)
        }
        if !storeDenseRows && blocks[b].denseRows > 0 { release(rows) }
        return err
    }

    /// One Sinkhorn pass over every entry of block `b`, computed from the scores (nothing dropped).
    func fullPass(_ args: inout CSKPass, block b: Int, worker w: Int, acc: UnsafeMutablePointer<Double>) -> Double {
        let rows = layout.rows(ofBlock: b)
        let err = withUnsafePointer(to: scores) { s in
            csk_scores_pass_block(&args, s, builds > 0 ? blocks + b : nil, rows.lowerBound, rows.upperBound, acc,
                                  rowTemp + w * scores.kp)
        }
        release(rows)
        return err
    }

    private func release(_ rows: Range<Int>) {
        if releasePages {
            sinkhornReleasePages(scores.scores + rows.lowerBound * scores.k, count: rows.count * scores.k)
        }
    }
}
