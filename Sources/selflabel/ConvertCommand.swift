import ArgumentParser
import Foundation
import Interop
import NeuralNetworks
import SelfLabelling

/// `selflabel convert IN.pth --out OUT.safetensors [--arch A]`: a PyTorch file as a SelfLabel model file.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Turn a PyTorch file (torch.save, zip or legacy; official SeLa, torchvision or DataParallel names) into a SelfLabel model file.",
        discussion: "Labels stored in the file ('L' or 'labels') are written next to the output as <out>-labels.npy (int64, heads × N). No code from the file is run.")

    @Argument(help: "The PyTorch file.") var input: String
    @Option(help: "Output model file (.safetensors).") var out: String
    @Option(help: "Architecture, when the file's shapes do not identify one: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")).")
    var arch: String?
    @Option(name: .customLong("rotation-head"), help: "A 4-way RotNet head in the file: skip (reported) or keep (as the last head).")
    var rotationHead: String = "skip"

    func validate() throws {
        if let arch, Architecture.named(arch) == nil {
            throw ValidationError("--arch \(arch) is not one of: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")) or \(Architecture.officialAliases.keys.sorted().joined(separator: ", "))")
        }
        guard ["skip", "keep"].contains(rotationHead) else { throw ValidationError("--rotation-head \(rotationHead) must be skip or keep") }
        guard input != out else { throw ValidationError("--out must differ from the input file") }
    }

    func run() throws {
        let (model, file, report) = try TrainedModel.loadPyTorch(input, architecture: arch.flatMap { Architecture.named($0) },
                                                           keepRotationHead: rotationHead == "keep")
        for line in report { print(line) }
        try model.network.writeModelFile(architecture: model.architecture.rawValue, input: model.input, to: out)
        print("wrote \(out) (\(model.architecture.rawValue), heads \(model.network.headClasses))")
        if let labels = file.labels {
            let base = out.hasSuffix(".safetensors") ? String(out.dropLast(".safetensors".count)) : out
            let path = base + "-labels.npy"
            try Npy.write(labels.values, shape: labels.rows == 1 ? [labels.count] : [labels.rows, labels.count], to: path)
            print("wrote \(path) (\(labels.rows), \(labels.count))")
        }
    }
}
