/// When the pseudo-labels are re-optimised during training, in samples seen (iteration × batch size).
///
/// Matches the official code exactly:
/// - `quadratic` (ImageNet `main.py`): `t_i = (E + 1.01) · N · (i / (nopts − 1))²` for i = 0…nopts−1,
///   so the first optimisation happens at iteration 0 and they thin out towards the end, plus the sentinel
///   `(E + 2) · N` that is never reached;
/// - `linear` (CIFAR `cifar.py`): `t_i = (E + 1.0001) · N · i / (nopts − 1)`, with sentinel `(E + 10) · N`.
///
/// Here E is the number of epochs and N the number of training images. An optimisation is due before
/// iteration `niter` when `niter · batchSize ≥ next time` (the official test). `numpy.linspace(0, 1, n)`
/// is reproduced bit for bit (`i · step`, the last point exactly 1), so the times equal the official ones.
public struct LabelSchedule: Sendable, Equatable, Codable {
    public enum Spacing: String, Sendable, Codable, CaseIterable {
        case quadratic, linear
    }

    /// Remaining times, ascending, ending with the sentinel.
    public private(set) var remaining: [Double]

    /// The official times for `epochs` epochs over `samples` images with `count` optimisations.
    public init(spacing: Spacing, epochs: Int, samples: Int, count: Int) {
        precondition(epochs >= 0 && samples >= 0 && count >= 0,
                     "LabelSchedule: epochs \(epochs), samples \(samples), count \(count) must be >= 0")
        let n = Double(samples), e = Double(epochs)
        let grid = LabelSchedule.linspace01(count)
        switch spacing {
        case .quadratic:
            remaining = grid.map { (e + 1.01) * n * ($0 * $0) } + [(e + 2) * n]
        case .linear:
            remaining = grid.map { (e + 1.0001) * n * $0 } + [(e + 10) * n]
        }
    }

    /// Restores a schedule from stored remaining times (checkpoints).
    public init(remaining: [Double]) { self.remaining = remaining }

    /// `numpy.linspace(0, 1, n)`: `i · (1 / (n − 1))`, with the last point set to exactly 1.
    static func linspace01(_ n: Int) -> [Double] {
        if n == 0 { return [] }
        if n == 1 { return [0] }
        let step = 1.0 / Double(n - 1)
        var g = (0..<n).map { Double($0) * step }
        g[n - 1] = 1
        return g
    }

    /// Whether an optimisation is due before running iteration `iteration` with batches of `batchSize`.
    /// Consumes the due time (like the official `optimize_times.pop()`): call once per iteration.
    public mutating func takeIfDue(iteration: Int, batchSize: Int) -> Bool {
        guard let next = remaining.first, Double(iteration) * Double(batchSize) >= next else { return false }
        remaining.removeFirst()
        return true
    }

    /// Drops the times before epoch `epoch` (`t / N < epoch`), as the official resume does.
    public mutating func skip(toEpoch epoch: Int, samples: Int) {
        remaining = remaining.filter { $0 / Double(samples) >= Double(epoch) }
    }

    /// This schedule as it stands for a run at iteration `iteration` (batches of `batchSize`): the times no
    /// earlier iteration reached (`t > (iteration − 1) · batchSize`), then the sentinel. For `--resume` with a
    /// new `--epochs`: the new length's official times, less those an uninterrupted run of that length would
    /// already have taken. (The official resume keeps `t / N ≥ epoch` instead, by epoch rather than by the
    /// iteration clock `iteration · batchSize` that decides when a time fires: it drops a time in
    /// `((iteration − 1) · batchSize, epoch · N)`, which is due at the resumed epoch's first iteration, and with
    /// short last batches it can keep one that already fired.)
    public func continuing(atIteration iteration: Int, batchSize: Int) -> LabelSchedule {
        guard let sentinel = remaining.last else { return self }
        let reached = Double(iteration - 1) * Double(batchSize)
        return LabelSchedule(remaining: remaining.dropLast().filter { $0 > reached } + [sentinel])
    }

    /// The scheduled times in epochs (times / N), excluding the sentinel.
    public func epochs(samples: Int) -> [Double] { remaining.dropLast().map { $0 / Double(samples) } }
}
