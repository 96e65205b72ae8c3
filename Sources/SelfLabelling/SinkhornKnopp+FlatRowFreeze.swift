import Foundation

/// Block iterations for the truncated method's mixtures of flat (dense) and peaked (sparse) rows, with Anderson
/// acceleration (`SinkhornOptions.freezesFlatRows`).
///
/// On a mixture, nearly all of a pass's work is the flat rows (every entry, streamed from the scores at
/// ImageNet size), while the slow part of the convergence is the peaked rows': when a few clusters attract
/// most of them (early training), `r` must move those clusters by tens of nats, hundreds of iterations even
/// with Anderson. A flat row's scaling `c_n = (1/N) / Σ_k A_nk r_k` barely depends on how `r` is distributed,
/// so between checks the flat rows' `c` is held, and their cluster sums `F = Σ_{flat n} A_nk c_n` with it:
///
///  1. a pass over every row computes `c` and `F` (a plain step follows);
///  2. passes over the sparse rows alone, their sums plus `F`, accelerated by Anderson (restarted every 10
///     passes), until the sparse rows' own error `Σ_{sparse n} |c_n / c_new_n − 1|` is below a quarter of the
///     tolerance: the exact Sinkhorn solution of the problem with the flat rows' `c` fixed;
///  3. a pass over every row and a plain step, then the official check, a plain pass over every row of the
///     exact matrix (on the full matrix where it passes on the kept entries, as always); if it fails, its
///     `F` starts the next round at 2.
///
/// The fixed point is the official loop's (at it, step 2 changes nothing), and every check is an official
/// Sinkhorn iteration: the pass before it read every row and the step into it was plain. On issue 17's
/// skewed mixtures the check error falls by 100-400× per round, so a solve reads the flat rows 5-9 times
/// instead of hundreds. Where rounds do not pay (a check error not 4× below the previous one), the solve
/// continues with ordinary iterations.
struct SinkhornFlatRowFreeze {
    enum Pass {
        /// Every row, keeping the dense rows' sums; then sparse passes (`thenCheck` false) or the check.
        case everyRow(thenCheck: Bool)
        /// The sparse rows alone, with the held sums.
        case sparseRows
        /// The official check.
        case check

        var isSparse: Bool { if case .sparseRows = self { return true } else { return false } }
    }

    /// The least factor by which each check's error must fall below the previous one for rounds to go on.
    static let minContraction = 4.0
    /// Sparse passes per round at most (then the round ends with its check anyway).
    static let maxSparsePasses = 1000
    /// Anderson's history is restarted with a plain step every this many sparse passes.
    static let restart = 10

    let kp: Int
    let sparseTolerance: Double
    private(set) var next: Pass = .everyRow(thenCheck: false)
    /// `F` without the pass's scaling: `Σ_{dense n} A_nk c_n` for the true `c` (kp entries).
    private(set) var sums: [Double]
    private(set) var sparsePasses = 0
    private(set) var totalSparsePasses = 0
    private(set) var abandoned = false
    private var lastCheck = Double.infinity

    init(paddedClusters kp: Int, tolerance: Double) {
        self.kp = kp
        sparseTolerance = tolerance / 4
        sums = [Double](repeating: 0, count: kp)
    }

    /// After a pass over every row that kept the dense rows' sums (`blockSums`: blockCount x kp, added in block
    /// order) at scaling `alpha`.
    mutating func held(blockSums: UnsafePointer<Double>, blocks: Int, alpha: Double) {
        for j in 0..<kp { sums[j] = 0 }
        for b in 0..<blocks {
            let row = blockSums + b * kp
            for j in 0..<kp { sums[j] += row[j] }
        }
        let scale = exp(-alpha)
        for j in 0..<kp { sums[j] *= scale }
        if case .everyRow(let thenCheck) = next {
            next = thenCheck ? .check : .sparseRows
            sparsePasses = 0
        }
    }

    /// Adds the held sums at scaling `alpha` to a sparse pass's cluster sums.
    func add(to acc: inout [Double], alpha: Double) {
        let scale = exp(alpha)
        for j in 0..<kp { acc[j] += sums[j] * scale }
    }

    /// After a sparse pass with the sparse rows' error; true when the step after it must be plain.
    mutating func sparsePassed(error: Double) -> Bool {
        sparsePasses += 1
        totalSparsePasses += 1
        if error <= sparseTolerance || sparsePasses >= Self.maxSparsePasses { next = .everyRow(thenCheck: true) }
        return sparsePasses % Self.restart == 0
    }

    /// After the check: `keptSums` when the check pass's dense sums were stored and are current (it was not
    /// redone on the full matrix).
    mutating func checked(error: Double, keptSums: Bool) {
        if error * Self.minContraction > lastCheck { abandoned = true }
        lastCheck = error
        next = keptSums ? .sparseRows : .everyRow(thenCheck: false)
        sparsePasses = 0
    }

    /// A build rebuilt the dense rows, so the held sums no longer match them: a round in progress goes on
    /// after a pass over every row (the passes before a check read every row anyway).
    mutating func invalidate() {
        if case .sparseRows = next { next = .everyRow(thenCheck: false) }
    }

    /// An ordinary iteration ran (the held sums are stale, and its step may not have been plain): the next
    /// round starts from the beginning.
    mutating func restart() {
        next = .everyRow(thenCheck: false)
        sparsePasses = 0
    }

    /// After a build that kept the dense rows: the column shifts moved from `old` to `new` (`log r = log r' − b`),
    /// and the sums in the pass's coordinates with them (`A'_nk = A_nk e^{b_k − b'_k}`).
    mutating func shifted(from old: [Double], to new: UnsafePointer<Double>) {
        for j in 0..<old.count { sums[j] *= exp(old[j] - new[j]) }
    }
}
