import Tensors

/// Where the wall time of `Trainer.run()` went, by phase (seconds, this call only): the numbers
/// `selflabel bench sela` prints and docs/PERFORMANCE.md tracks for whole runs.
public struct TrainingPhaseTimes: Sendable, Equatable {
    /// Pseudo-label passes: the network over the whole training set in evaluation mode (including waiting
    /// for those images to be decoded).
    public var labelPassSeconds = 0.0
    /// Sinkhorn-Knopp solves of every head of every label optimisation.
    public var sinkhornSeconds = 0.0
    /// Training steps: forward, multi-head loss, backward, SGD update.
    public var sgdSeconds = 0.0
    /// The training loop waiting for the loader's next batch (decoding and augmentation not hidden by the
    /// loader's worker threads).
    public var dataWaitSeconds = 0.0
    /// Sinkhorn-Knopp iterations, summed over heads and label optimisations, and the most of one head.
    public var sinkhornIterations = 0, maxSinkhornIterations = 0

    public init() {}

    /// Adds the seconds since `start` (a `ResourceUsage.monotonicSeconds` reading) to `phase`.
    mutating func add(_ phase: WritableKeyPath<TrainingPhaseTimes, Double>, since start: Double) {
        self[keyPath: phase] += ResourceUsage.monotonicSeconds - start
    }
}
