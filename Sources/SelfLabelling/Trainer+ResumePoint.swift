import Foundation

extension Trainer.ResumePoint {
    /// The checkpoint `--resume PATH` names, and the experiment folder it belongs to:
    /// - an experiment folder (one holding `checkpoints/`, or that `checkpoints/` folder itself): its newest
    ///   regular checkpoint, and that experiment folder;
    /// - a checkpoint file: that file, and the folder its `checkpoints/` folder is in (nil when the file lies
    ///   anywhere else, e.g. a copied `ckpt-e0050.safetensors`).
    /// Anything else is a `TrainingError.resumeSource` naming the path and what it is instead.
    public static func named(_ path: String) throws -> (point: Trainer.ResumePoint, experiment: String?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TrainingError.resumeSource(path: path, reason: "no such file or folder")
        }
        if isDirectory.boolValue {
            let parent = (path as NSString).deletingLastPathComponent
            if (path as NSString).lastPathComponent == "checkpoints",
               !FileManager.default.fileExists(atPath: CheckpointFolder(experiment: path).path) {
                return try named(parent.isEmpty ? "." : parent)  // the checkpoints folder itself: its experiment
            }
            guard FileManager.default.fileExists(atPath: CheckpointFolder(experiment: path).path) else {
                throw TrainingError.resumeSource(path: path, reason: "is a folder but not an experiment folder "
                    + "(no checkpoints/ in it); give an experiment folder or a checkpoint file")
            }
            return (try latest(experiment: path), path)
        }
        let checkpoint: TrainingCheckpoint
        do {
            checkpoint = try TrainingCheckpoint(contentsOf: path)
        } catch let error as TrainingError {
            guard case .notACheckpoint = error else { throw error }
            throw TrainingError.resumeSource(path: path, reason: "is neither a SelfLabel checkpoint nor an experiment folder")
        } catch {
            throw TrainingError.resumeSource(path: path,
                reason: "is neither a SelfLabel checkpoint nor an experiment folder (\(error))")
        }
        let parent = (path as NSString).deletingLastPathComponent
        let experiment = (parent as NSString).lastPathComponent == "checkpoints"
            ? (parent as NSString).deletingLastPathComponent : nil
        return (Trainer.ResumePoint(checkpoint: checkpoint, path: path),
                experiment.map { $0.isEmpty ? "." : $0 })
    }

    /// For `--resume` with an `--epochs` other than the stored run's: sets the run's new end. Refuses (naming
    /// the checkpoint) an end before the epochs already trained or begun. The label schedule is recomputed
    /// for the new length from the current point on (`LabelSchedule.continuing`): the official times for
    /// `configuration.epochs` epochs, less those an iteration already run would have reached; what was
    /// trained and the label optimisations done are unchanged. `samples` is the training set's size.
    public mutating func changeLength(to configuration: TrainingConfiguration, samples: Int) throws(TrainingConfigurationError) {
        let p = checkpoint.state.progress, epochs = configuration.epochs
        if epochs < p.epoch {
            throw TrainingConfigurationError(option: "--epochs", value: "\(epochs)",
                rule: "is fewer than the \(p.epoch) epochs the resumed run (\(path)) has already trained")
        }
        if epochs == p.epoch && p.batch > 0 {
            throw TrainingConfigurationError(option: "--epochs", value: "\(epochs)",
                rule: "would end the run inside epoch \(p.epoch), which the resumed run (\(path)) has begun: give at least \(p.epoch + 1)")
        }
        let count = configuration.labels == nil ? configuration.nopts : 0
        checkpoint.state.progress.schedule = LabelSchedule(spacing: configuration.schedule, epochs: epochs, samples: samples,
                                                           count: count)
            .continuing(atIteration: p.iteration, batchSize: configuration.batchSize)
    }
}
