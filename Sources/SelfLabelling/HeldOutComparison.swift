import Foundation
import Interop

/// The embedded demo's result: the held-out scores of the trained network and, when the run started from
/// scratch, of its random initialisation.
public struct HeldOutComparison: Sendable, Equatable {
    public var trained: HeldOutScores
    /// Nil for a resumed run (the random initialisation was measured by the run that started it).
    public var randomInitialisation: HeldOutScores?
    /// Seconds of the whole run, evaluations included.
    public var seconds: Double

    /// The JSON of `summary.json`: `{"knn_top1": {"random_init", "trained"}, "nmi": {…}, "seconds"}`.
    private struct Record: Encodable {
        struct Pair: Encodable {
            var trained: Double
            var random_init: Double?
        }
        var knn_top1: Pair, nmi: Pair, seconds: Double
    }

    /// Writes `summary.json` (sorted keys) atomically to `path`.
    public func write(to path: String) throws {
        let record = Record(knn_top1: .init(trained: trained.knnTop1, random_init: randomInitialisation?.knnTop1),
                            nmi: .init(trained: trained.nmi, random_init: randomInitialisation?.nmi), seconds: seconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(to: path, text: String(decoding: try encoder.encode(record), as: UTF8.self) + "\n")
    }
}
