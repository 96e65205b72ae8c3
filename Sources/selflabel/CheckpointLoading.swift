import Foundation
import Interop
import SelfLabelling

/// Loads a `--checkpoint` (`TrainedModel.load`). For a PyTorch file it also prints, on standard error so that
/// `--json` output stays clean, what was read, what was loaded and what was ignored — nothing is skipped silently.
func loadCheckpoint(_ path: String) throws -> TrainedModel {
    guard TorchFile.format(of: path) != nil else { return try TrainedModel.load(path) }
    let (model, _, report) = try TrainedModel.loadPyTorch(path)
    for line in report { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    return model
}
