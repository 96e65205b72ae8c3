import Evaluation
import Foundation
import Interop

/// The page a person looks at after a run: `selflabel report EXP` (and the end of every `train`) writes one
/// static HTML file with inline SVG charts of the run's `metrics.jsonl` (loss, learning rate, label change,
/// NMI to the previous labels, Sinkhorn-Knopp iterations, held-out kNN), the warnings a long log hides
/// (unconverged or degenerate label steps, empty clusters), the cluster gallery, the settings and the timings.
/// Nothing is fetched at view time: no script, no style sheet, no font, no network.
public struct RunReport {
    /// The experiment folder.
    public let experiment: String
    /// The records of `metrics.jsonl`, in order.
    public var records: [[String: Any]]
    /// Lines of `metrics.jsonl` that are not JSON objects (a crash can cut the last one).
    public var unreadableLines: Int
    /// The newest checkpoint's state, if any checkpoint could be read, and its path.
    public var checkpoint: (path: String, state: TrainingCheckpoint.State)?
    /// `summary.json` (the embedded demo's held-out comparison), if present.
    public var summary: [String: Any]?

    /// Reads what `experiment` holds. Only a missing folder or an unreadable `metrics.jsonl` is an error; a
    /// folder without checkpoints (a run stopped before its first) still gets a page.
    public init(experiment: String) throws {
        self.experiment = experiment
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: experiment, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FileIOError(path: experiment, operation: "report on", reason: "no such experiment folder")
        }
        let metricsPath = (experiment as NSString).appendingPathComponent("metrics.jsonl")
        guard FileManager.default.fileExists(atPath: metricsPath) else {
            throw FileIOError(path: metricsPath, operation: "read", reason: "no metrics log: is this a selflabel train --exp folder?")
        }
        let text: String
        do { text = try String(contentsOfFile: metricsPath, encoding: .utf8) } catch {
            throw FileIOError(path: metricsPath, operation: "read", reason: "not UTF-8 text")
        }
        (records, unreadableLines) = Self.parseLines(text)
        let folder = CheckpointFolder(experiment: experiment)
        let lowest = (folder.path as NSString).appendingPathComponent("lowest.safetensors")
        for path in folder.regular().reversed() + [lowest] where FileManager.default.fileExists(atPath: path) {
            if let state = try? TrainingCheckpoint.state(atPath: path) {
                checkpoint = (path, state)
                break
            }
        }
        let summaryPath = (experiment as NSString).appendingPathComponent("summary.json")
        if let data = FileManager.default.contents(atPath: summaryPath) {
            summary = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        }
    }

    /// The JSON objects of `text`, one per line, and the count of non-empty lines that are not one.
    static func parseLines(_ text: String) -> ([[String: Any]], Int) {
        var records: [[String: Any]] = [], bad = 0
        for line in text.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
            if let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] {
                records.append(object)
            } else {
                bad += 1
            }
        }
        return (records, bad)
    }

    /// The records of one kind (`train`, `epoch`, `labels`, `knn`, …).
    public func records(_ kind: String) -> [[String: Any]] { records.filter { $0["kind"] as? String == kind } }

    /// Writes the page atomically to `path` (the gallery is linked relative to it when it lies in the
    /// experiment folder).
    public func write(to path: String) throws {
        try AtomicFile.write(to: path, text: html(pageFolder: (path as NSString).deletingLastPathComponent))
    }
}

/// A number read from a JSON record (integers and floating point alike), nil when absent or not a number.
func number(_ record: [String: Any], _ key: String) -> Double? { (record[key] as? NSNumber)?.doubleValue }
