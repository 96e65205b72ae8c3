/// What a training run reports as it goes. The metrics log (`TrainingMetricsRecorder`), the TensorBoard
/// events (`TrainingEvents`) and the terminal (`TrainingConsole`) each implement it, so `Trainer.run()` holds
/// only the algorithm. Every method has an empty default; calls come from the training thread, in order.
public protocol TrainingObserver: AnyObject {
    /// The run (or its continuation) begins.
    func trainingStarted(_ start: TrainingStart)
    /// The pseudo-label pass of label optimisation `optimisation` (0-based) has run the network on `done` of
    /// `total` images.
    func labelPassAdvanced(optimisation: Int, done: Int, total: Int)
    /// A label optimisation finished.
    func labelsOptimised(_ report: LabelOptimisationReport)
    /// An SGD step finished.
    func iterationFinished(_ report: IterationReport)
    /// An epoch finished (its checkpoint comes next).
    func epochFinished(_ report: EpochReport)
    /// The held-out kNN was measured after an epoch (`--knn-every`).
    func knnMeasured(_ report: KNNReport)
    /// A checkpoint is about to be written to `path` (what observers buffer belongs on disk first).
    func checkpointWillBeWritten(path: String, reason: String)
    /// The run stopped on request; its state is in `stop.checkpoint`.
    func trainingStopped(_ stop: TrainingStop)
    /// Every epoch ran and the final outputs are written.
    func trainingFinished(_ summary: TrainingSummary)
    /// A line for the reader (outputs written, warnings).
    func note(_ text: String)
}

extension TrainingObserver {
    public func trainingStarted(_ start: TrainingStart) {}
    public func labelPassAdvanced(optimisation: Int, done: Int, total: Int) {}
    public func labelsOptimised(_ report: LabelOptimisationReport) {}
    public func iterationFinished(_ report: IterationReport) {}
    public func epochFinished(_ report: EpochReport) {}
    public func knnMeasured(_ report: KNNReport) {}
    public func checkpointWillBeWritten(path: String, reason: String) {}
    public func trainingStopped(_ stop: TrainingStop) {}
    public func trainingFinished(_ summary: TrainingSummary) {}
    public func note(_ text: String) {}
}

/// The shape of a run, reported when it (re)starts.
public struct TrainingStart: Sendable {
    public var configuration: TrainingConfiguration
    public var images: Int
    public var batchesPerEpoch: Int
    /// The epochs (fractional) of the label optimisations still to come.
    public var labelOptimisationEpochs: [Double]
}

/// One SGD step.
public struct IterationReport: Sendable {
    /// This step's epoch, of `epochs`.
    public var epoch: Int, epochs: Int
    /// This step's global index (0-based).
    public var iteration: Int
    public var totalIterations: Int
    /// This step's mean loss over the batch, and the epoch's running mean.
    public var loss: Double, epochMeanLoss: Double
    public var learningRate: Double
    /// Training images per second in this epoch so far.
    public var imagesPerSecond: Double
    /// Estimated seconds to the end of the run.
    public var secondsLeft: Double
    /// Whether this step is one of the logged ones (every `--log-iter`-th batch of an epoch).
    public var isLogged: Bool
    /// With `--rotnet`: the step's two loss terms and rotation accuracy (`loss` is their sum).
    public var rotation: RotationScores? = nil
}

/// A `--rotnet` step's parts (`RotNet.Loss`): the label heads' loss on the unrotated images, the rotation
/// head's loss on all four turns, and the fraction of turns it recognised.
public struct RotationScores: Sendable, Equatable {
    public var labelLoss: Double, loss: Double, accuracy: Double
}

/// One finished epoch.
public struct EpochReport: Sendable {
    public var epoch: Int
    public var meanLoss: Double
    public var learningRate: Double
    public var imagesPerSecond: Double
    /// Every `--log-intv`-th epoch: the L2 norm of each parameter tensor, by name (the extended log).
    public var parameterNorms: [(name: String, norm: Double)]?
}

/// The held-out measurement after an epoch (`--knn-every`, cifar.py's per-epoch kNN).
public struct KNNReport: Sendable {
    /// Epochs completed when it was taken.
    public var epoch: Int
    /// Weighted kNN top-1 (k = 10, σ = 0.1, the training images as the memory bank) and head 0's NMI with the
    /// true classes, on the held-out split.
    public var top1: Double, nmi: Double
    /// Whether it is the best so far (then `checkpoints/best_knn.safetensors` holds this state).
    public var isBest: Bool
    public var seconds: Double
}

/// One label optimisation: the network pass over the training set, then Sinkhorn-Knopp per head.
public struct LabelOptimisationReport: Sendable {
    /// Which optimisation (0-based), and where in training it ran.
    public var optimisation: Int, epoch: Int, iteration: Int
    public var seconds: Double, networkPassSeconds: Double
    /// The Sinkhorn-Knopp tolerance the diagnostics are judged by.
    public var tolerance: Double
    public var heads: [Head]

    /// One head's new labels.
    public struct Head: Sendable {
        public var head: Int
        public var diagnostics: SinkhornDiagnostics
        /// Fraction of images whose label changed, and the NMI of the new labels with the previous ones.
        public var changedFraction: Double, nmiWithPrevious: Double
    }
}

/// A stop on request.
public struct TrainingStop: Sendable {
    public var epoch: Int, iteration: Int
    public var checkpoint: String
    /// The command line that continues the run.
    public var resumeCommand: String
}
