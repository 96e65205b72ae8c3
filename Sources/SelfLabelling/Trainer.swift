import Autograd
import DataPipeline
import Distributed
import Foundation
import Interop
import NeuralNetworks
import Tensors

/// How a call to `Trainer.run()` ended.
public enum TrainingOutcome: Equatable, Sendable {
    /// Every epoch ran; the final weights and labels are in the experiment folder.
    case completed(TrainingSummary)
    /// A stop was requested (signal, or `stopAfterIterations`); the state is in `checkpoint`.
    case stopped(signal: Int32?, checkpoint: String)
}

/// Figures of a completed run.
public struct TrainingSummary: Equatable, Sendable {
    public var epochs: Int
    public var iterations: Int
    public var labelOptimisations: Int
    /// Label optimisations whose labels were degenerate in some head (`SinkhornDiagnostics.degenerateLabels`).
    public var degenerateLabelOptimisations: Int
    /// Mean loss of the last epoch.
    public var finalLoss: Double
    public var seconds: Double
    /// Paths of the outputs in the experiment folder.
    public var finalWeights: String, labelsNpy: String, labelsCSV: String
    /// Label optimisations in which some head stopped at the Sinkhorn-Knopp iteration cap (whole run).
    public var cappedLabelOptimisations = 0
    /// Where this call's time went, by phase.
    public var phases = TrainingPhaseTimes()

    /// What to change when Sinkhorn-Knopp stopped at its cap (one sentence for logs and summary.json).
    public static let capAdvice = "raise --sk-max-iters (0: automatic, the default) or keep --sk-acceleration anderson "
        + "(the default); a lower --lamb converges faster"
}

/// SeLa training (Asano et al., ICLR 2020, Algorithm 1; the official `main.py`/`cifar.py` loop): SGD on the
/// mean over heads of cross-entropy against the pseudo-labels, with the labels re-solved by Sinkhorn-Knopp at
/// the scheduled points. Checkpoints make runs resumable with identical results (see `TrainingCheckpoint`).
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let network: MultiHeadNetwork
    public let dataset: any Dataset
    public let trainTransform: TransformPipeline
    public let pseudoTransform: TransformPipeline
    public let kernels: Kernels
    public let experiment: String
    public let checkpoints: CheckpointFolder
    /// Where the run stands; stored as is in every checkpoint.
    public internal(set) var progress: TrainingProgress
    /// The terminal's view of the run (one of `observers`).
    public let console = TrainingConsole()
    /// Everything that follows the run: the metrics log, the TensorBoard events and the console by default.
    public var observers: [any TrainingObserver]
    /// Where human-readable lines go (default: the progress line's log, on standard error).
    public var log: (String) -> Void {
        get { console.log }
        set { console.log = newValue }
    }
    /// Where the time of `run()` went, by phase (pseudo-label passes, Sinkhorn-Knopp, SGD steps, data waits).
    public internal(set) var phaseTimes = TrainingPhaseTimes()
    /// Stop (as if interrupted) once this many iterations have run in this call of `run()`: for tests.
    public var stopAfterIterations: Int?
    /// The held-out split `--knn-every` measures on, with its (evaluation) transform; nil: no measurements.
    public var heldOut: (test: any Dataset, transform: TransformPipeline)?
    /// The training set's fingerprint, stored in every checkpoint (nil: none stored).
    public var datasetFingerprint: DatasetFingerprint?
    /// The ranks of a data-parallel job (`mpirun -np R selflabel train`), or the single process.
    public let communicator: any Communicator
    /// Data-parallel state; nil in a single process.
    let dataParallel: DataParallel?

    let optimizer: SGD
    let solver: SinkhornKnoppSolver
    let lrSchedule: LearningRateSchedule
    var labels: PseudoLabels
    var warmStarts: [[Double]?]
    var lastCheckpoint: String?
    var lastEpochLoss: Double?
    /// The label pass's memory plan last printed.
    var announcedLabelPassPlan: LabelPassMemoryPlan?
    /// Data-parallel training: the stop the ranks agreed on after the last step or label pass.
    var agreedSignal: Int32?

    /// A checkpoint to continue from, with its path.
    public struct ResumePoint {
        public var checkpoint: TrainingCheckpoint
        public var path: String

        /// The newest regular checkpoint of the experiment folder `experiment`.
        public static func latest(experiment: String) throws -> ResumePoint {
            let folder = CheckpointFolder(experiment: experiment)
            guard let path = folder.latest else { throw TrainingError.nothingToResume(folder: folder.path) }
            return ResumePoint(checkpoint: try TrainingCheckpoint(contentsOf: path), path: path)
        }
    }

    /// Prepares a run in `configuration.exp`. With `resumeFrom`, continues from that checkpoint (the caller
    /// builds `network` with the checkpoint's configuration; see `TrainingConfiguration.resumed(from:explicit:)`);
    /// otherwise starts fresh with `fixedLabels` (never re-optimised: `configuration.labels` names their file) or
    /// random equipartition labels.
    public init(configuration: TrainingConfiguration, network: MultiHeadNetwork, dataset: any Dataset,
                trainTransform: TransformPipeline, pseudoTransform: TransformPipeline,
                kernels: Kernels = .reference, resumeFrom resumePoint: ResumePoint? = nil,
                fixedLabels: PseudoLabels? = nil, communicator: any Communicator = SingleProcessCommunicator.shared) throws {
        try configuration.validate()
        if communicator.size > 1, let refusal = DataParallel.refusal(configuration, ranks: communicator.size) {
            throw refusal
        }
        guard dataset.count > 0 else { throw TrainingError.emptyDataset(description: "\(type(of: dataset))") }
        try configuration.validate(samples: dataset.count)
        let experiment = configuration.exp
        let checkpoints = CheckpointFolder(experiment: experiment)
        if let c = resumePoint?.checkpoint, let path = resumePoint?.path, c.labels.count != dataset.count {
            throw TrainingError.checkpointMismatch(path: path,
                reason: "it has labels for \(c.labels.count) images, the training set has \(dataset.count)")
        }
        try FileManager.default.createDirectory(atPath: experiment, withIntermediateDirectories: true)
        try checkpoints.create()
        self.configuration = configuration
        self.network = network
        self.dataset = dataset
        self.trainTransform = trainTransform
        self.pseudoTransform = pseudoTransform
        self.kernels = kernels
        self.experiment = experiment
        self.checkpoints = checkpoints
        self.communicator = communicator
        lrSchedule = configuration.learningRateSchedule
        optimizer = SGD(parameters: network.namedParameters(), learningRate: lrSchedule.rate(epoch: 0),
                        momentum: Float(configuration.momentum), weightDecay: Float(configuration.weightDecay))
        solver = try SinkhornKnoppSolver(options: SinkhornOptions(
            lambda: configuration.lamb, tolerance: configuration.skTol, maxIterations: configuration.skMaxIters,
            precision: configuration.dtype, storage: configuration.skStorage,
            threads: ComputeThreads.count, acceleration: configuration.sinkhornAcceleration,
            emptyClusters: configuration.sinkhornEmptyClusters), communicator: communicator)
        let clusters = [Int](repeating: configuration.ncl, count: configuration.hc)
        if let c = resumePoint?.checkpoint, let path = resumePoint?.path {
            try c.checkPosition(samples: dataset.count, batchesPerEpoch: (dataset.count + configuration.batchSize - 1)
                / configuration.batchSize, path: path)
            do {
                try network.load(stateDict: c.modelState)
                try optimizer.loadMomentumState(c.momentum)
            } catch {
                throw TrainingError.checkpointMismatch(path: path, reason: "\(error)")
            }
            guard c.labels.clusters == clusters else {
                throw TrainingError.checkpointMismatch(path: path, reason: "heads \(c.labels.clusters) vs \(clusters)")
            }
            labels = c.labels
            warmStarts = c.warmStarts
            progress = c.state.progress
            lastCheckpoint = path
        } else {
            var rng = Xoshiro256(seed: configuration.seed, 0x4C41_4245_4C53)
            if let fixedLabels {
                guard fixedLabels.clusters == clusters, fixedLabels.count == dataset.count else {
                    throw LabelFileError(path: configuration.labels ?? "fixed labels", reason: "labels for "
                        + "\(fixedLabels.clusters) clusters × \(fixedLabels.count) images, the run has \(clusters) × \(dataset.count)")
                }
                labels = fixedLabels
            } else if let path = configuration.labels {
                throw LabelFileError(path: path, reason: "fixed labels were named but not read")
            } else {
                labels = PseudoLabels.randomEquipartition(clusters: clusters, count: dataset.count, using: &rng)
            }
            warmStarts = Array(repeating: nil, count: configuration.hc)
            let optimisations = configuration.labels == nil ? configuration.nopts : 0
            progress = TrainingProgress(schedule: LabelSchedule(spacing: configuration.schedule, epochs: configuration.epochs,
                                                                samples: dataset.count, count: optimisations))
        }
        dataParallel = communicator.size > 1
            ? DataParallel(network: network, communicator: communicator, synchronizedBatchNorm: configuration.syncBn ?? false)
            : nil
        // Logs are opened only once the checkpoint is known good, so a refused resume leaves no new files.
        // Across ranks only rank 0 writes them.
        let console = self.console
        observers = !communicator.isRoot ? [] : [
            try TrainingMetricsRecorder(path: (experiment as NSString).appendingPathComponent("metrics.jsonl")),
            try TrainingEvents(folder: (experiment as NSString).appendingPathComponent("runs"),
                               comment: configuration.comment, warn: { console.log($0) }),
            console,
        ]
        // Every rank starts from rank 0's weights (built from the same seed, or read from the same checkpoint).
        if let dataParallel { try broadcastFromRoot(dataParallel, parameters: true) }
    }

    /// The current pseudo-labels.
    public var pseudoLabels: PseudoLabels { labels }

    /// Runs (or continues) training until the last epoch or a stop request: the paper's Algorithm 1. Each
    /// epoch walks the shuffled data; before a batch, a label optimisation runs when the schedule says so
    /// (`optimizeLabels`: network pass, Sinkhorn-Knopp per head); then one SGD step on the batch against the
    /// current pseudo-labels (`step`). Epoch ends and stop requests write checkpoints.
    public func run() throws -> TrainingOutcome {
        let loader = BatchLoader(dataset: dataset, transform: trainTransform, batchSize: configuration.batchSize,
                                 shuffle: true, seed: configuration.seed, workers: configuration.workers,
                                 shard: dataParallel?.shard)
        var pace = Pace(totalIterations: configuration.epochs * loader.batchCount)
        if progress.isAtStart && writesOutputs {
            try writeWeights(to: (experiment as NSString).appendingPathComponent("model_init.safetensors"))
        }
        notify { $0.trainingStarted(TrainingStart(configuration: configuration, images: dataset.count,
            batchesPerEpoch: loader.batchCount, labelOptimisationEpochs: progress.schedule.epochs(samples: dataset.count))) }
        while progress.epoch < configuration.epochs {
            let lr = try beginEpoch()
            let batches = loader.epoch(progress.epoch, startingAt: progress.batch)
            pace.beginEpoch()
            while true {
                let waited = ResourceUsage.monotonicSeconds
                guard let batch = try batches.next() else { break }
                phaseTimes.add(\.dataWaitSeconds, since: waited)
                let beforeLabels = progress
                if progress.schedule.takeIfDue(iteration: progress.iteration, batchSize: configuration.batchSize) {
                    do {
                        try optimizeLabels()
                    } catch is LabelPassInterrupted {
                        // Nothing has changed yet: the checkpoint is the state before, the optimisation still due.
                        batches.stop()
                        progress = beforeLabels
                        return .stopped(signal: dataParallel == nil ? StopRequest.signal : agreedSignal,
                                        checkpoint: try stop())
                    } catch let error as SinkhornError {
                        batches.stop()
                        progress = beforeLabels
                        throw try stopOnUnusableLabels(error)
                    }
                    network.setTraining(true)
                }
                let stepped = ResourceUsage.monotonicSeconds
                let loss: Double, rotation: RotationScores?
                var images = batch.indices.count
                if let dataParallel {
                    let outcome = try dataParallelStep(batch, dataParallel)
                    (loss, rotation, images, agreedSignal) = (outcome.loss, outcome.rotation, outcome.images, outcome.signal)
                    if images == 0 { continue }  // every file of the global batch was corrupt
                } else {
                    (loss, rotation) = try step(batch)
                }
                phaseTimes.add(\.sgdSeconds, since: stepped)
                let logged = progress.batch % configuration.logIter == 0
                progress.recordStep(loss: loss, images: images)
                pace.recordStep(images: images)
                var report = pace.report(progress, loss: loss, lr: lr, epochs: configuration.epochs, logged: logged)
                report.rotation = rotation
                notify { $0.iterationFinished(report) }
                DebugPause.at("iteration", "\(progress.iteration - 1)", until: { StopRequest.signal != nil })
                let signal = dataParallel == nil ? StopRequest.signal : agreedSignal
                if signal != nil || (stopAfterIterations.map { pace.stepsThisCall >= $0 } ?? false) {
                    batches.stop()
                    return .stopped(signal: signal, checkpoint: try stop())
                }
            }
            try endEpoch(lr: lr, imagesPerSecond: pace.epochImagesPerSecond)
        }
        let outputs = try writeFinalOutputs()
        let summary = TrainingSummary(epochs: configuration.epochs, iterations: progress.iteration,
                                      labelOptimisations: progress.labelOptimisations,
                                      degenerateLabelOptimisations: progress.degenerateLabelOptimisations,
                                      finalLoss: lastEpochLoss ?? .nan,
                                      seconds: pace.secondsThisCall, finalWeights: outputs.weights,
                                      labelsNpy: outputs.npy, labelsCSV: outputs.csv,
                                      cappedLabelOptimisations: progress.cappedLabelOptimisations, phases: phaseTimes)
        notify { $0.trainingFinished(summary) }
        return .completed(summary)
    }

    /// Sets the epoch's learning rate (writing the pre-drop checkpoint when it is about to fall) and puts the
    /// network in training mode; returns the rate.
    func beginEpoch() throws -> Double {
        let lr = lrSchedule.rate(epoch: progress.epoch)
        optimizer.learningRate = lr
        if progress.batch == 0 && lrSchedule.rate(epoch: progress.epoch + 1) != lr {
            try save(to: checkpoints.preLRDropPath(epoch: progress.epoch), reason: "pre-lr-drop")
        }
        network.setTraining(true)
        return Double(lr)
    }

    /// Closes the epoch: reports it (with the parameter norms every `--log-intv`-th epoch), writes its
    /// checkpoint, keeps the last two, and the lowest-loss one.
    func endEpoch(lr: Double, imagesPerSecond: Double) throws {
        let epoch = progress.epoch
        let (mean, isLowest) = progress.finishEpoch()
        let norms = epoch % configuration.logIntv == 0 ? parameterNorms() : nil
        notify { $0.epochFinished(EpochReport(epoch: epoch, meanLoss: mean, learningRate: lr,
                                              imagesPerSecond: imagesPerSecond, parameterNorms: norms)) }
        try measureHeldOut()  // before the epoch's checkpoint, which then holds the best score so far
        try save(to: checkpoints.regularPath(epoch: progress.epoch, batch: 0), reason: "epoch")
        if writesOutputs { checkpoints.prune(keep: 2) }
        if isLowest { try save(to: checkpoints.lowestPath, reason: "lowest", remember: false) }
        if let every = configuration.saveEvery, every > 0, progress.epoch % every == 0 {
            try save(to: checkpoints.permanentPath(epoch: progress.epoch), reason: "permanent", remember: false)
        }
        lastEpochLoss = mean
    }

    /// Writes the checkpoint of a requested stop and reports how to continue; returns its path.
    func stop() throws -> String {
        let path = checkpoints.regularPath(epoch: progress.epoch, batch: progress.batch)
        try save(to: path, reason: "interrupted")
        try communicator.barrier()  // every rank returns once the checkpoint is on disk
        let command = "selflabel train" + (configuration.data.map { " --data \($0)" } ?? "") + " --exp \(experiment) --resume"
        notify { $0.trainingStopped(TrainingStop(epoch: progress.epoch, iteration: progress.iteration, checkpoint: path,
                                                 resumeCommand: command)) }
        return path
    }

    /// A label optimisation gave no usable labels (`error`): saves the state from just before it (weights,
    /// momentum and labels are untouched, the optimisation still due) and returns the error to stop with.
    func stopOnUnusableLabels(_ error: SinkhornError) throws -> TrainingError {
        let path = checkpoints.regularPath(epoch: progress.epoch, batch: progress.batch)
        try save(to: path, reason: "labels-unusable")
        return .unusableLabels(optimisation: progress.labelOptimisations + 1, epoch: progress.epoch,
                               iteration: progress.iteration, cause: error.description, checkpoint: path)
    }

    /// The L2 norm of every parameter tensor, by name (the official code draws its conv filters here).
    func parameterNorms() -> [(name: String, norm: Double)] {
        network.namedParameters().map { name, p in
            (name, p.value.withUnsafeBufferPointer { b in b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() })
        }
    }

    /// One SGD step on a batch; returns the loss (and with `--rotnet` its rotation part, `RotNet`).
    func step(_ b: Batch) throws -> (loss: Double, rotation: RotationScores?) {
        let tape = Tape(recording: true, kernels: kernels,
                        generator: Xoshiro256(seed: configuration.seed, 0x4452_4F50, UInt64(progress.iteration)))
        let (loss, rotation) = try forwardLoss(b, tape: tape)
        let value = Double(loss.value.scalar)
        guard value.isFinite else {
            throw TrainingError.nonFiniteLoss(epoch: progress.epoch, iteration: progress.iteration, loss: value,
                                              lastCheckpoint: lastCheckpoint)
        }
        optimizer.step(tape.gradients(of: loss))
        return (value, rotation)
    }

    /// The forward pass of a step on `b`: the mean loss over the batch (with `--rotnet` also its rotation part).
    func forwardLoss(_ b: Batch, tape: Tape) throws -> (loss: Variable, rotation: RotationScores?) {
        let loss: Variable
        var rotation: RotationScores?
        if configuration.hasRotationHead {
            let out = try network.forward(tape.constant(RotNet.rotatedBatch(b.images)))
            let l = try RotNet.loss(heads: out.heads, targets: labels.targets(for: b.indices),
                                    onlyRotation: configuration.onlyrot ?? false)
            loss = l.total
            rotation = RotationScores(labelLoss: Double(l.labels.value.scalar), loss: Double(l.rotation.value.scalar),
                                      accuracy: l.rotationAccuracy)
        } else {
            let out = try network.forward(tape.constant(b.images))
            loss = try multiHeadCrossEntropy(out.heads, targets: labels.targets(for: b.indices))
        }
        return (loss, rotation)
    }

    /// Tells every observer.
    func notify(_ event: (any TrainingObserver) -> Void) { observers.forEach(event) }

    /// The current state as a checkpoint.
    func checkpoint(reason: String) -> TrainingCheckpoint {
        var state = TrainingCheckpoint.State(progress: progress, configuration: configuration, reason: reason)
        state.dataset = datasetFingerprint
        return TrainingCheckpoint(state: state,
                           modelState: network.stateDict(), momentum: optimizer.momentumState(), labels: labels,
                           warmStarts: warmStarts)
    }

    func save(to path: String, reason: String, remember: Bool = true) throws {
        guard writesOutputs else {  // across ranks, rank 0 alone writes the (global) checkpoint
            if remember { lastCheckpoint = path }
            return
        }
        notify { $0.checkpointWillBeWritten(path: path, reason: reason) }
        try checkpoint(reason: reason).write(to: path)
        if remember { lastCheckpoint = path }
    }
}
