import ArgumentParser
import Foundation
import Interop
import NeuralNetworks
import SelfLabelling

/// `selflabel export --checkpoint C --format pth|safetensors --out F`: a trained network for PyTorch or SelfLabel.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trained network as a PyTorch .pth (zip format; torch.load(F, weights_only=True) opens it and the official model classes load_state_dict it strictly) or as a SelfLabel model file.")

    @Option(help: "A training checkpoint, final weights or a PyTorch file.") var checkpoint: String
    @Option(help: "pth or safetensors.") var format: String = "pth"
    @Option(help: "With --format pth: official (SeLa's models.alexnet / resnetv1 / resnetv2 names) or torchvision (resnet50/resnet18 with one head).")
    var layout: String = "official"
    @Option(help: "Output file.") var out: String

    func validate() throws {
        guard ["pth", "safetensors"].contains(format) else { throw ValidationError("--format \(format) must be pth or safetensors") }
        guard PyTorchExportLayout(rawValue: layout) != nil else { throw ValidationError("--layout \(layout) must be official or torchvision") }
        guard format == "pth" || layout == "official" else { throw ValidationError("--layout applies to --format pth only") }
        guard checkpoint != out else { throw ValidationError("--out must differ from --checkpoint") }
    }

    func run() throws {
        let model = try loadCheckpoint(checkpoint)
        let network = model.network
        switch format {
        case "pth":
            let state = try network.pytorchStateDict(layout: PyTorchExportLayout(rawValue: layout)!)
            try TorchFile.write(state, to: out)
            print("wrote \(out): \(state.dictItems?.count ?? 0) tensors, \(model.architecture.rawValue), heads \(network.headClasses), \(layout) names")
        default:
            try network.writeModelFile(architecture: model.architecture.rawValue, input: model.input, to: out)
            print("wrote \(out): \(model.architecture.rawValue), heads \(network.headClasses)")
        }
    }
}
