import ArgumentParser
import DataPipeline
import Evaluation
import Foundation
import NeuralNetworks
import SelfLabelling
import Tensors

/// `selflabel eval linear`: linear probes on frozen features (the official protocol, all settings adjustable).
struct EvalLinearCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linear",
        abstract: "Train linear probes on frozen activations and report top-1/top-5 on the evaluation split.",
        discussion: """
            AlexNet (224×224): probes after the ReLUs of conv1-conv5, max-pooled to about 9,600 values (official \
            pools), BatchNorm without affine parameters, a linear layer; SGD momentum 0.9, weight decay 1e-5, 36 \
            epochs, LR 1e-2 ×0.1 at epochs 10/20/30, batch 192, RandomResizedCrop + flip. ResNet: a linear layer on \
            the pooled 2048-d features, LR 0.1 ×0.1 at epochs 85 and 128, 146 epochs. CPU-sized networks: every \
            tap pooled to at most 9,600 values and the pre-head features, with the AlexNet schedule (set --epochs). \
            224-input networks are evaluated with ten crops averaged (--single-crop: one centre crop); 32-input \
            networks with their single evaluation view.
            """)

    @OptionGroup var common: ModelDataOptions
    @Option(parsing: .upToNextOption, help: "Activations to probe (default: by architecture; 'features' = pre-head).")
    var taps: [String] = []
    @Option(help: "Epochs (default 36; ResNet 146).") var epochs: Int?
    @Option(help: "Initial learning rate (default 0.01; ResNet 0.1).") var lr: Double?
    @Option(parsing: .upToNextOption, help: "Epochs where the LR is multiplied by 0.1 (default 10 20 30; ResNet 85 128).")
    var milestones: [Int] = []
    @Option(help: "Weight decay.") var wd: Double = 1e-5
    @Option(help: "SGD momentum.") var momentum: Double = 0.9
    @Option(name: .customLong("probe-batch-size"), help: "Training batch size of the probes.") var probeBatchSize: Int = 192
    @Option(help: "Seed for the probes' initialisation and the data order.") var seed: UInt64 = 0
    @Flag(name: .customLong("single-crop"),
          help: "Evaluate 224-input networks on one centre crop instead of ten crops averaged (32-input networks always use one).")
    var singleCrop = false
    @Flag(help: "Print JSON instead of a table.") var json = false

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
        guard probeBatchSize >= 2 else { throw ValidationError("--probe-batch-size must be at least 2 (batch norm)") }
    }

    func run() throws {
        let model = try common.loadModel()
        let arch = model.architecture
        let isResNet = arch == .resnet50 || arch == .resnet18 || arch == .resnetv2
        let isAlexNet224 = arch == .alexnet || arch == .alexnetSmall
        var settings = LinearProbeTraining.Settings()
        if isResNet { settings.epochs = 146; settings.learningRate = 0.1; settings.milestones = [85, 128] }
        if let epochs { settings.epochs = epochs }
        if let lr { settings.learningRate = lr }
        if !milestones.isEmpty { settings.milestones = milestones }
        settings.weightDecay = wd
        settings.momentum = momentum
        settings.batchSize = probeBatchSize
        settings.workers = common.workers
        settings.seed = seed
        let input = model.input
        if !singleCrop && input.shape.size > 64 {
            settings.tenCrop = (resize: input.shape.size * 256 / 224, crop: input.shape.size)
        }
        let net = model.network
        var chosen = taps
        if chosen.isEmpty {
            chosen = isResNet ? ["features"] : isAlexNet224 ? ["conv1", "conv2", "conv3", "conv4", "conv5"]
                : net.tapNames.filter { $0.hasPrefix("conv") } + ["features"]
        }
        for t in chosen where t != "features" && !net.tapNames.contains(t) {
            throw ValidationError("--taps \(t) is not one of: \((net.tapNames + ["features"]).joined(separator: ", "))")
        }
        let train = try common.dataset(.train), test = try common.dataset(.evaluation)
        guard let classes = train.classNames?.count ?? train.targets.map({ ($0.max() ?? 0) + 1 }) else {
            throw ValidationError("the data set has no classes; linear probes need labels")
        }
        let size = input.shape.size
        let trainTransform = TransformPipeline(
            [size <= 64 ? .randomResizedCrop(size, scale: 0.2...1.0) : .randomResizedCrop(size), .randomHorizontalFlip(p: 0.5)],
            mean: input.mean, std: input.std, channels: input.shape.channels)
        let first = try BatchLoader(dataset: test, transform: model.evaluationTransform, batchSize: 2, shuffle: false,
                                    seed: 0, workers: 0).epoch(0).next()!
        let probes = try LinearProbeTraining.probes(for: net, taps: chosen, sample: first.images, classes: classes,
                                                    officialAlexNet: isAlexNet224, seed: seed)
        let progress = ProgressLine()
        var training = LinearProbeTraining(network: net, probes: probes, settings: settings)
        training.kernels = common.kernels
        let results = try training.run(train: train, trainTransform: trainTransform, test: test,
                                       testTransform: model.evaluationTransform) { progress.show($0) }
        progress.show("", force: true)
        if json {
            print("[" + results.map { "{\"tap\": \"\($0.tap)\", \"dimension\": \($0.dimension), \"top1\": \($0.top1), \"top5\": \($0.top5)}" }
                .joined(separator: ", ") + "]")
        } else {
            print("linear probes, \(settings.epochs) epochs, evaluated on \(test.count) images ("
                  + (settings.tenCrop == nil ? "single centre crop)" : "ten crops averaged)"))
            print("  tap        dim    top-1    top-5")
            for r in results {
                print("  " + r.tap.padding(toLength: 8, withPad: " ", startingAt: 0)
                      + String(format: " %6d  %6.2f%%  %6.2f%%", r.dimension, 100 * r.top1, 100 * r.top5))
            }
        }
    }
}
