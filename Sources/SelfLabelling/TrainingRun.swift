import DataPipeline
import Distributed
import Evaluation
import Foundation
import Interop
import NeuralNetworks
import Tensors

extension TrainingConfiguration {
    /// The embedded demo (`selflabel train` without `--data`): sized to finish in a few minutes on 2 cores:
    /// convnet_tiny, 10 heads × 100 clusters, 16 epochs of batch 128 at LR 0.05 (weight decay 1e-4), 10 label
    /// optimisations spaced linearly (cifar.py) with λ = 10 (the official CIFAR value), float32 Sinkhorn-Knopp,
    /// the CIFAR augmentations at 32×32.
    public static var embeddedDemo: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.arch = .convnetTiny
        c.hc = 10; c.ncl = 100
        c.epochs = 16; c.batchSize = 128; c.lr = 0.05
        c.nopts = 10; c.schedule = .linear; c.lamb = 10
        c.wd = -4; c.lrSchedule = .cifar
        c.dtype = .f32; c.augs = .full
        c.exp = "selflabel-demo"; c.comment = "selflabel-demo"; c.logIter = 10
        c.workers = 1
        return c
    }
}

/// A whole `selflabel train` invocation: opens the data, builds the network, trains (or resumes), and for
/// the embedded demo compares the trained network with its random initialisation on held-out images.
public struct TrainingRun {
    public var configuration: TrainingConfiguration
    public var resume: Bool
    /// For a fresh run into a folder that holds an earlier one: move that run aside instead of refusing.
    public var overwrite = false
    /// Settings the user gave explicitly (property names), checked against a resumed run's; a preset counts
    /// as giving the settings presets govern.
    public var explicitSettings: Set<String> = []
    /// Settings typed as options (property names), presets not counted: with `--labels`, only a typed `--hc`
    /// or `--ncl` overrides what the labels file says.
    public var typedSettings: Set<String> = []
    /// For `--resume`: continue even if the training set's fingerprint differs from the checkpoint's.
    public var dataChangedOK = false
    /// For a data folder too (the embedded demo always does it): compare the trained network with its random
    /// initialisation on the folder's evaluation split (`val/` or `test/`), as `Outcome.completed`'s `heldOut`.
    public var compareHeldOut = false
    /// For `--resume PATH`: the checkpoint file or experiment folder to continue from (nil: the newest
    /// checkpoint in `configuration.exp`). Without an explicit `--exp` the run continues in PATH's experiment
    /// folder (`Trainer.ResumePoint.named`).
    public var resumeFrom: String?
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// The ranks of a data-parallel job (`mpirun -np R selflabel train`; docs/DISTRIBUTED.md), or the single
    /// process. Across ranks every rank trains its share; rank 0 alone changes the experiment folder and writes
    /// the outputs.
    public var communicator: any Communicator = SingleProcessCommunicator.shared

    public init(configuration: TrainingConfiguration, resume: Bool) {
        self.configuration = configuration
        self.resume = resume
    }

    /// How a run ended.
    public enum Outcome: Sendable {
        /// A signal (or a test's stop) ended it; its checkpoint is written.
        case stopped(signal: Int32?)
        /// Every epoch ran; for the embedded demo, `heldOut` compares the trained network with its random
        /// initialisation (also written to `<exp>/summary.json`).
        case completed(TrainingSummary, heldOut: HeldOutComparison?)
    }

    /// Runs it.
    public func execute() throws -> Outcome {
        let started = Date()
        var configuration = self.configuration
        var resumePoint: Trainer.ResumePoint?
        var supersededBy: Trainer.ResumePoint?  // an earlier checkpoint of the folder, continued from
        let isRoot = communicator.isRoot
        if !resume, isRoot, let aside = try ExperimentFolder.claimForFreshRun(configuration.exp, overwrite: overwrite) {
            log("--overwrite: moved the earlier run in \(configuration.exp) to \(aside)")
        }
        if resume {
            let point: Trainer.ResumePoint
            (point, supersededBy) = try locateResumePoint(&configuration)
            configuration = try configuration.resumed(from: point.checkpoint.state.configuration,
                                                      explicit: explicitSettings)
            resumePoint = point
            let at = point.checkpoint.state.progress
            log("resuming from \(point.path) (epoch \(at.epoch), iteration \(at.iteration)) in \(configuration.exp)")
        }
        if isRoot {
            try ExperimentFolder.prepare(configuration.exp)
            for stale in ExperimentFolder.removeStaleTemporaries(configuration.exp) {
                log("removed \(stale), a temporary file left by an interrupted run")
            }
        }
        try communicator.barrier()  // the other ranks start once rank 0 has claimed and prepared the folder
        ComputeThreads.set(configuration.threads > 0 ? configuration.threads : ComputeThreads.defaultCount)
        let architecture = configuration.architecture
        let embedded = configuration.data == nil
        // A folder small enough is decoded once and kept (DecodedImageCache): it is read twice per epoch and more.
        let train: any Dataset = embedded ? try EmbeddedCIFAR10.train
            : DecodedImageCache(try DatasetLocator.open(configuration.data!, split: .train))
        let fingerprint = try DatasetFingerprint(of: train)
        if let point = resumePoint { try checkData(fingerprint, against: point, stored: self.configuration.data) }
        if var point = resumePoint, configuration.epochs != point.checkpoint.state.configuration.epochs {
            try point.changeLength(to: configuration, samples: train.count)
            noteLengthChange(point, to: configuration, samples: train.count)
            resumePoint = point
        }
        let fixedLabels = resume ? nil : try readFixedLabels(into: &configuration, dataset: train)
        if !resume {
            // A resumed run keeps the input its checkpoint recorded (or, for an older checkpoint, the legacy one).
            configuration = try configuration.resolvingInput(train: train, threads: max(configuration.workers, 1), note: log)
        }
        let input = configuration.networkInput
        if let problem = input.problem {
            throw TrainingConfigurationError(option: "--normalization", value: configuration.normalization, rule: problem)
        }
        do { try architecture.check(input.shape) } catch {
            throw TrainingConfigurationError(option: "--crop-size", value: "\(input.shape.size)", rule: "does not fit: \(error)")
        }
        let (trainT, pseudoT, evalT) = configuration.transforms
        let heldOutTest = try heldOutSplit(configuration, train: train)
        var rng = Xoshiro256(seed: configuration.seed, 0x4D4F_4445_4C)
        let network = architecture.build(heads: configuration.networkHeads, input: input.shape, generator: &rng)
        let kernels = configuration.kernels
        var baseline: HeldOutScores?
        let comparisonSplit: (any Dataset)? = embedded ? try EmbeddedCIFAR10.test
            : compareHeldOut ? try DatasetLocator.open(configuration.data!, split: .evaluation) : nil
        if let comparisonSplit, !resume, isRoot {
            log("evaluating the randomly initialised network on the held-out images…")
            baseline = try HeldOutScores.measure(network: network, train: train, test: comparisonSplit,
                                                  transform: evalT, workers: configuration.workers, kernels: kernels)
        }
        try communicator.barrier()  // every rank has read its checkpoint and passed every check
        if let point = resumePoint, isRoot {  // every check passed: now the folder may change
            if let earlier = supersededBy { try supersedeLaterCheckpoints(earlier, in: configuration.exp) }
            let metrics = (configuration.exp as NSString).appendingPathComponent("metrics.jsonl")
            if try MetricsLog.truncate(metrics, toCheckpointAt: point.checkpoint.state.progress) > 0 {
                log("\(metrics): dropped the records written after that checkpoint (the resumed run repeats that work)")
            }
        }
        StopRequest.installHandlers()
        let trainer = try Trainer(configuration: configuration, network: network, dataset: train,
                                  trainTransform: trainT, pseudoTransform: pseudoT, kernels: kernels, resumeFrom: resumePoint, fixedLabels: fixedLabels,
                                  communicator: communicator)
        if let heldOutTest { trainer.heldOut = (heldOutTest, evalT) }
        trainer.datasetFingerprint = fingerprint
        let summary: TrainingSummary
        switch try trainer.run() {
        case .stopped(let signal, _):
            if isRoot { writeReport(configuration.exp) }
            return .stopped(signal: signal)
        case .completed(let s):
            summary = s
            log(String(format: "finished: %d epochs, %d iterations, %d label optimisations, final mean loss %.4f, %.0f s",
                       s.epochs, s.iterations, s.labelOptimisations, s.finalLoss, s.seconds))
            if s.degenerateLabelOptimisations > 0 {
                log("warning: \(s.degenerateLabelOptimisations) of \(s.labelOptimisations) label optimisations gave "
                    + "degenerate labels (see the \"degenerate_labels\" records of metrics.jsonl)")
            }
        }
        if summary.cappedLabelOptimisations > 0 {
            log("warning: in \(summary.cappedLabelOptimisations) of \(summary.labelOptimisations) label optimisations "
                + "Sinkhorn-Knopp stopped at its iteration cap, so those labels are not the equipartition SeLa asks for "
                + "(\"converged\": false in metrics.jsonl's labels records): " + TrainingSummary.capAdvice)
        }
        guard isRoot else { return .completed(summary, heldOut: nil) }  // rank 0 writes the rest
        let summaryPath = (configuration.exp as NSString).appendingPathComponent("summary.json")
        // The paper's picture: head 0's clusters as rows of thumbnails framed by true class.
        let gallery = ClusterGallery(labels: trainer.pseudoLabels.head(0).map(Int.init), targets: train.targets,
                                     classNames: train.classNames, clusters: 20, perCluster: 12, order: .purity,
                                     seed: configuration.seed)
        do {  // the run's results are on disk already: a picture that cannot be drawn is a warning
            let pictures = try gallery.write(to: (configuration.exp as NSString).appendingPathComponent("clusters"), dataset: train,
                                             title: "\(embedded ? "SelfLabel demo" : (configuration.exp as NSString).lastPathComponent): clusters of head 0")
            log("cluster picture: \(pictures.png) (page: \(pictures.html))")
        } catch {
            log("warning: could not draw the cluster picture: \(error)")
        }
        guard let comparisonSplit else {
            try RunSummaryFile(summary: summary, heldOut: nil).write(to: summaryPath)
            writeReport(configuration.exp)
            return .completed(summary, heldOut: nil)
        }
        let trained = try HeldOutScores.measure(network: network, train: train, test: comparisonSplit,
                                                transform: evalT, workers: configuration.workers, kernels: kernels)
        let comparison = HeldOutComparison(trained: trained, randomInitialisation: baseline,
                                           seconds: Date().timeIntervalSince(started))
        try RunSummaryFile(summary: summary, heldOut: comparison).write(to: summaryPath)
        writeReport(configuration.exp)
        return .completed(summary, heldOut: comparison)
    }
}

extension TrainingRun {
    /// For `--resume`: refuses a training set whose fingerprint differs from the checkpoint's (unless
    /// `dataChangedOK`, which says so); a checkpoint written before fingerprints were stored is resumed with a
    /// note that the data cannot be checked. `given` is the `--data` of this command line (nil: none given).
    func checkData(_ fingerprint: DatasetFingerprint, against point: Trainer.ResumePoint, stored given: String?) throws {
        guard let stored = point.checkpoint.state.dataset else {
            log("note: \(point.path) holds no data set fingerprint (written by an earlier version): "
                + "the data cannot be checked against the run's")
            return
        }
        guard let difference = fingerprint.difference(from: stored) else { return }
        let storedData = point.checkpoint.state.configuration.data
        func describe(_ data: String?) -> String { data ?? "(the embedded CIFAR-10 subset)" }
        guard dataChangedOK else {
            throw TrainingError.dataChanged(checkpoint: point.path, stored: describe(storedData),
                                            given: describe(given ?? storedData), difference: difference)
        }
        log("warning: --data-changed-ok: continuing \(point.path), trained on \(describe(storedData)), on "
            + "\(describe(given ?? storedData)) (\(difference))")
    }
}

/// The two numbers the embedded demo reports on held-out images: weighted-kNN top-1 (k = 10, σ = 0.1, memory
/// bank = the training images with their true classes, on pre-head features) and the NMI of head 0's clusters
/// with the true classes.
public struct HeldOutScores: Sendable, Equatable {
    public var knnTop1: Double
    public var nmi: Double

    public static func measure(network: MultiHeadNetwork, train: any Dataset, test: any Dataset,
                               transform: TransformPipeline, workers: Int, kernels: Kernels) throws -> HeldOutScores {
        let a = try NetworkOutputs.compute(network: network, dataset: train, transform: transform, workers: workers,
                                           kernels: kernels)
        let b = try NetworkOutputs.compute(network: network, dataset: test, transform: transform, workers: workers,
                                           kernels: kernels)
        guard let trainTargets = a.targets, let testTargets = b.targets else {
            throw EvaluationError.empty(what: "true classes of the held-out images")
        }
        let knn = try WeightedKNN.evaluate(trainFeatures: a.features, trainLabels: trainTargets,
                                           testFeatures: b.features, testLabels: testTargets, ks: [10], sigmas: [0.1])
        let nmi = ClusteringMetrics.normalizedMutualInformation(
            try ContingencyTable(predicted: b.headArgmax[0], truth: testTargets))
        return HeldOutScores(knnTop1: knn.scores[0].top1, nmi: nmi)
    }
}
