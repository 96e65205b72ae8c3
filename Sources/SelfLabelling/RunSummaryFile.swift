import Foundation
import Interop

/// `<exp>/summary.json`, written at the end of every completed `selflabel train`: the run's figures, how many
/// label optimisations stopped at the Sinkhorn-Knopp iteration cap (with what to change when any did), and,
/// for the embedded demo, the held-out comparison with the random initialisation.
///
///     {"epochs", "iterations", "final_loss", "seconds", "label_optimisations",
///      "sinkhorn": {"capped_label_optimisations", "advice"?},
///      "knn_top1": {"trained", "random_init"}?, "nmi": {…}?}      (keys sorted)
public struct RunSummaryFile: Sendable {
    public var summary: TrainingSummary
    public var heldOut: HeldOutComparison?

    public init(summary: TrainingSummary, heldOut: HeldOutComparison?) {
        self.summary = summary
        self.heldOut = heldOut
    }

    private struct Record: Encodable {
        struct Pair: Encodable {
            var trained: Double
            var random_init: Double?
        }
        struct Sinkhorn: Encodable {
            var capped_label_optimisations: Int
            var advice: String?
        }
        var epochs: Int, iterations: Int, final_loss: Double?, seconds: Double, label_optimisations: Int
        var sinkhorn: Sinkhorn
        var knn_top1: Pair?, nmi: Pair?
    }

    /// Writes the file (sorted keys) atomically to `path`.
    public func write(to path: String) throws {
        let s = summary
        let capped = s.cappedLabelOptimisations
        let record = Record(
            epochs: s.epochs, iterations: s.iterations, final_loss: s.finalLoss.isFinite ? s.finalLoss : nil,
            seconds: heldOut?.seconds ?? s.seconds, label_optimisations: s.labelOptimisations,
            sinkhorn: .init(capped_label_optimisations: capped, advice: capped > 0 ? TrainingSummary.capAdvice : nil),
            knn_top1: heldOut.map { .init(trained: $0.trained.knnTop1, random_init: $0.randomInitialisation?.knnTop1) },
            nmi: heldOut.map { .init(trained: $0.trained.nmi, random_init: $0.randomInitialisation?.nmi) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(to: path, text: String(decoding: try encoder.encode(record), as: UTF8.self) + "\n")
    }
}
