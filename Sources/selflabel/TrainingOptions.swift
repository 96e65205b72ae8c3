import ArgumentParser
import NeuralNetworks
import SelfLabelling
import Tensors

/// The options of `selflabel train` that set a `TrainingConfiguration` setting: each property has the
/// setting's name (its option is the name in kebab case), so `given` hands them to
/// `TrainingConfiguration.applying(_:)` and to the `--resume` comparison without a list of its own.
/// Adding a setting: one property in `TrainingConfiguration`, one option here.
public struct TrainingOptions: ParsableArguments {
    // Official main.py options.
    @Option(help: "Number of epochs: trains exactly this many, as cifar.py (main.py trains one more); with --resume, the run's new end (default 200).") var epochs: Int?
    @Option(help: "Batch size (default 256).") var batchSize: Int?
    @Option(help: "Initial learning rate. Default 0.08: the official main.py's default value (its help text says 0.05).")
    var lr: Double?
    @Option(help: "Multiply the learning rate by 0.1 every this many epochs (default 150).") var lrdrop: Int?
    @Option(help: "Weight decay exponent: decay = 10^wd (default -5).") var wd: Double?
    @Option(help: "Sinkhorn-Knopp arithmetic: f64 (the reference's, default) or f32 (log-domain float32).") var dtype: String?
    @Option(help: "Number of label optimisations over the run (default 100).") var nopts: Int?
    @Option(help: "Training augmentation: 0|none, 1|flip, 2|crop_flip, 3|full (default; colour only on RGB data), crop (random resized crops only) or cifar (cifar.py's transform at any size: Resize(256), RandomResizedCrop(224, scale 0.2-1), colour, flip at 224; CIFAR statistics).")
    var augs: String?
    @Option(help: "Sinkhorn-Knopp λ (default 25; a real number).") var lamb: Double?
    @Option(help: "Architecture: \(Architecture.choicesPhrase); the official resnetv1 is resnet50 (default alexnet).")
    var arch: String?
    @Option(help: "AlexNet variant: \(TrainingConfiguration.ArchSpec.choicesPhrase) (default big).") var archspec: String?
    @Option(help: "Clusters per head (default 3000).") var ncl: Int?
    @Option(help: "Number of heads (default 1).") var hc: Int?
    @Option(help: "Experiment folder for checkpoints, logs and outputs.") var exp: String?
    @Option(help: "Data loader threads (default 6).") var workers: Int?
    @Option(name: [.customLong("data"), .customLong("imagenet-path"), .customLong("datadir")],
            help: "Training data: a folder with train/ (and val/ or test/), CIFAR-10/100 binary or MNIST IDX files (--imagenet-path: main.py's name; --datadir: cifar.py's, there holding CIFAR's binary version).")
    var data: String?
    @Option(help: "Run name for TensorBoard (runs/<comment>).") var comment: String?
    @Option(help: "SGD momentum (default 0.9, as main.py).") var momentum: Double?
    @Option(name: [.customLong("log-intv"), .customLong("log-interval")],
            help: "Epochs between extended logs (default 1; --log-interval: retrain_with_rotnet.py's name).") var logIntv: Int?
    @Option(name: [.customLong("log-iter"), .customLong("logiter")],
            help: "Iterations between log records (default 200; --logiter: retrain_with_rotnet.py's name).") var logIter: Int?

    // SelfLabel's own.
    @Option(help: "Random seed (default 42).") var seed: UInt64?
    @Option(help: "Label-optimisation spacing: quadratic (ImageNet main.py) or linear (cifar.py).") var schedule: String?
    @Option(help: "Augmentation of the pseudo-label pass, as --augs (default 0: no random augmentation).") var paugs: String?
    @Option(help: "Pseudo-label pass: eval (default: evaluation mode, --paugs, data order) or official (main.py's: training mode — batch statistics, running statistics updated, dropout — over the shuffled, augmented training loader).")
    var plMode: String?
    @Option(help: "Label pass: stored pre-head features as f32 (exact logits) or bf16 (half the memory, approximate) (default: f32 unless only bf16 fits in RAM or on disk).")
    var plFeatures: String?
    @Option(help: "Label pass RAM budget in GB; beyond it features and one head's scores spill to files in --exp (default: 3/4 of the available memory).")
    var plMemory: Double?
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Flag(help: "Write each label optimisation's network outputs to <exp>/scores/ (rerun offline with selflabel label).")
    var saveScores = false
    @Option(help: "Retrain on fixed pseudo-labels: .npy (N,) or (heads, N) in data order, or CSV (path, one label per head; rows matched by file name). No label optimisation; --hc and --ncl follow the file.")
    var labels: String?
    @Option(help: "Every N epochs also keep checkpoints/ckpt-e<epoch>.safetensors, never pruned (default 0: none).")
    var saveEvery: Int?
    @Option(help: "Heads re-solved at each label optimisation: all (default) or cycle (one per step, head epoch mod hc, as cifar.py).")
    var labelHeads: String?
    @Flag(help: "retrain_with_rotnet.py: an extra 4-way head learns each image's rotation; every batch is shown at 0/90/180/270 degrees, the label heads' loss on the unrotated images plus the rotation loss.")
    var rotnet = false
    @Flag(help: "With --rotnet: train on the rotation loss alone (retrain_with_rotnet.py --onlyrot; the label heads get no gradient).")
    var onlyrot = false
    @Option(help: "Every N epochs measure the held-out kNN top-1 (k 10, σ 0.1) and head-0 NMI, as cifar.py; keeps checkpoints/best_knn.safetensors (default 0: never).")
    var knnEvery: Int?
    @Option(help: "Sinkhorn-Knopp tolerance (default 0.1).") var skTol: Double?
    @Option(help: "Sinkhorn-Knopp iteration cap (default 0: automatic, iterate while the error keeps falling, up to 100,000).") var skMaxIters: Int?
    @Option(help: "Sinkhorn-Knopp acceleration: \(SinkhornAcceleration.choicesPhrase) (default anderson; each check of the official rule is a plain step).")
    var skAcceleration: String?
    @Option(help: "Empty clusters after a label step: \(SinkhornEmptyClusterPolicy.choicesPhrase) (default split: each takes half of the largest cluster; refuse stops the run).")
    var skEmptyClusters: String?
    @Flag(help: "Start each label step's Sinkhorn-Knopp from the previous step's cluster scaling (measured to need more iterations in training than the cold start).")
    var skWarmStart = false
    @Option(help: "Sinkhorn-Knopp dense-method matrix storage: \(SinkhornStorage.choicesPhrase) (default f32; unused by the truncated method, the default where it applies).")
    var skStorage: String?
    @Option(help: "Kernels: cpu (oneDNN, default) or reference (plain Swift + OpenBLAS).") var backend: String?
    @Option(help: "Side of the square network input (default 0: from the data — images up to 64×64 at their own size for the CPU-sized networks, else the architecture's 224 or 32).")
    var cropSize: Int?
    @Option(help: "Input channels: 1 (grey) or 3 (RGB) (default 0: 1 when the training images are grey, else 3).")
    var channels: Int?
    @Option(help: "Input normalisation: auto (default: for RGB the official CIFAR values up to 64×64 and ImageNet's above, for grey input dataset), dataset (mean/std per channel over the training images), cifar, imagenet, mnist, or MEAN[,MEAN,MEAN]/STD[,STD,STD].")
    var normalization: String?
    @Flag(help: "Under mpirun: batch norm over the global batch, statistics added across the ranks (default: each rank's share, as PyTorch DDP). One process already uses the whole batch.")
    var syncBn = false
    @Option(help: "Hue range of the colour jitter of --augs full/cifar on RGB data, 0-0.5 (default 0.4, the official ColorJitter(0.4, 0.4, 0.4, 0.4); 0: no hue jitter, as sela_ref.py's full).")
    var hue: Double?

    public init() {}

    /// The settings given on the command line, by setting name (an unset flag counts as not given).
    public var given: [String: Any] {
        var values: [String: Any] = [:]
        for child in Mirror(reflecting: self).children {
            guard let label = child.label, let setting = child.value as? GivenArgument,
                  let value = setting.givenValue else { continue }
            values[String(label.dropFirst())] = value  // the property wrapper's storage is `_name`
        }
        return values
    }
}

/// A parsed option or flag whose value, if the user gave one, is a setting's value.
protocol GivenArgument {
    /// The value given, or nil when the option was absent (or the flag unset).
    var givenValue: Any? { get }
}

extension Option: GivenArgument {
    var givenValue: Any? {
        let value: Any = wrappedValue
        let mirror = Mirror(reflecting: value)
        return mirror.displayStyle == .optional ? mirror.children.first?.value : value
    }
}

extension Flag: GivenArgument where Value == Bool {
    var givenValue: Any? { wrappedValue ? true : nil }
}
