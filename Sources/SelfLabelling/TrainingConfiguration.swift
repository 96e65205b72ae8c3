import DataPipeline
import Foundation
import NeuralNetworks
import Tensors

/// Every setting of a SeLa training run: the official `main.py` options with the same meanings and defaults,
/// plus SelfLabel's own (seed, schedule spacing, pseudo-label augmentation, threads, Sinkhorn-Knopp
/// controls). Stored in every checkpoint so a resumed run continues with the same settings.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    /// The official learning-rate schedules.
    public enum LRSchedule: String, Codable, Sendable, CaseIterable {
        /// `main.py`: `lr · 0.1^(epoch // lrdrop)` below epoch 350, `lr · 1e-3` from 350 on.
        case imagenet
        /// `cifar.py`: step drops for 200/400/800/1600-epoch runs, constant otherwise.
        case cifar
        /// `retrain_with_rotnet.py`: `lr · 0.1^(epoch // lrdrop)` below epoch 80, `lr · 1e-3` from 80 on.
        case retrain
    }

    /// Official settings bundles.
    public enum Preset: String, Codable, Sendable, CaseIterable {
        case cifar, imagenet
        /// `retrain_with_rotnet.py`'s defaults: fixed-label retraining (`--labels`) with the rotation head.
        case rotnet
    }

    /// The official AlexNet variants (`--archspec`; only `alexnet` has two).
    public enum ArchSpec: String, Codable, Sendable, CaseIterable {
        case big, small
    }

    public var epochs = 200
    public var batchSize = 256
    /// Initial learning rate. The official `main.py` default is 0.08 (its help text says 0.05).
    public var lr = 0.08
    public var lrdrop = 150
    /// Weight decay exponent: the decay is 10^wd.
    public var wd = -5.0
    /// Sinkhorn-Knopp arithmetic: f64 (the reference's) or f32 (log-domain float32).
    public var dtype: SinkhornPrecision = .f64
    public var nopts = 100
    /// Training augmentation: the official levels 0…3 or the reference's names (`Augmentation`).
    public var augs: Augmentation = .full
    public var lamb = 25.0
    public var arch: Architecture = .alexnet
    public var archspec: ArchSpec = .big
    public var ncl = 3000
    public var hc = 1
    public var exp = "self-label-default"
    public var workers = 6
    /// Training data folder; nil = the embedded default data set.
    public var data: String? = nil
    public var comment = "self-label-default"
    public var logIntv = 1
    public var logIter = 200
    public var seed: UInt64 = 42
    public var schedule: LabelSchedule.Spacing = .quadratic
    /// Augmentation of the pseudo-label pass (level 0 = none random).
    public var paugs: Augmentation = .unaugmented
    public var threads = 0
    public var skTol = 0.1
    /// Sinkhorn-Knopp iteration cap; 0 = automatic (`SinkhornOptions.maxIterations`: iterate while the error
    /// keeps falling, up to 100,000), so every label step reaches the official stopping rule.
    public var skMaxIters = 0
    /// Sinkhorn-Knopp acceleration between checks (default Anderson: 10-25× fewer iterations than the plain
    /// loop late in training; every check is a plain step on the exact matrix). Absent (nil) in checkpoints
    /// written before the setting: those runs continue as they ran, plain (`sinkhornAcceleration`).
    public var skAcceleration: SinkhornAcceleration? = .anderson
    /// Empty clusters after a label step: split the largest cluster (default), refuse (stop the run), or
    /// report. Absent (nil) in earlier checkpoints: report, as those runs did (`sinkhornEmptyClusters`).
    public var skEmptyClusters: SinkhornEmptyClusterPolicy? = .split
    /// Start each label step's Sinkhorn-Knopp from the previous step's cluster scaling (off by default: the
    /// network is trained on the labels that scaling produced and absorbs it, so the previous scaling was
    /// measured to be farther from the next solution than the cold start; docs/SINKHORN.md). Absent (nil) in
    /// earlier checkpoints: on, as those runs did (`sinkhornWarmStart`).
    public var skWarmStart: Bool? = false
    /// Storage of the shifted score matrix of the dense method (f32 precision only).
    public var skStorage: SinkhornStorage = .f32
    public var lrSchedule: LRSchedule = .imagenet
    public var momentum = 0.9
    /// Side of the (square) network input; 0 = from the data: the CPU-sized networks take images up to 64×64
    /// at their native size (a 28×28 folder trains at 28), otherwise the architecture's own (224, or 32).
    /// Resolved to the side used when a run starts (`resolvingInput`), so checkpoints record it.
    public var cropSize = 0
    /// Image channels of the network input: 1 (grey) or 3 (RGB); 0 = from the data (`ImageInfo`). Resolved when
    /// a run starts.
    public var channels = 0
    /// Input normalisation (`NormalizationSetting`): `auto` (the official constants for RGB — CIFAR's up to 64×64
    /// and with `augs` cifar, ImageNet's otherwise — `dataset` for grey input), `dataset` (per-channel mean/std computed over the training split), `cifar`, `imagenet`, `mnist`, or values `MEAN[,MEAN,MEAN]/STD[,STD,STD]`. Resolved to
    /// values when a run starts, so checkpoints record the statistics used.
    public var normalization = "auto"
    /// Kernels: cpu (oneDNN, falling back to the reference for anything it declines) or reference.
    public var backend: Kernels.Name = .cpu
    /// Write each label optimisation's network outputs (heads × N × K, float32; the heads it re-solves) to
    /// `<exp>/scores/` so the step can be rerun offline with `selflabel label`.
    public var saveScores = false
    /// Fixed pseudo-labels (`.npy` (N,) or (heads, N), or CSV rows matched by file name; see `LabelFile`): plain
    /// cross-entropy on them, no label optimisation (the official "train a network on our pseudo-labels").
    /// `hc` becomes the file's head count and `ncl` its largest label + 1 unless given larger.
    public var labels: String? = nil
    /// Every this many epochs also keep a permanent checkpoint `checkpoints/ckpt-e<epoch>.safetensors` (nil or 0:
    /// none).
    ///
    /// Settings added after checkpoints of earlier versions exist are optionals whose nil is the behaviour those
    /// runs had, so their stored configurations (which lack the key) still decode and re-encode unchanged.
    public var saveEvery: Int? = nil
    /// Every this many epochs measure the held-out weighted kNN (k = 10, σ = 0.1) and head 0's NMI, logged to
    /// metrics and TensorBoard, keeping the best state as `checkpoints/best_knn.safetensors` (cifar.py does it
    /// every epoch). nil or 0: never.
    public var knnEvery: Int? = nil
    /// Which heads each label optimisation re-solves: `all` (nil: every head, as runs before the setting) or
    /// `cycle` (one head per step, `epoch mod hc`, as cifar.py; `LabelHeadSelection`).
    public var labelHeads: LabelHeadSelection? = nil
    /// `retrain_with_rotnet.py`: an extra 4-way head (`top_layer<hc>`) learns the rotation of every image, each
    /// batch shown at 0/90/180/270 degrees; the label heads' loss is on the unrotated images (`RotNet`). nil or
    /// false: no rotation head.
    public var rotnet: Bool? = nil
    /// With `rotnet`: train on the rotation loss alone (`retrain_with_rotnet.py --onlyrot`: the label heads get no
    /// gradient). nil or false: both losses.
    public var onlyrot: Bool? = nil
    /// The pseudo-label pass (`PseudoLabelPassMode`): `official` (training mode over the shuffled, augmented
    /// training loader, as main.py) or `eval` (evaluation mode, `paugs`, data order). nil: eval, as runs did
    /// before the setting.
    public var plMode: PseudoLabelPassMode? = nil
    /// Element type of the label pass's stored pre-head features (`LabelPassMemoryPlan`): f32 (exact logits) or
    /// bf16 (half the memory, approximate). nil: f32 unless it fits neither in RAM nor on disk, then bf16.
    public var plFeatures: LabelPassFeatureElement? = nil
    /// RAM budget of the label pass in GB (beyond it the features and one head's scores are spilled to files in
    /// the experiment folder). nil: three quarters of the available memory.
    public var plMemory: Double? = nil
    /// Data-parallel training (`mpirun -np R`): batch norm over the global batch (statistics added across the
    /// ranks, forward and backward; `synchronizedBatchNorm`). nil or false: each rank's own share, as PyTorch's
    /// DDP. A single process already normalises over the whole batch.
    public var syncBn: Bool? = nil
    /// Hue range of the colour jitter of the `full` and `cifar` presets on RGB data, in [0, 0.5]. nil: the
    /// official 0.4 (`ColorJitter(0.4, 0.4, 0.4, 0.4)` of `data.py` and `cifar.py`); 0: no hue jitter, as
    /// `shared/reference/sela_ref.py --augs full` (for side-by-side runs at equal settings).
    public var hue: Double? = nil

    public init() {}

    /// The colour jitter's hue range in effect (`hue`; the official 0.4 when unset).
    public var jitterHue: Double { hue ?? TransformPipeline.officialHue }

    /// The label-head selection in effect (`labelHeads`; all heads when unset).
    public var labelHeadSelection: LabelHeadSelection { labelHeads ?? .all }

    /// Whether the network has the RotNet rotation head (`rotnet`).
    public var hasRotationHead: Bool { rotnet ?? false }

    /// The classes of every head of the network these settings train: `hc` label heads of `ncl` clusters, then
    /// the 4-way rotation head with `rotnet`.
    public var networkHeads: [Int] {
        [Int](repeating: ncl, count: hc) + (hasRotationHead ? [RotNet.rotations] : [])
    }

    /// The acceleration in effect (`skAcceleration`; off for runs stored before it existed).
    public var sinkhornAcceleration: SinkhornAcceleration { skAcceleration ?? .off }
    /// The empty-cluster policy in effect (`skEmptyClusters`; report for runs stored before it existed).
    public var sinkhornEmptyClusters: SinkhornEmptyClusterPolicy { skEmptyClusters ?? .report }
    /// The pseudo-label pass in effect (`plMode`; eval when unset).
    public var pseudoLabelPassMode: PseudoLabelPassMode { plMode ?? .eval }
    /// Whether label steps warm-start (`skWarmStart`; on for runs stored before it existed).
    public var sinkhornWarmStart: Bool { skWarmStart ?? true }

    /// The weight decay value, 10^wd.
    public var weightDecay: Double { pow(10, wd) }

    /// The network architecture these settings name (`alexnet` with `archspec` small is `alexnet_small`).
    public var architecture: Architecture { arch == .alexnet && archspec == .small ? .alexnetSmall : arch }

    /// The kernels `backend` names.
    public var kernels: Kernels { Kernels(named: backend) }

    /// The learning-rate schedule these settings name (`lrSchedule`, `lr`, `lrdrop`, `epochs`).
    public var learningRateSchedule: LearningRateSchedule {
        switch lrSchedule {
        case .imagenet: return .imagenet(base: lr, dropEvery: lrdrop)
        case .cifar: return .cifar(base: lr, epochs: epochs)
        case .retrain: return .retrain(base: lr, dropEvery: lrdrop)
        }
    }

    /// Applies a preset's official values (the caller then re-applies options the user gave explicitly).
    public mutating func apply(_ preset: Preset) {
        switch preset {
        case .imagenet:
            // scripts/alexnet.sh (scripts/resnet.sh is the same with --arch resnetv2) on main.py's defaults:
            // 10 heads × 3000 clusters, 400 epochs of batch 256, 100 label optimisations, augmentation level 3;
            // lr 0.08, lrdrop 150, wd −5, λ 25, f64, quadratic spacing are main.py's defaults the scripts keep.
            // Their --workers 24 is left at 6: it fits their machines, not the run's results.
            self = TrainingConfiguration()
            hc = 10; ncl = 3000; epochs = 400; batchSize = 256; nopts = 100; augs = .full; arch = .alexnet
        case .cifar:
            // cifar.py's defaults: hc 20, ncl 128, λ 10, nopts 400, lr 0.05, batch 64, 800 epochs, weight decay
            // 5e-4, linear label schedule, its step LR schedule, one head re-solved per label step (epoch mod hc),
            // Sinkhorn-Knopp stopping at error 1e-2, its training transform (Resize(S·256/224),
            // RandomResizedCrop(S, 0.2–1), jitter, grey, flip; CIFAR statistics). The architecture is the
            // CPU-sized alexnet_cifar at 32×32; `--arch alexnet` is the official 224×224 path.
            hc = 20; ncl = 128; lamb = 10; nopts = 400; lr = 0.05; batchSize = 64; epochs = 800
            wd = log10(5e-4); schedule = .linear; lrSchedule = .cifar; arch = .alexnetCIFAR
            labelHeads = .cycle; skTol = 1e-2; augs = .cifar
        case .rotnet:
            // retrain_with_rotnet.py's argparse defaults and Optimizer: 90 epochs of batch 64, lr 0.05 dropped
            // ×0.1 every 30 epochs and to lr·1e-3 from epoch 80, momentum 0.9, weight decay 1e-5, AlexNet (big)
            // with the 4-way rotation head; its training transform (RandomResizedCrop 224, grey 0.2, jitter 0.4,
            // flip) is augmentation level 3. The heads and clusters follow the labels (`--labels`).
            self = TrainingConfiguration()
            epochs = 90; batchSize = 64; lr = 0.05; lrdrop = 30; lrSchedule = .retrain; rotnet = true
            arch = .alexnet; augs = .full
        }
    }

    /// Checks settings that do not depend on the data, each on its own and across settings (the one place for
    /// such rules); throws the first problem found.
    public func validate() throws(TrainingConfigurationError) {
        func need(_ ok: Bool, _ option: String, _ value: Any, _ rule: String) throws(TrainingConfigurationError) {
            if !ok { throw TrainingConfigurationError(option: option, value: "\(value)", rule: rule) }
        }
        try need(epochs >= 1, "--epochs", epochs, "must be at least 1")
        try need(batchSize >= 1, "--batch-size", batchSize, "must be at least 1")
        try need(lr > 0 && lr.isFinite, "--lr", lr, "must be a positive number")
        try need(lrdrop >= 1, "--lrdrop", lrdrop, "must be at least 1")
        try need(wd.isFinite && wd <= 0, "--wd", wd, "is an exponent (decay = 10^wd) and must be <= 0")
        try need(nopts >= 1, "--nopts", nopts, "must be at least 1")
        try need(cropSize >= 0, "--crop-size", cropSize, "must be >= 0 (0 = from the data)")
        try need([0, 1, 3].contains(channels), "--channels", channels, "must be 1 (grey), 3 (RGB) or 0 (from the data)")
        _ = try NormalizationSetting(parsing: normalization)
        try need(lamb > 0 && lamb.isFinite, "--lamb", lamb, "must be a positive number")
        try need(momentum >= 0 && momentum < 1, "--momentum", momentum, "must be in [0, 1)")
        try need(ncl >= 2, "--ncl", ncl, "must be at least 2")
        try need(hc >= 1, "--hc", hc, "must be at least 1")
        try need(workers >= 0, "--workers", workers, "must be >= 0")
        try need(logIter >= 1, "--log-iter", logIter, "must be at least 1")
        try need(logIntv >= 1, "--log-intv", logIntv, "must be at least 1")
        try need(threads >= 0, "--threads", threads, "must be >= 0 (0 = all cores)")
        try need((saveEvery ?? 0) >= 0, "--save-every", saveEvery ?? 0, "must be >= 0 (0 = no permanent checkpoints)")
        try need((plMemory ?? 1) > 0, "--pl-memory", plMemory ?? 0, "must be a positive number of GB")
        try need(jitterHue >= 0 && jitterHue <= 0.5, "--hue", jitterHue, "must be in [0, 0.5] (torchvision's range)")
        try need((knnEvery ?? 0) >= 0, "--knn-every", knnEvery ?? 0, "must be >= 0 (0 = never)")
        try need(!(onlyrot ?? false) || hasRotationHead, "--onlyrot", true, "needs --rotnet (it trains the rotation head alone)")
        try need(skTol > 0 && skTol.isFinite, "--sk-tol", skTol, "must be a positive number")
        try need(skMaxIters == 0 || skMaxIters >= 10, "--sk-max-iters", skMaxIters,
                 "must be 0 (automatic) or at least 10 (the error is checked every 10)")
        try need(!exp.isEmpty, "--exp", exp, "must name a folder")
        // Rules across settings.
        if pseudoLabelPassMode == .official && paugs != .unaugmented {
            throw TrainingConfigurationError(option: "--paugs", value: paugs.rawValue,
                rule: "applies to --pl-mode eval only (--pl-mode official passes the training transform, --augs)")
        }
        if let conflict = skStorage.conflict(with: dtype, storageOption: "--sk-storage", precisionOption: "--dtype") {
            throw TrainingConfigurationError(option: "--sk-storage", value: skStorage.rawValue, rule: conflict)
        }
    }

    /// Checks the settings against the training set's size.
    public func validate(samples: Int) throws(TrainingConfigurationError) {
        if ncl > samples {
            throw TrainingConfigurationError(option: "--ncl", value: "\(ncl)",
                rule: "is larger than the number of training images (\(samples)): equal-size clusters are impossible")
        }
    }
}

/// An invalid training option: which option, its value and the rule it breaks.
public struct TrainingConfigurationError: Error, CustomStringConvertible, Equatable {
    public var option: String, value: String, rule: String
    public init(option: String, value: String, rule: String) {
        self.option = option; self.value = value; self.rule = rule
    }
    public var description: String { "\(option) \(value) \(rule)" }
}
