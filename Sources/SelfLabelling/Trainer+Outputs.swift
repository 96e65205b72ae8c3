import DataPipeline
import Foundation
import Interop
import NeuralNetworks

extension Trainer {
    /// Writes `<exp>/model_final.safetensors` (state dict with PyTorch names), `<exp>/labels.npy` (int64,
    /// heads × N) and `<exp>/labels.csv` (`index,path,head0,head1,…`), all atomically.
    func writeFinalOutputs() throws -> (weights: String, npy: String, csv: String) {
        let dir = experiment as NSString
        let weights = dir.appendingPathComponent("model_final.safetensors")
        let npy = dir.appendingPathComponent("labels.npy")
        let csv = dir.appendingPathComponent("labels.csv")
        guard writesOutputs else { return (weights, npy, csv) }  // across ranks, rank 0 writes them
        try writeWeights(to: weights)
        try Npy.write(labels.values.map(Int64.init), shape: [labels.heads, labels.count], to: npy)
        var text = "index,path," + (0..<labels.heads).map { "head\($0)" }.joined(separator: ",") + "\n"
        for i in 0..<labels.count {
            text += "\(i),\(Trainer.csvField(dataset.describeSample(i)))"
            for h in 0..<labels.heads { text += ",\(labels.values[h * labels.count + i])" }
            text += "\n"
        }
        try AtomicFile.write(to: csv, text: text)
        notify { $0.note("wrote \(weights), \(npy), \(csv)") }
        return (weights, npy, csv)
    }

    /// Writes the network's state dict (PyTorch names) with the architecture and heads as metadata, so
    /// `TrainedModel.load` can rebuild it (`model_init.safetensors` at the start of a run, `model_final` at
    /// the end).
    func writeWeights(to path: String) throws {
        try network.writeModelFile(architecture: configuration.architecture.rawValue, input: configuration.networkInput,
                                   to: path)
    }

    /// Quotes a CSV field when it contains a comma, quote or newline (RFC 4180).
    public static func csvField(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }
}
