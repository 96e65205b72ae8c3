import ArgumentParser
import SelfLabelling

extension EvalClusterCommand {
    /// Refuses, before anything is allocated from them, inputs that come from files or flags and cannot work:
    /// no heads or no samples (labels of shape (0, N) or (H, 0)), negative cluster labels or classes, and a
    /// `--clusters` or a contingency table (distinct clusters × distinct classes) larger than the memory available.
    func checkSizes(_ all: [Int], truth: [Int], heads: Int, n: Int) throws {
        let source = labels ?? checkpoint ?? "the labels"
        guard heads >= 1, n >= 1 else {
            throw ValidationError("\(source): no labels to evaluate (\(heads) head(s) × \(n) samples)")
        }
        if let i = all.firstIndex(where: { $0 < 0 }) {
            throw ValidationError("\(source): cluster label \(all[i]) (head \(i / n), sample \(i % n)) is negative")
        }
        if let i = truth.firstIndex(where: { $0 < 0 }) {
            throw ValidationError("\(targets ?? source): class \(truth[i]) of sample \(i) is negative")
        }
        let available = SinkhornMemoryPlan.systemAvailableBytes() ?? Int.max
        func fits(_ elements: Int, _ other: Int) -> Bool {
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: other)
            return !overflow && bytes.multipliedReportingOverflow(by: 16).partialValue <= available
                && !bytes.multipliedReportingOverflow(by: 16).overflow
        }
        if let clusters, !fits(clusters, 1) {
            throw ValidationError("--clusters \(clusters) needs more memory than is available (\(available) bytes)")
        }
        let classes = Set(truth).count
        for h in 0..<heads {
            let distinct = Set(all[(h * n)..<((h + 1) * n)]).count
            guard fits(distinct, classes) else {
                throw ValidationError("\(source): head \(h) has \(distinct) distinct labels and there are \(classes) classes; "
                    + "their contingency table needs more memory than is available (\(available) bytes)")
            }
        }
    }
}
