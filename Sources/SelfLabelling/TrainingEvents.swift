import Foundation
import Interop

/// The run's TensorBoard event file (`<exp>/runs/<comment>/events.out.tfevents.*`), as the official code's
/// `SummaryWriter('./runs/<comment>')`. Scalars are buffered by the writer and flushed with `flush()`
/// (called at every checkpoint) and when the run ends.
final class TrainingEvents {
    private let writer: TensorBoardEventWriter
    /// The first write error, reported once (the run goes on: the metrics log has the same numbers).
    private var failed = false
    private let warn: (String) -> Void

    init(folder: String, comment: String, warn: @escaping (String) -> Void) throws {
        let dir = (folder as NSString).appendingPathComponent(comment.replacingOccurrences(of: "/", with: "_"))
        writer = try TensorBoardEventWriter(directory: dir)
        self.warn = warn
    }

    func scalar(_ tag: String, _ value: Double, step: Int) {
        do { try writer.addScalar(tag, Float(value), step: step) } catch { report(error) }
    }

    func flush() {
        do { try writer.flush() } catch { report(error) }
    }

    private func report(_ error: Error) {
        if !failed { warn("warning: TensorBoard events could not be written (\(error)); metrics.jsonl has the same values") }
        failed = true
    }
}
