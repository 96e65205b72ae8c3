import Interop
import NeuralNetworks

/// Checks of what a weights file claims before anything is allocated from it: a crafted `heads` value or
/// label matrix must be an error naming the file, never a trap or a huge allocation.
extension TrainedModel {
    /// The cluster counts of a final-weights file's `heads` metadata ("128" or "128,128,…"): every part a
    /// positive integer.
    static func parseHeads(_ text: String, path: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let heads = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, heads.count == parts.count, heads.allSatisfy({ $0 >= 1 }) else {
            throw TrainingError.unreadableState(
                path: path, reason: "metadata 'heads' is \"\(text)\"; expected positive cluster counts separated by commas")
        }
        return heads
    }

    /// Requires the file's head weights (`top_layer.weight`, or `top_layer<h>.weight` for several heads) to have
    /// exactly `heads[h]` rows, so a network is built only with head sizes the file really holds.
    static func checkHeads(_ heads: [Int], against state: StateDict, path: String) throws {
        guard !heads.isEmpty else { throw TrainingError.unreadableState(path: path, reason: "no heads") }
        let shapes = Dictionary(state.map { ($0.name, $0.tensor.shape) }, uniquingKeysWith: { a, _ in a })
        for (h, name) in MultiHeadNetwork.headNames(count: heads.count).enumerated() {
            guard let shape = shapes[name + ".weight"] else {
                throw TrainingError.checkpointMismatch(
                    path: path, reason: "it claims \(heads.count) head(s) but holds no tensor \(name).weight")
            }
            guard shape.count == 2, shape[0] == heads[h] else {
                throw TrainingError.checkpointMismatch(
                    path: path, reason: "head \(h) is said to have \(heads[h]) clusters but \(name).weight has shape \(shape)")
            }
        }
    }
}

extension TrainingCheckpoint {
    /// The `labels` matrix (heads × N, int32) of a checkpoint with its per-head cluster counts, checked: at least
    /// one head and one image, every cluster count positive, every label inside its head's range.
    static func checkedLabels(_ entry: SafetensorsEntry, clusters: [Int], path: String) throws -> PseudoLabels {
        func bad(_ reason: String) -> TrainingError { .unreadableState(path: path, reason: reason) }
        guard entry.shape.count == 2, entry.shape[0] == clusters.count else {
            throw bad("labels have shape \(entry.shape) for \(clusters.count) head(s)")
        }
        let heads = entry.shape[0], n = entry.shape[1]
        guard heads >= 1, n >= 1 else { throw bad("labels have shape \(entry.shape): no heads or no images") }
        if let k = clusters.first(where: { $0 < 1 }) { throw bad("a head has \(k) clusters") }
        let values = try entry.int32s()
        for h in 0..<heads {
            if let i = (h * n..<(h + 1) * n).first(where: { values[$0] < 0 || Int(values[$0]) >= clusters[h] }) {
                throw bad("label \(values[i]) of image \(i - h * n) in head \(h) is outside 0..<\(clusters[h])")
            }
        }
        return PseudoLabels(clusters: clusters, count: n, values: values)
    }
}
