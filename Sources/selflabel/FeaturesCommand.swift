import ArgumentParser
import DataPipeline
import Evaluation
import Foundation
import Interop
import SelfLabelling

/// `selflabel features`: a network's features for every image of a split, as `.npy`.
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Write the features (N, D) of every image of a split to .npy, with the true classes if known.")

    @OptionGroup var common: ModelDataOptions
    @Option(help: "train, or val (val/ or test/ of the data folder).") var split: DatasetLocator.Split = .train
    @Option(help: "Activation to export (default: the pre-head features; see --list-layers).") var layer: String?
    @Flag(help: "List the layer names and exit.") var listLayers = false
    @Option(help: "Output .npy (targets go to <name>-targets.npy).") var out: String = "features.npy"

    func run() throws {
        let model = try common.loadModel()
        if listLayers {
            print((["features (pre-head, default)"] + model.network.tapNames).joined(separator: "\n"))
            return
        }
        if let layer, !model.network.tapNames.contains(layer) {
            throw ValidationError("--layer \(layer) is not one of: \(model.network.tapNames.joined(separator: ", "))")
        }
        let outputs = try common.outputs(model, split: split, tap: layer)
        try Npy.write(outputs.features, to: out)
        var wrote = "\(out) \(outputs.features.shape)"
        if let targets = outputs.targets {
            let path = (out.hasSuffix(".npy") ? String(out.dropLast(4)) : out) + "-targets.npy"
            try Npy.write(targets.map(Int64.init), shape: [targets.count], to: path)
            wrote += ", \(path)"
        }
        print("wrote \(wrote)")
    }
}
