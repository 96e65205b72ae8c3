import ArgumentParser
import DataPipeline
import Foundation
import NeuralNetworks
import SelfLabelling
import Tensors

/// `selflabel train`: the SeLa training run (official `main.py` / `cifar.py`), resumable and observable.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network by self-labelling (SeLa). Without --data: a short demo on the embedded CIFAR-10 subset.",
        discussion: """
            Options follow the official main.py with the same meanings and defaults. Without --data the run uses \
            the embedded 5,000-image CIFAR-10 subset with settings sized for 2 CPU cores, and ends by comparing \
            the trained network with its random initialisation on 1,000 held-out images.
            """)

    // Official main.py options.
    @Option(help: "Number of epochs (default 200).") var epochs: Int?
    @Option(name: .customLong("batch-size"), help: "Batch size (default 256).") var batchSize: Int?
    @Option(help: "Initial learning rate. Default 0.08: the official main.py's default value (its help text says 0.05).")
    var lr: Double?
    @Option(help: "Multiply the learning rate by 0.1 every this many epochs (default 150).") var lrdrop: Int?
    @Option(help: "Weight decay exponent: decay = 10^wd (default -5).") var wd: Double?
    @Option(help: "Sinkhorn-Knopp arithmetic: f64 (the reference's, default) or f32 (log-domain float32).") var dtype: String?
    @Option(help: "Number of label optimisations over the run (default 100).") var nopts: Int?
    @Option(help: "Augmentation level 0-3 of the training images (default 3).") var augs: Int?
    @Option(help: "Sinkhorn-Knopp λ (default 25; a real number).") var lamb: Double?
    @Option(help: "Architecture: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")) (default alexnet).")
    var arch: String?
    @Option(help: "AlexNet variant: big or small (default big).") var archspec: String?
    @Option(help: "Clusters per head (default 3000).") var ncl: Int?
    @Option(help: "Number of heads (default 1).") var hc: Int?
    @Option(help: "Experiment folder for checkpoints, logs and outputs.") var exp: String?
    @Option(help: "Data loader threads (default 2).") var workers: Int?
    @Option(name: [.customLong("data"), .customLong("imagenet-path")],
            help: "Training data: a folder with train/ (and val/ or test/), CIFAR-10/100 binary or MNIST IDX files.")
    var data: String?
    @Option(help: "Run name for TensorBoard (runs/<comment>).") var comment: String?
    @Option(name: .customLong("log-intv"), help: "Epochs between extended logs (default 1).") var logIntv: Int?
    @Option(name: .customLong("log-iter"), help: "Iterations between log records (default 200).") var logIter: Int?

    // SelfLabel's own.
    @Option(help: "Random seed (default 42).") var seed: UInt64?
    @Option(help: "Label-optimisation spacing: quadratic (ImageNet main.py) or linear (cifar.py).") var schedule: String?
    @Option(help: "Augmentation level of the pseudo-label pass (default 0: no random augmentation).") var paugs: Int?
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Flag(help: "Continue from the latest checkpoint in --exp.") var resume = false
    @Flag(name: .customLong("save-scores"),
          help: "Write each label optimisation's network outputs to <exp>/scores/ (rerun offline with selflabel label).")
    var saveScores = false
    @Option(name: .customLong("sk-tol"), help: "Sinkhorn-Knopp tolerance (default 0.1).") var skTol: Double?
    @Option(name: .customLong("sk-max-iters"), help: "Sinkhorn-Knopp iteration cap (default 1000).") var skMaxIters: Int?
    @Option(name: .customLong("sk-storage"), help: "Sinkhorn-Knopp dense-method matrix storage: f32, bf16 or f16 (default f32; unused by the truncated method, the default where it applies).") var skStorage: String?
    @Option(help: "Kernels: cpu (oneDNN, default) or reference (plain Swift + OpenBLAS).") var backend: String?
    @Option(help: "Official settings: cifar (hc 10, ncl 128, λ 10, nopts 400, wd 5e-4, CIFAR LR schedule) or imagenet.")
    var preset: String?
    @OptionGroup var imageLimit: ImageLimitOptions

    /// The configuration: embedded-demo or preset values, then every option given explicitly.
    func resolvedConfiguration() throws -> TrainingConfiguration {
        var c = TrainingConfiguration()
        if data == nil { c = TrainingConfiguration.embeddedDemo }
        if let p = preset {
            guard let preset = TrainingConfiguration.Preset(rawValue: p) else {
                throw ValidationError("--preset \(p) must be cifar or imagenet")
            }
            c.apply(preset)
        }
        if let v = epochs { c.epochs = v }
        if let v = batchSize { c.batchSize = v }
        if let v = lr { c.lr = v }
        if let v = lrdrop { c.lrdrop = v }
        if let v = wd { c.wd = v }
        if let v = dtype { c.dtype = v }
        if let v = nopts { c.nopts = v }
        if let v = augs { c.augs = v }
        if let v = lamb { c.lamb = v }
        if let v = archspec { c.archspec = v }
        if let v = arch { c.arch = v }
        if let v = ncl { c.ncl = v }
        if let v = hc { c.hc = v }
        if let v = exp { c.exp = v }
        if let v = workers { c.workers = v }
        c.data = data
        if let v = comment { c.comment = v }
        if let v = logIntv { c.logIntv = v }
        if let v = logIter { c.logIter = v }
        if let v = seed { c.seed = v }
        if let v = schedule {
            guard let s = LabelSchedule.Spacing(rawValue: v) else {
                throw ValidationError("--schedule \(v) must be quadratic or linear")
            }
            c.schedule = s
        }
        if let v = paugs { c.paugs = v }
        if let v = threads { c.threads = v }
        if let v = skTol { c.skTol = v }
        if let v = skMaxIters { c.skMaxIters = v }
        if let v = skStorage { c.skStorage = v }
        if let v = backend { c.backend = v }
        if saveScores { c.saveScores = true }
        guard Architecture(rawValue: c.arch) != nil || (c.arch == "alexnet") else {
            throw ValidationError("--arch \(c.arch) is not one of \(Architecture.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        do { try c.validate() } catch { throw ValidationError(error.description) }
        if c.dtype == "f64" && c.skStorage != "f32" {
            throw ValidationError("--sk-storage \(c.skStorage) needs --dtype f32 (f64 keeps the matrix in float64)")
        }
        return c
    }

    func validate() throws { _ = try resolvedConfiguration() }

    /// The configuration properties given on the command line (for `--resume` consistency checks).
    var explicitSettings: Set<String> {
        let given: [(String, Any?)] = [
            ("epochs", epochs), ("batchSize", batchSize), ("lr", lr), ("lrdrop", lrdrop), ("wd", wd),
            ("dtype", dtype), ("nopts", nopts), ("augs", augs), ("lamb", lamb), ("arch", arch),
            ("archspec", archspec), ("ncl", ncl), ("hc", hc), ("workers", workers), ("comment", comment),
            ("logIntv", logIntv), ("logIter", logIter), ("seed", seed), ("schedule", schedule), ("paugs", paugs),
            ("threads", threads), ("skTol", skTol), ("skMaxIters", skMaxIters), ("skStorage", skStorage),
            ("backend", backend), ("saveScores", saveScores ? true : nil),
        ]
        var set = Set(given.filter { $0.1 != nil }.map(\.0))
        if preset != nil { set.formUnion(["hc", "ncl", "lamb", "nopts", "lr", "batchSize", "epochs", "wd", "schedule",
                                          "lrSchedule", "arch"]) }
        return set
    }

    func run() throws {
        imageLimit.apply()
        let configuration = try resolvedConfiguration()
        var run = TrainingRun(configuration: configuration, resume: resume)
        run.explicitSettings = explicitSettings
        if let signal = try run.execute() {
            throw ExitCode(128 + signal)  // the shell convention for "stopped by signal"
        }
    }
}
