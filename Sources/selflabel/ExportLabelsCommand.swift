import ArgumentParser
import DataPipeline
import Evaluation
import Foundation
import Interop
import SelfLabelling

/// `selflabel export-labels`: every image's pseudo-label for every head, as `.npy` and CSV.
struct ExportLabelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-labels",
        abstract: "Write each training image's label for every head: .npy (heads, N) and CSV (path,head0,…).")

    @OptionGroup var common: ModelDataOptions
    @Flag(name: .customLong("from-training"),
          help: "Export the last Sinkhorn-Knopp solution stored in the training checkpoint instead of each head's argmax.")
    var fromTraining = false
    @Option(help: "Output path; .npy and .csv are written next to each other.") var out: String = "labels"

    func run() throws {
        let model = try common.loadModel()
        let dataset = try common.dataset(.train)
        let heads: [[Int]]
        if fromTraining {
            guard let labels = model.labels else {
                throw ValidationError("--from-training needs a training checkpoint (exp/checkpoints/*.safetensors); \(common.checkpoint) holds weights only")
            }
            guard labels.count == dataset.count else {
                throw ValidationError("the checkpoint has labels for \(labels.count) images, the data set has \(dataset.count)")
            }
            heads = (0..<labels.heads).map { labels.head($0).map(Int.init) }
        } else {
            heads = try common.outputs(model, split: .train).headArgmax
        }
        let base = out.hasSuffix(".npy") || out.hasSuffix(".csv") ? String(out.dropLast(4)) : out
        let n = dataset.count
        try Npy.write(heads.flatMap { $0.map(Int64.init) }, shape: [heads.count, n], to: base + ".npy")
        var text = "path," + (0..<heads.count).map { "head\($0)" }.joined(separator: ",") + "\n"
        for i in 0..<n {
            text += Trainer.csvField(dataset.describeSample(i))
            for h in heads { text += ",\(h[i])" }
            text += "\n"
        }
        try AtomicFile.write(to: base + ".csv", text: text)
        print("wrote \(base).npy (\(heads.count), \(n)) and \(base).csv")
    }
}
