import Foundation
import Interop

/// The run's TensorBoard event file (`<exp>/runs/<comment>/events.out.tfevents.*`), as the official code's
/// `SummaryWriter('./runs/<comment>')`: per logged iteration `Loss`, `lr` and `Freq(Hz)` (with `--rotnet` also
/// `LabelLoss`, `RotLoss`, `RotAcc`); per epoch
/// `epoch_loss` and, in the extended log, `weights/<parameter>`; per head of a label optimisation
/// `labels/changed_fraction`, `labels/nmi_previous` and `labels/sk_iterations`; with `--knn-every`, cifar.py's
/// `accuracy kNN` (and `nmi head0`) per measured epoch. Scalars are buffered by the
/// writer and flushed before every checkpoint and when the run ends.
public final class TrainingEvents: TrainingObserver {
    private let writer: TensorBoardEventWriter
    /// The first write error, reported once (the run goes on: the metrics log has the same numbers).
    private var failed = false
    private let warn: (String) -> Void

    /// A new event file in `folder/<comment>`; `warn` receives the one warning if writing fails later.
    public init(folder: String, comment: String, warn: @escaping (String) -> Void) throws {
        let dir = (folder as NSString).appendingPathComponent(comment.replacingOccurrences(of: "/", with: "_"))
        writer = try TensorBoardEventWriter(directory: dir)
        self.warn = warn
    }

    public func iterationFinished(_ r: IterationReport) {
        guard r.isLogged else { return }
        scalar("Loss", r.loss, step: r.iteration)
        scalar("lr", r.learningRate, step: r.iteration)
        scalar("Freq(Hz)", r.imagesPerSecond, step: r.iteration)
        if let rotation = r.rotation {  // retrain_with_rotnet.py's scalars (its RotAcc reads 4 × ours)
            scalar("LabelLoss", rotation.labelLoss, step: r.iteration)
            scalar("RotLoss", rotation.loss, step: r.iteration)
            scalar("RotAcc", rotation.accuracy, step: r.iteration)
        }
    }

    public func epochFinished(_ r: EpochReport) {
        scalar("epoch_loss", r.meanLoss, step: r.epoch)
        for (name, norm) in r.parameterNorms ?? [] { scalar("weights/" + name, norm, step: r.epoch) }
    }

    public func knnMeasured(_ r: KNNReport) {
        scalar("accuracy kNN", r.top1, step: r.epoch)
        scalar("nmi head0", r.nmi, step: r.epoch)
    }

    public func labelsOptimised(_ r: LabelOptimisationReport) {
        for h in r.heads {
            scalar("labels/changed_fraction/head\(h.head)", h.changedFraction, step: r.iteration)
            scalar("labels/nmi_previous/head\(h.head)", h.nmiWithPrevious, step: r.iteration)
            scalar("labels/sk_iterations/head\(h.head)", Double(h.diagnostics.iterations), step: r.iteration)
        }
    }

    public func checkpointWillBeWritten(path: String, reason: String) { flush() }
    public func trainingFinished(_ summary: TrainingSummary) { flush() }

    private func scalar(_ tag: String, _ value: Double, step: Int) {
        do { try writer.addScalar(tag, Float(value), step: step) } catch { report(error) }
    }

    private func flush() {
        do { try writer.flush() } catch { report(error) }
    }

    private func report(_ error: Error) {
        if !failed { warn("warning: TensorBoard events could not be written (\(error)); metrics.jsonl has the same values") }
        failed = true
    }
}
