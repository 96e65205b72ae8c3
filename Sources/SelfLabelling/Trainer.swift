import Autograd
import DataPipeline
import Foundation
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
    /// Mean loss of the last epoch.
    public var finalLoss: Double
    public var seconds: Double
    /// Paths of the outputs in the experiment folder.
    public var finalWeights: String, labelsNpy: String, labelsCSV: String
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
    /// Where human-readable lines go (default: the progress line's log, on standard error).
    public var log: (String) -> Void
    /// Stop (as if interrupted) once this many iterations have run in this call of `run()`: for tests.
    public var stopAfterIterations: Int?

    let progress = ProgressLine()
    let metrics: MetricsLog
    let events: TrainingEvents
    let optimizer: SGD
    let solver: SinkhornKnoppSolver
    let lrSchedule: LearningRateSchedule
    var labels: PseudoLabels
    var warmStarts: [[Double]?]
    var schedule: LabelSchedule
    var epoch = 0, batch = 0, iteration = 0, labelOptimisations = 0
    var lowestLoss: Double?
    var epochLossSum = 0.0, epochLossCount = 0
    var lastCheckpoint: String?

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
    /// otherwise starts fresh with random equipartition labels.
    public init(configuration: TrainingConfiguration, network: MultiHeadNetwork, dataset: any Dataset,
                trainTransform: TransformPipeline, pseudoTransform: TransformPipeline,
                kernels: Kernels = .reference, resumeFrom resumePoint: ResumePoint? = nil) throws {
        try configuration.validate()
        guard dataset.count > 0 else { throw TrainingError.emptyDataset(description: "\(type(of: dataset))") }
        try configuration.validate(samples: dataset.count)
        let experiment = configuration.exp
        let checkpoints = CheckpointFolder(experiment: experiment)
        let restored = resumePoint?.checkpoint
        let restoredPath = resumePoint?.path
        if let c = restored, let path = restoredPath, c.labels.count != dataset.count {
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
        let progress = self.progress
        self.log = { progress.log($0) }
        metrics = try MetricsLog(path: (experiment as NSString).appendingPathComponent("metrics.jsonl"))
        events = try TrainingEvents(folder: (experiment as NSString).appendingPathComponent("runs"),
                                    comment: configuration.comment, warn: { progress.log($0) })
        lrSchedule = configuration.lrSchedule == .cifar
            ? .cifar(base: configuration.lr, epochs: configuration.epochs)
            : .imagenet(base: configuration.lr, dropEvery: configuration.lrdrop)
        optimizer = SGD(parameters: network.namedParameters(), learningRate: lrSchedule.rate(epoch: 0),
                        momentum: Float(configuration.momentum), weightDecay: Float(configuration.weightDecay))
        solver = try SinkhornKnoppSolver(options: SinkhornOptions(
            lambda: configuration.lamb, tolerance: configuration.skTol, maxIterations: configuration.skMaxIters,
            precision: configuration.dtype == "f64" ? .f64 : .f32,
            storage: SinkhornStorage(rawValue: configuration.skStorage) ?? .f32,
            threads: ComputeThreads.count))
        let clusters = [Int](repeating: configuration.ncl, count: configuration.hc)
        if let c = restored, let path = restoredPath {
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
            schedule = LabelSchedule(remaining: c.state.scheduleRemaining)
            epoch = c.state.epoch; batch = c.state.batch; iteration = c.state.iteration
            labelOptimisations = c.state.labelOptimisations
            lowestLoss = c.state.lowestLoss
            epochLossSum = c.state.epochLossSum; epochLossCount = c.state.epochLossCount
            lastCheckpoint = path
        } else {
            var rng = Xoshiro256(seed: configuration.seed, 0x4C41_4245_4C53)
            labels = PseudoLabels.randomEquipartition(clusters: clusters, count: dataset.count, using: &rng)
            warmStarts = Array(repeating: nil, count: configuration.hc)
            schedule = LabelSchedule(spacing: configuration.schedule, epochs: configuration.epochs,
                                     samples: dataset.count, count: configuration.nopts)
        }
    }

    /// The current pseudo-labels.
    public var pseudoLabels: PseudoLabels { labels }

    /// Runs (or continues) training until the last epoch or a stop request.
    public func run() throws -> TrainingOutcome {
        let loader = BatchLoader(dataset: dataset, transform: trainTransform, batchSize: configuration.batchSize,
                                 shuffle: true, seed: configuration.seed, workers: configuration.workers)
        let batches = loader.batchCount
        let totalIterations = configuration.epochs * batches
        let start = Date()
        var ranThisCall = 0
        var imagesThisCall = 0
        if iteration == 0 && batch == 0 && epoch == 0 {
            try writeWeights(to: (experiment as NSString).appendingPathComponent("model_init.safetensors"))
        }
        let times = schedule.epochs(samples: dataset.count).prefix(12).map { String(format: "%.2f", $0) }
        log("training \(configuration.arch) on \(dataset.count) images: \(configuration.epochs) epochs of \(batches) "
            + "batches, \(configuration.hc) head(s) x \(configuration.ncl) clusters; label optimisations at epochs "
            + times.joined(separator: ", ") + (schedule.remaining.count > 13 ? ", …" : ""))
        while epoch < configuration.epochs {
            let lr = lrSchedule.rate(epoch: epoch)
            optimizer.learningRate = lr
            if batch == 0 && lrSchedule.rate(epoch: epoch + 1) != lr {
                try save(to: checkpoints.preLRDropPath(epoch: epoch), reason: "pre-lr-drop")
            }
            network.setTraining(true)
            let epochIterator = loader.epoch(epoch, startingAt: batch)
            let epochStart = Date()
            var epochImages = 0
            while let b = try epochIterator.next() {
                if schedule.takeIfDue(iteration: iteration, batchSize: configuration.batchSize) {
                    try optimizeLabels()
                    network.setTraining(true)
                }
                let loss = try step(b)
                epochLossSum += loss * Double(b.indices.count)
                epochLossCount += b.indices.count
                epochImages += b.indices.count
                imagesThisCall += b.indices.count
                let inBatch = batch
                batch += 1; iteration += 1; ranThisCall += 1
                let elapsed = Date().timeIntervalSince(epochStart)
                let rate = Double(epochImages) / max(elapsed, 1e-9)
                let meanLoss = epochLossSum / Double(max(epochLossCount, 1))
                if inBatch % configuration.logIter == 0 {
                    metrics.write(["kind": "train", "epoch": epoch, "iteration": iteration - 1, "loss": loss,
                                   "loss_mean": meanLoss, "lr": Double(lr), "images_per_second": rate])
                    events.scalar("Loss", loss, step: iteration - 1)
                    events.scalar("lr", Double(lr), step: iteration - 1)
                    events.scalar("Freq(Hz)", rate, step: iteration - 1)
                    if !progress.isTerminal {
                        log(String(format: "epoch %d iteration %d/%d loss %.4f (mean %.4f) lr %.3g %.1f img/s",
                                   epoch, iteration - 1, totalIterations, loss, meanLoss, Double(lr), rate))
                    }
                }
                let eta = Double(totalIterations - iteration) * Date().timeIntervalSince(start) / Double(max(ranThisCall, 1))
                progress.show(String(format: "epoch %d/%d  it %d/%d  loss %.4f  %.1f img/s  lr %.3g  ETA %@",
                                     epoch + 1, configuration.epochs, iteration, totalIterations, meanLoss, rate,
                                     Double(lr), ProgressLine.duration(eta)))
                let signal = StopRequest.signal
                if signal != nil || (stopAfterIterations.map { ranThisCall >= $0 } ?? false) {
                    epochIterator.stop()
                    let path = checkpoints.regularPath(epoch: epoch, batch: batch)
                    try save(to: path, reason: "interrupted")
                    log("stopped at epoch \(epoch), iteration \(iteration); state saved to \(path). "
                        + "Continue with: selflabel train" + (configuration.data.map { " --data \($0)" } ?? "")
                        + " --exp \(experiment) --resume")
                    return .stopped(signal: signal, checkpoint: path)
                }
            }
            let mean = epochLossSum / Double(max(epochLossCount, 1))
            log(String(format: "epoch %d done: mean loss %.4f, %.1f img/s", epoch, mean,
                       Double(epochImages) / max(Date().timeIntervalSince(epochStart), 1e-9)))
            metrics.write(["kind": "epoch", "epoch": epoch, "loss_mean": mean, "lr": Double(lr)])
            events.scalar("epoch_loss", mean, step: epoch)
            if epoch % configuration.logIntv == 0 { logParameterNorms() }
            epoch += 1; batch = 0
            epochLossSum = 0; epochLossCount = 0
            let isLowest = lowestLoss.map { mean < $0 } ?? true
            if isLowest { lowestLoss = mean }
            try save(to: checkpoints.regularPath(epoch: epoch, batch: 0), reason: "epoch")
            checkpoints.prune(keep: 2)
            if isLowest { try save(to: checkpoints.lowestPath, reason: "lowest", remember: false) }
            lastEpochLoss = mean
        }
        let outputs = try writeFinalOutputs()
        events.flush()
        return .completed(TrainingSummary(epochs: configuration.epochs, iterations: iteration,
                                          labelOptimisations: labelOptimisations, finalLoss: lastEpochLoss ?? .nan,
                                          seconds: Date().timeIntervalSince(start), finalWeights: outputs.weights,
                                          labelsNpy: outputs.npy, labelsCSV: outputs.csv))
    }

    var lastEpochLoss: Double?

    /// The extended log of every `--log-intv`-th epoch (the official code draws its conv filters there): the
    /// L2 norm of every parameter tensor, as TensorBoard scalars `weights/<name>` and one metrics record.
    func logParameterNorms() {
        var fields: [(String, Any)] = [("kind", "weights"), ("epoch", epoch)]
        for (name, p) in network.namedParameters() {
            let norm = p.value.withUnsafeBufferPointer { b in b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
            events.scalar("weights/" + name, norm, step: epoch)
            fields.append((name, norm))
        }
        metrics.write(record: fields)
    }

    /// One SGD step on a batch; returns the loss.
    func step(_ b: Batch) throws -> Double {
        let tape = Tape(recording: true, kernels: kernels,
                        generator: Xoshiro256(seed: configuration.seed, 0x4452_4F50, UInt64(iteration)))
        let out = try network.forward(tape.constant(b.images))
        let loss = try multiHeadCrossEntropy(out.heads, targets: labels.targets(for: b.indices))
        let value = Double(loss.value.scalar)
        guard value.isFinite else {
            throw TrainingError.nonFiniteLoss(epoch: epoch, iteration: iteration, loss: value,
                                              lastCheckpoint: lastCheckpoint)
        }
        optimizer.step(tape.gradients(of: loss))
        return value
    }

    /// The current state as a checkpoint.
    func checkpoint(reason: String) -> TrainingCheckpoint {
        TrainingCheckpoint(
            state: .init(epoch: epoch, batch: batch, iteration: iteration, scheduleRemaining: schedule.remaining,
                         labelOptimisations: labelOptimisations, lowestLoss: lowestLoss, epochLossSum: epochLossSum,
                         epochLossCount: epochLossCount, configuration: configuration, reason: reason),
            modelState: network.stateDict(), momentum: optimizer.momentumState(), labels: labels,
            warmStarts: warmStarts)
    }

    func save(to path: String, reason: String, remember: Bool = true) throws {
        events.flush()
        try checkpoint(reason: reason).write(to: path)
        if remember { lastCheckpoint = path }
    }
}
