/// Problems that stop a training run, each with what a user needs to act on it.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case nonFiniteLoss(epoch: Int, iteration: Int, loss: Double, lastCheckpoint: String?)
    case notACheckpoint(path: String)
    case unreadableState(path: String, reason: String)
    case experimentExists(folder: String)
    case experimentFolder(path: String, reason: String)
    case nothingToResume(folder: String)
    /// `--resume PATH` names something that is neither a checkpoint file nor an experiment folder (or cannot be
    /// continued as given).
    case resumeSource(path: String, reason: String)
    case checkpointMismatch(path: String, reason: String)
    /// The pseudo-label pass fits neither in RAM nor on disk (`LabelPassMemoryPlan`, its smallest arrangement).
    case labelPassTooLarge(plan: String)
    case emptyDataset(description: String)
    /// A label optimisation gave unusable labels (`cause`: the Sinkhorn-Knopp error, with a λ that works);
    /// the state from just before it is saved in `checkpoint`.
    case unusableLabels(optimisation: Int, epoch: Int, iteration: Int, cause: String, checkpoint: String)
    /// `--resume` on a training set whose fingerprint differs from the checkpoint's.
    case dataChanged(checkpoint: String, stored: String, given: String, difference: String)
    /// Data-parallel training with `--sync-bn`: a rank's share of a batch held no image (corrupt files), and
    /// the global batch norm needs every rank's forward pass.
    case emptyBatchShare(rank: Int, epoch: Int, batch: Int)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(epoch, iteration, loss, last):
            return "loss became \(loss) at epoch \(epoch), iteration \(iteration); "
                + (last.map { "last good checkpoint: \($0)" } ?? "no checkpoint was written yet")
        case let .notACheckpoint(path): return "\(path) is not a SelfLabel training checkpoint"
        case let .unreadableState(path, reason): return "\(path): the training state cannot be read: \(reason)"
        case let .experimentExists(folder):
            return "\(folder) already holds a training run: continue it with --resume, or start over with --overwrite "
                + "(which moves the earlier run aside), or choose another --exp"
        case let .experimentFolder(path, reason): return "experiment folder \(path): \(reason)"
        case let .nothingToResume(folder): return "--resume: no checkpoint found in \(folder)"
        case let .resumeSource(path, reason): return "--resume \(path): \(reason)"
        case let .checkpointMismatch(path, reason): return "checkpoint \(path) does not fit this run: \(reason)"
        case let .labelPassTooLarge(plan):
            return "the pseudo-label pass does not fit in memory or on disk, even spilled: \(plan)"
        case let .emptyDataset(d): return "the training set \(d) has no images"
        case let .emptyBatchShare(rank, epoch, batch):
            return "rank \(rank) got no image of batch \(batch) in epoch \(epoch) (its files were skipped as corrupt); "
                + "--sync-bn needs at least one per rank: remove the corrupt files or train without --sync-bn"
        case let .dataChanged(checkpoint, stored, given, difference):
            return "--resume: --data \(given) differs from \(stored), the data checkpoint \(checkpoint) was trained on "
                + "(\(difference)); give the run's data, or --data-changed-ok to continue on this data anyway"
        case let .unusableLabels(optimisation, epoch, iteration, cause, checkpoint):
            return "training stopped at label optimisation \(optimisation) (epoch \(epoch), iteration \(iteration)): "
                + "\(cause); the state before it is saved in \(checkpoint)"
        }
    }
}
