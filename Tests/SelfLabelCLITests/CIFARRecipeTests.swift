import DataPipeline
import Foundation
import NeuralNetworks
import SelfLabelling
import selflabel
import Tensors
import TestSupport
import Testing

/// `--preset cifar` against the official `cifar.py` and `scripts/cifar.sh`, and the paper's 224×224 CIFAR path.
@Suite struct CIFARRecipeTests {
    /// `scripts/cifar.sh` (yukimasano/self-label): `python3 cifar.py --arch alexnet --device 1 --exp … --datadir …
    /// --type 10 --batch-size 128 --lr 0.03 --nopts 400 --epochs 400 --hc 10 --ncl 128`, in our flags (`--datadir` is
    /// `--data`; `--device` and `--type` have no counterpart: the data folder says which CIFAR it is).
    static let cifarSh = ["--preset", "cifar", "--arch", "alexnet", "--batch-size", "128", "--lr", "0.03", "--nopts", "400",
                          "--epochs", "400", "--hc", "10", "--ncl", "128"]

    /// What cifar.py does with the script's values, written out from the script rather than from the preset: every
    /// setting that changes the results, the others at their defaults.
    static func cifarShSettings(data: String) -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.data = data
        c.arch = .alexnet; c.archspec = .big             // --arch alexnet (models.alexnet, 'big')
        c.batchSize = 128; c.lr = 0.03; c.nopts = 400     // the script's
        c.epochs = 400; c.hc = 10; c.ncl = 128
        c.lamb = 10                                       // cifar.py --lamb default
        c.momentum = 0.9; c.wd = log10(5e-4)              // optim.SGD(momentum=args.momentum, weight_decay=5e-4)
        c.schedule = .linear                              // optimize_times = (epochs + 1.0001)·N·linspace(0, 1, nopts)
        c.lrSchedule = .cifar                             // adjust_learning_rate
        c.labelHeads = .cycle                             // nh = epoch % args.hc
        c.skTol = 1e-2                                    // while err > 1e-2
        c.augs = .cifar                                   // transform_train
        return c
    }

    @Test("--preset cifar with scripts/cifar.sh's command line is cifar.sh's run, setting for setting; the bare preset is cifar.py's defaults")
    func presetReproducesTheScript() throws {
        let c = try TrainCommand.parse(Self.cifarSh + ["--data", "/cifar"]).resolvedConfiguration()
        #expect(c == Self.cifarShSettings(data: "/cifar"))
        // What the settings mean, as cifar.py computes it for 400 epochs.
        #expect(abs(c.weightDecay - 5e-4) < 1e-18)
        let lr = c.learningRateSchedule
        // lr · 0.1^((epoch − 160) // 80) from epoch 160: drops at 240 and 320.
        let rates = [0, 159, 239, 240, 319, 320, 399].map { Double(lr.rate(epoch: $0)) }
        for (rate, expected) in zip(rates, [0.03, 0.03, 0.03, 0.003, 0.003, 0.0003, 0.0003]) {
            #expect(abs(rate - expected) < 1e-6 * expected, "\(rates)")
        }
        let n = 50_000
        var schedule = LabelSchedule(spacing: c.schedule, epochs: c.epochs, samples: n, count: c.nopts)
        #expect(schedule.remaining.count == 401 && schedule.remaining[0] == 0)
        #expect(schedule.remaining[399] == (400 + 1.0001) * Double(n) && schedule.remaining[400] == 410 * Double(n))
        let firstIsDue = schedule.takeIfDue(iteration: 0, batchSize: c.batchSize)
        #expect(firstIsDue)
        #expect(c.labelHeadSelection.heads(epoch: 13, of: c.hc) == [3])

        // cifar.py's own defaults (its argparse), with our CPU-sized network at 32×32.
        var defaults = Self.cifarShSettings(data: "/cifar")
        defaults.arch = .alexnetCIFAR; defaults.batchSize = 64; defaults.lr = 0.05; defaults.epochs = 800; defaults.hc = 20
        #expect(try TrainCommand.parse(["--preset", "cifar", "--data", "/cifar"]).resolvedConfiguration() == defaults)
    }

    @Test("--augs cifar is cifar.py's transform_train at 224 (Resize 256 upscaling the 32×32 images) and equals full at 32; its auto normalisation is CIFAR's")
    func cifarTransforms() throws {
        let (_, data) = try tinyDataRoot("cifar-transforms")
        let train = try DatasetLocator.open(data, split: .train)
        var c = try TrainCommand.parse(Self.cifarSh + ["--data", data]).resolvedConfiguration()
        c = try c.resolvingInput(train: train, threads: 1)
        #expect(c.cropSize == 224 && c.channels == 3)
        let (t, p, e) = c.transforms
        // transforms.Compose([Resize(256), RandomResizedCrop(224, scale=(0.2, 1.)), ColorJitter(0.4, 0.4, 0.4, 0.4),
        //                     RandomGrayscale(p=0.2), RandomHorizontalFlip(), ToTensor(),
        //                     Normalize((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))])
        #expect(t.steps == [.resize(256), .randomResizedCrop(size: 224, scale: 0.2...1.0, ratio: (3.0 / 4.0)...(4.0 / 3.0)),
                            .colorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.4),
                            .randomGrayscale(p: 0.2), .randomHorizontalFlip(p: 0.5)])
        #expect(t.mean == [0.4914, 0.4822, 0.4465] && t.std == [0.2023, 0.1994, 0.2010])
        #expect(t == TransformPipeline.cifarTraining(mean: t.mean, std: t.std, channels: 3))
        // transform_test: Resize(256), CenterCrop(224), the same Normalize (our pseudo-label and evaluation input).
        for pipeline in [p, e] {
            #expect(pipeline.steps == [.resize(256), .centerCrop(224)] && pipeline.mean == t.mean && pipeline.std == t.std)
        }
        // At 32×32 (alexnet_cifar) the same transform is the native one: `full` there, Resize(32) the identity.
        for augs in [Augmentation.cifar, .full] {
            let small = TransformPipeline.augmented(augs, size: 32, channels: 3, mean: t.mean, std: t.std)
            #expect(small == TransformPipeline.cifarTraining(imageSize: 32, cropSize: 32, channels: 3))
        }
        // Grey images get no colour operation, as with full.
        #expect(TransformPipeline.augmented(.cifar, size: 224, channels: 1, mean: [0.5], std: [0.25]).steps
                == [.resize(256), .randomResizedCrop(224, scale: 0.2...1.0), .randomHorizontalFlip(p: 0.5)])
        #expect(Augmentation(rawValue: "cifar") == .cifar && Augmentation.cifar.level == nil)
    }

    @Test("the paper's CIFAR path: --preset cifar --arch alexnet trains at 224×224 on upscaled CIFAR images, re-solving one head per label step")
    func paperPathRunsAt224() throws {
        let root = try temporaryFolder("cifar-224")
        let data = root + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try writeTinyCIFAR10(data, perFile: 1)  // 5 training images
        let train = try DatasetLocator.open(data, split: .train)
        var c = try TrainCommand.parse(["--preset", "cifar", "--arch", "alexnet", "--data", data, "--exp", root + "/exp",
                                        "--hc", "3", "--ncl", "4", "--batch-size", "2", "--epochs", "2", "--nopts", "3",
                                        "--workers", "1"]).resolvedConfiguration()
        c = try c.resolvingInput(train: train, threads: 1)
        let input = c.networkInput
        #expect(input.shape == InputShape(channels: 3, size: 224))
        var rng = Xoshiro256(seed: c.seed, 0x4D4F_4445_4C)
        let network = c.architecture.build(heads: c.networkHeads, input: input.shape, generator: &rng)
        let t = c.transforms
        let trainer = try Trainer(configuration: c, network: network, dataset: train, trainTransform: t.train,
                                  pseudoTransform: t.pseudo, kernels: c.kernels)
        let seen = Seen()
        trainer.observers = [seen]
        trainer.stopAfterIterations = 2
        let initial = trainer.pseudoLabels
        guard case .stopped = try trainer.run() else { Issue.record("the run did not stop after 2 iterations"); return }
        #expect(seen.losses.count == 2 && seen.losses.allSatisfy(\.isFinite), "\(seen.losses)")
        // One label optimisation at iteration 0 (epoch 0): head 0 only; heads 1 and 2 keep their labels.
        #expect(seen.solvedHeads == [[0]])
        #expect(trainer.pseudoLabels.head(1) == initial.head(1) && trainer.pseudoLabels.head(2) == initial.head(2))
        #expect(trainer.pseudoLabels.head(0) != initial.head(0))
    }
}

/// Records what a run reports.
private final class Seen: TrainingObserver {
    var losses: [Double] = []
    var solvedHeads: [[Int]] = []
    func iterationFinished(_ r: IterationReport) { losses.append(r.loss) }
    func labelsOptimised(_ r: LabelOptimisationReport) { solvedHeads.append(r.heads.map(\.head)) }
}
