import ArgumentParser
import Distributed
import SelfLabelling
import Tensors

/// `selflabel train`: the SeLa training run (official `main.py` / `cifar.py`), resumable and observable.
public struct TrainCommand: ParsableCommand, DistributedCommand {
    public static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network by self-labelling (SeLa). Without --data: a short demo on the embedded CIFAR-10 subset.",
        discussion: """
            Options follow the official main.py with the same meanings and defaults. Without --data the run uses \
            the embedded 5,000-image CIFAR-10 subset with settings sized for 2 CPU cores, and ends by comparing \
            the trained network with its random initialisation on 1,000 held-out images.
            """)

    /// The settings given on the command line.
    @OptionGroup public var settings: TrainingOptions
    @Option(name: [.long, .customShort("r")], defaultAsFlag: ResumeSource.experiment, parsing: .next,
            help: ArgumentHelp("Continue a run: bare, from the newest checkpoint in --exp; with PATH, from that checkpoint file or experiment folder (the run continues in its folder unless --exp is given). A larger --epochs continues to the new end.",
                               valueName: "path"), completion: .file())
    public var resume: ResumeSource? = nil
    @Flag(help: "Start a fresh run even if --exp holds one: the earlier run is first moved aside to <exp>.old-N.")
    var overwrite = false
    @Flag(help: "With --resume: continue even if the training data differs from the data the run was trained on (its fingerprint: file names, sizes, sampled contents).")
    var dataChangedOk = false
    @Option(help: "Official settings: cifar (cifar.py's defaults: hc 20, ncl 128, λ 10, nopts 400, lr 0.05, batch 64, 800 epochs, wd 5e-4, linear label schedule, CIFAR LR schedule, one head per label step, --sk-tol 0.01, --augs cifar; arch alexnet_cifar at 32×32, --arch alexnet for the paper's 224×224 path) or imagenet (scripts/alexnet.sh: hc 10, ncl 3000, 400 epochs, batch 256, nopts 100, augs 3; add --arch resnetv2 for scripts/resnet.sh) or rotnet (retrain_with_rotnet.py: --rotnet, 90 epochs, batch 64, lr 0.05, lrdrop 30 and lr·1e-3 from epoch 80, AlexNet; give the labels with --labels).")
    var preset: String?
    @OptionGroup var imageLimit: ImageLimitOptions

    /// The configuration: embedded-demo or preset values, then every option given explicitly, validated.
    public func resolvedConfiguration() throws -> TrainingConfiguration {
        var c = settings.data == nil ? TrainingConfiguration.embeddedDemo : TrainingConfiguration()
        if let p = preset {
            guard let preset = TrainingConfiguration.Preset(rawValue: p) else {
                throw ValidationError("--preset \(p) must be \(TrainingConfiguration.Preset.choicesPhrase)")
            }
            c.apply(preset)
        }
        do {
            c = try c.applying(settings.given)
            try c.validate()
        } catch {
            throw ValidationError(error.description)
        }
        return c
    }

    public init() {}

    public func validate() throws {
        if dataChangedOk && resume == nil { throw ValidationError("--data-changed-ok applies only with --resume") }
        if overwrite && resume == .experiment {
            throw ValidationError("--overwrite starts a fresh run and cannot be combined with a bare --resume (with "
                + "--resume PATH it lets the run continue into an --exp that holds another run)")
        }
        _ = try resolvedConfiguration()
    }

    /// The settings given on the command line (for `--resume` consistency checks); a preset counts as giving
    /// every setting it governs, except the length: only an `--epochs` typed out moves a resumed run's end.
    public var explicitSettings: Set<String> {
        let given = Set(settings.given.keys)
        guard preset != nil else { return given }
        return given.union(TrainingConfiguration.presetSettings.subtracting(resume != nil ? ["epochs"] : []))
    }

    /// Runs the training: in one process, or as one rank of an `mpirun`/`srun` job (data-parallel training,
    /// docs/DISTRIBUTED.md), where an error on any rank ends the whole job with a line naming the rank.
    public func run() throws {
        let world = try DistributedJob.start()
        var stoppedBy: Int32?
        try DistributedJob.run(world) { stoppedBy = try train(world) }
        if let signal = stoppedBy { throw ExitCode(128 + signal) }  // the shell convention for "stopped by signal"
    }

    /// This process's part of the run; returns the signal that stopped it, if one did.
    func train(_ world: any Communicator) throws -> Int32? {
        imageLimit.apply()
        let configuration = try resolvedConfiguration()
        var run = TrainingRun(configuration: configuration, resume: resume != nil)
        run.communicator = world
        if !world.isRoot { run.log = { _ in } }  // rank 0 speaks for the job
        if case .path(let path) = resume { run.resumeFrom = path }
        run.overwrite = overwrite
        run.explicitSettings = explicitSettings
        run.typedSettings = Set(settings.given.keys)
        run.dataChangedOK = dataChangedOk
        switch try run.execute() {
        case .stopped(let signal):
            return signal
        case .completed(_, let heldOut?):
            print(Self.summaryLine(heldOut))
        case .completed(_, nil):
            break
        }
        return nil
    }

    /// The demo's closing line on standard output.
    static func summaryLine(_ c: HeldOutComparison) -> String {
        if let random = c.randomInitialisation {
            return String(format: "held-out (1,000 images): kNN top-1 (k=10, σ=0.1): trained %.3f, random init %.3f; "
                          + "NMI(head 0, classes): trained %.3f, random init %.3f", c.trained.knnTop1, random.knnTop1,
                          c.trained.nmi, random.nmi)
        }
        return String(format: "held-out (1,000 images): kNN top-1 (k=10, σ=0.1): %.3f; NMI(head 0, classes): %.3f",
                      c.trained.knnTop1, c.trained.nmi)
    }
}

/// What `--resume` continues from: the `--exp` folder's newest checkpoint (the bare flag) or a path.
public enum ResumeSource: ExpressibleByArgument, CustomStringConvertible, Equatable, Sendable {
    case experiment
    /// A checkpoint file or an experiment folder (`Trainer.ResumePoint.named`).
    case path(String)

    public init?(argument: String) { self = .path(argument) }

    public var description: String {
        switch self {
        case .experiment: return "the newest checkpoint in --exp"
        case .path(let p): return p
        }
    }
}
