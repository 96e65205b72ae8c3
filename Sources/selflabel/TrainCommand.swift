import ArgumentParser
import SelfLabelling
import Tensors

/// `selflabel train`: the SeLa training run (official `main.py` / `cifar.py`), resumable and observable.
public struct TrainCommand: ParsableCommand {
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
    @Flag(help: "Continue from the latest checkpoint in --exp.") var resume = false
    @Flag(help: "Start a fresh run even if --exp holds one: the earlier run is first moved aside to <exp>.old-N.")
    var overwrite = false
    @Flag(help: "With --resume: continue even if the training data differs from the data the run was trained on (its fingerprint: file names, sizes, sampled contents).")
    var dataChangedOk = false
    @Option(help: "Official settings: cifar (cifar.py's defaults: hc 20, ncl 128, λ 10, nopts 400, lr 0.05, batch 64, 800 epochs, wd 5e-4, linear label schedule, CIFAR LR schedule, one head per label step, --sk-tol 0.01, --augs cifar; arch alexnet_cifar at 32×32, --arch alexnet for the paper's 224×224 path) or imagenet.")
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
        if dataChangedOk && !resume { throw ValidationError("--data-changed-ok applies only with --resume") }
        _ = try resolvedConfiguration()
    }

    /// The settings given on the command line (for `--resume` consistency checks); a preset counts as giving
    /// every setting it governs.
    public var explicitSettings: Set<String> {
        Set(settings.given.keys).union(preset != nil ? TrainingConfiguration.presetSettings : [])
    }

    public func run() throws {
        imageLimit.apply()
        let configuration = try resolvedConfiguration()
        var run = TrainingRun(configuration: configuration, resume: resume)
        run.overwrite = overwrite
        run.explicitSettings = explicitSettings
        run.dataChangedOK = dataChangedOk
        switch try run.execute() {
        case .stopped(let signal):
            if let signal { throw ExitCode(128 + signal) }  // the shell convention for "stopped by signal"
        case .completed(_, let heldOut?):
            print(Self.summaryLine(heldOut))
        case .completed(_, nil):
            break
        }
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
