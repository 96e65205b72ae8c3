import Autograd
import DataPipeline
import Foundation
import NeuralNetworks
import Tensors

/// Trains linear probes on a frozen network (the official linear evaluation): every probe sees the same
/// augmented batches; the network runs without a tape, only the probes are trained (SGD with momentum and
/// weight decay, learning rate × 0.1 at each milestone epoch), then every probe is scored on the evaluation split.
public struct LinearProbeTraining {
    public struct Settings: Sendable {
        public var epochs = 36
        public var learningRate = 0.01
        /// Epochs at which the learning rate is multiplied by 0.1.
        public var milestones = [10, 20, 30]
        public var momentum = 0.9
        public var weightDecay = 1e-5
        public var batchSize = 192
        public var workers = 2
        public var seed: UInt64 = 0
        /// Evaluate with torchvision's ten crops averaged (the official protocol): the evaluation images are
        /// resized so that the shorter side is `resize`, then ten `crop`×`crop` crops are scored and their
        /// logits averaged. nil: a single crop through the evaluation transform.
        public var tenCrop: (resize: Int, crop: Int)?
        public init() {}
    }

    /// Top-1 / top-5 accuracy of one probe.
    public struct Result: Sendable, Equatable {
        public var tap: String
        public var dimension: Int
        public var top1: Double
        public var top5: Double
    }

    public var network: MultiHeadNetwork
    public var probes: [LinearProbe]
    public var settings: Settings
    public var kernels: Kernels = .reference

    public init(network: MultiHeadNetwork, probes: [LinearProbe], settings: Settings) {
        self.network = network
        self.probes = probes
        self.settings = settings
    }

    /// Probes for the given taps ("features" = the pre-head features), sized from one forward pass of `sample`.
    public static func probes(for network: MultiHeadNetwork, taps: [String], sample: Tensor, classes: Int,
                              officialAlexNet: Bool, seed: UInt64) throws -> [LinearProbe] {
        network.setTraining(false)
        let out = try network.forward(Tape(recording: false).constant(sample), taps: Set(taps.filter { $0 != "features" }))
        var rng = Xoshiro256(seed: seed, 0x5052_4F42)
        return taps.map { tap in
            let value = tap == "features" ? out.features.value : out.taps[tap]!.value
            let shape = Array(value.shape.dropFirst())
            let pool = LinearProbe.pooling(tap: tap, shape: shape, officialAlexNet: officialAlexNet)
            return LinearProbe(tap: tap, shape: shape, pool: pool, normalise: shape.count == 3, classes: classes,
                               generator: &rng)
        }
    }

    /// Trains on `train` with `trainTransform`, scores on `test` with `testTransform`.
    public func run(train: any Dataset, trainTransform: TransformPipeline, test: any Dataset,
                    testTransform: TransformPipeline, progress: (String) -> Void = { _ in }) throws -> [Result] {
        guard let trainTargets = train.targets, test.targets != nil else {
            throw EvaluationError.empty(what: "true classes (linear probes need labelled train and evaluation splits)")
        }
        network.setTraining(false)
        let wanted = Set(probes.map(\.tap).filter { $0 != "features" })
        let optimizers = probes.map {
            SGD(parameters: $0.trainableParameters, learningRate: Float(settings.learningRate),
                momentum: Float(settings.momentum), weightDecay: Float(settings.weightDecay))
        }
        let loader = BatchLoader(dataset: train, transform: trainTransform, batchSize: settings.batchSize, shuffle: true,
                                 seed: settings.seed, workers: settings.workers)
        for epoch in 0..<settings.epochs {
            let drops = settings.milestones.filter { epoch >= $0 }.count
            let lr = Float(settings.learningRate * pow(0.1, Double(drops)))
            for o in optimizers { o.learningRate = lr }
            let it = loader.epoch(epoch)
            var seen = 0, lossSum = 0.0
            while let b = try it.next() {
                let frozen = try network.forward(Tape(recording: false, kernels: kernels).constant(b.images), taps: wanted)
                let targets = b.indices.map { Int32(trainTargets[$0]) }
                for (p, probe) in probes.enumerated() {
                    let tape = Tape(recording: true, kernels: kernels)
                    let input = tape.constant(probe.tap == "features" ? frozen.features.value : frozen.taps[probe.tap]!.value)
                    let loss = try softmaxCrossEntropy(try probe(input, training: true), targets: targets)
                    lossSum += Double(loss.value.scalar) * Double(b.indices.count) / Double(probes.count)
                    optimizers[p].step(tape.gradients(of: loss))
                }
                seen += b.indices.count
                progress(String(format: "probe epoch %d/%d: %d/%d images, loss %.4f, lr %.0e", epoch + 1,
                                settings.epochs, seen, train.count, lossSum / Double(max(seen, 1)), Double(lr)))
            }
        }
        if let tc = settings.tenCrop {
            return try scoreTenCrop(test: test, resize: tc.resize, crop: tc.crop, mean: testTransform.mean,
                                    std: testTransform.std)
        }
        return try score(test: test, transform: testTransform)
    }

    /// Top-1 and top-5 of every probe on `test` (single centre crop).
    public func score(test: any Dataset, transform: TransformPipeline) throws -> [Result] {
        let targets = test.targets!
        let wanted = Set(probes.map(\.tap).filter { $0 != "features" })
        let loader = BatchLoader(dataset: test, transform: transform, batchSize: settings.batchSize, shuffle: false,
                                 seed: 0, workers: settings.workers)
        let it = loader.epoch(0)
        var top1 = [Int](repeating: 0, count: probes.count), top5 = top1
        var total = 0
        while let b = try it.next() {
            let tape = Tape(recording: false, kernels: kernels)
            let frozen = try network.forward(tape.constant(b.images), taps: wanted)
            for (p, probe) in probes.enumerated() {
                let input = tape.constant(probe.tap == "features" ? frozen.features.value : frozen.taps[probe.tap]!.value)
                let logits = try probe(input, training: false).value.contiguous()
                let k = logits.shape[1]
                logits.withUnsafeBufferPointer { l in
                    for (row, index) in b.indices.enumerated() {
                        let scores = Array(l[(row * k)..<((row + 1) * k)])
                        let truth = targets[index]
                        let better = scores.indices.filter { scores[$0] > scores[truth] }.count
                        if better == 0 { top1[p] += 1 }
                        if better < 5 { top5[p] += 1 }
                    }
                }
            }
            total += b.indices.count
        }
        return probes.enumerated().map { p, probe in
            Result(tap: probe.tap, dimension: probe.inputDimension, top1: Double(top1[p]) / Double(max(total, 1)),
                   top5: Double(top5[p]) / Double(max(total, 1)))
        }
    }

    /// Top-1 and top-5 of every probe with ten crops per image, logits averaged over the crops.
    public func scoreTenCrop(test: any Dataset, resize: Int, crop: Int, mean: [Float], std: [Float]) throws -> [Result] {
        let targets = test.targets!
        let wanted = Set(probes.map(\.tap).filter { $0 != "features" })
        let pipeline = TransformPipeline([.resize(resize)], mean: mean, std: std)
        let decoder = ImageDecoder()
        var rng = Xoshiro256(seed: 0)
        let perBatch = max(1, settings.batchSize / 10)
        var top1 = [Int](repeating: 0, count: probes.count), top5 = top1
        var total = 0
        var start = 0
        while start < test.count {
            let indices = Array(start..<min(start + perBatch, test.count))
            start += perBatch
            var crops: [Tensor] = []
            var kept: [Int] = []
            for i in indices {
                guard let sample = try? test.sample(at: i, decoder: decoder) else { continue }  // corrupt: skipped
                crops += TenCrop.crops(pipeline.tensor(sample.image, using: &rng), size: crop)
                kept.append(i)
            }
            if kept.isEmpty { continue }
            let tape = Tape(recording: false, kernels: kernels)
            let frozen = try network.forward(tape.constant(Tensor.stack(crops)), taps: wanted)
            for (p, probe) in probes.enumerated() {
                let input = tape.constant(probe.tap == "features" ? frozen.features.value : frozen.taps[probe.tap]!.value)
                let logits = try probe(input, training: false).value.contiguous()
                let k = logits.shape[1]
                logits.withUnsafeBufferPointer { l in
                    for (j, index) in kept.enumerated() {
                        var mean = [Float](repeating: 0, count: k)
                        for c in 0..<10 { for q in 0..<k { mean[q] += l[(j * 10 + c) * k + q] / 10 } }
                        let truth = targets[index]
                        let better = mean.indices.filter { mean[$0] > mean[truth] }.count
                        if better == 0 { top1[p] += 1 }
                        if better < 5 { top5[p] += 1 }
                    }
                }
            }
            total += kept.count
        }
        return probes.enumerated().map { p, probe in
            Result(tap: probe.tap, dimension: probe.inputDimension, top1: Double(top1[p]) / Double(max(total, 1)),
                   top5: Double(top5[p]) / Double(max(total, 1)))
        }
    }
}
