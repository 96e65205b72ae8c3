import Foundation
import Interop

extension MetricsLog {
    /// Before a resume from `progress`: rewrites the log at `path` (atomically) without the records of work done
    /// after that checkpoint, which the resumed run repeats (`train` records of iterations ≥ its iteration,
    /// `epoch`/`weights` records of epochs ≥ its epoch, `labels` records of optimisations ≥ the number done), and
    /// without a last line cut short by a crash. Returns how many lines were dropped (0: the file is untouched).
    @discardableResult
    public static func truncate(_ path: String, toCheckpointAt progress: TrainingProgress) throws -> Int {
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        let kept = lines.filter { line in
            guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return false }
            func int(_ key: String) -> Int? { (record[key] as? NSNumber)?.intValue }
            switch record["kind"] as? String {
            case "train": return (int("iteration") ?? .max) < progress.iteration
            case "epoch", "weights": return (int("epoch") ?? .max) < progress.epoch
            case "labels": return (int("optimisation") ?? .max) < progress.labelOptimisations
            default: return true
            }
        }
        guard kept.count < lines.count || !(data.last.map { $0 == 0x0A } ?? true) else { return 0 }
        try AtomicFile.write(to: path, text: kept.map { $0 + "\n" }.joined())
        return lines.count - kept.count
    }
}
