import Autograd
import NeuralNetworks
import TestSupport
import Testing
import Tensors

@Suite struct OptimizerAndStateTests {
    /// Hand-computed torch.optim.SGD steps: g = grad + wd·p; buf = g (first), then μ·buf + g; p -= lr·buf.
    @Test func sgdMatchesTorchRecurrence() throws {
        let p = Parameter(Tensor([1, -2]))
        let sgd = SGD(parameters: [("p", p)], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        var expected: [Double] = [1, -2], buf: [Double] = [0, 0]
        for step in 0..<3 {
            let tape = Tape()
            let v = tape.variable(for: p)
            let loss = sum(v * Float(step + 1))  // grad = step + 1
            sgd.step(tape.gradients(of: loss))
            for i in 0..<2 {
                let g = Double(step + 1) + 0.01 * expected[i]
                buf[i] = step == 0 ? g : 0.9 * buf[i] + g
                expected[i] -= 0.1 * buf[i]
            }
            expectClose(p.value.scalars, expected.map { Float($0) }, rtol: 1e-6, "SGD step \(step)")
        }
        #expect(sgd.momentumState().map(\.name) == ["p"])
    }

    @Test func sgdSkipsParametersWithoutGradient() throws {
        let used = Parameter(Tensor([1])), unused = Parameter(Tensor([5]))
        let sgd = SGD(parameters: [("used", used), ("unused", unused)], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        let tape = Tape()
        sgd.step(tape.gradients(of: sum(tape.variable(for: used))))
        #expect(unused.value.scalars == [5], "weight decay must not touch a parameter without a gradient (PyTorch grad None)")
        #expect(sgd.momentumState().map(\.name) == ["used"])
    }

    @Test func learningRateSchedules() {
        let imagenet = LearningRateSchedule.imagenet(base: 0.05, dropEvery: 150)
        #expect(imagenet.rate(epoch: 0) == Float(0.05))
        #expect(imagenet.rate(epoch: 149) == 0.05)
        #expect(imagenet.rate(epoch: 150) == Float(0.05 * 0.1))
        #expect(imagenet.rate(epoch: 300) == Float(0.05 * 0.1 * 0.1))
        #expect(imagenet.rate(epoch: 350) == Float(0.05 * 1e-3))
        let cifar = LearningRateSchedule.cifar(base: 0.05, epochs: 400)
        #expect(cifar.rate(epoch: 159) == 0.05)
        #expect(cifar.rate(epoch: 160) == 0.05)  // 0.1^0
        #expect(cifar.rate(epoch: 240) == Float(0.05 * 0.1))
        #expect(cifar.rate(epoch: 320) == Float(0.05 * 0.1 * 0.1))
        #expect(LearningRateSchedule.cifar(base: 0.05, epochs: 200).rate(epoch: 120) == Float(0.05 * 0.1))
        #expect(LearningRateSchedule.cifar(base: 0.05, epochs: 800).rate(epoch: 640) == Float(0.05 * 0.1 * 0.1))
        #expect(LearningRateSchedule.cifar(base: 0.05, epochs: 1600).rate(epoch: 960) == Float(0.05 * 0.1))
        #expect(LearningRateSchedule.cifar(base: 0.05, epochs: 10).rate(epoch: 9) == 0.05)
        // retrain_with_rotnet.py: (lr * 0.1 ** (epoch // lrdrop)) * (epoch < 80) + (epoch >= 80) * lr * 0.1 ** 3
        let retrain = LearningRateSchedule.retrain(base: 0.05, dropEvery: 30)
        let script: [Int: Double] = [0: 0.05, 29: 0.05, 30: 0.005, 59: 0.005, 60: 0.0005, 79: 0.0005, 80: 0.00005,
                                     89: 0.00005, 120: 0.00005]
        for (e, rate) in script {
            #expect(abs(Double(retrain.rate(epoch: e)) - rate) <= 1e-9, "epoch \(e)")
        }
        #expect(retrain.rate(epoch: 79) == Float(0.05 * 0.1 * 0.1) && retrain.rate(epoch: 80) == Float(0.05 * 1e-3))
    }

    @Test func stateDictRoundTripAndTypedErrors() throws {
        var rng = Xoshiro256(seed: 9)
        let a = Architecture.convnetTiny.build(heads: [4], generator: &rng)
        let b = Architecture.convnetTiny.build(heads: [4], generator: &rng)
        try b.load(stateDict: a.stateDict())
        #expect(zip(a.stateDict(), b.stateDict()).allSatisfy { $0.0.name == $0.1.name && $0.0.tensor.scalars == $0.1.tensor.scalars })

        var wrong = a.stateDict()
        wrong[0].tensor = Tensor.zeros([1])
        #expect(throws: StateDictError.shapeMismatch(key: "features.0.weight", expected: [32, 3, 3, 3], found: [1])) {
            try b.load(stateDict: wrong)
        }
        #expect(throws: StateDictError.missingKey("top_layer.bias")) { try b.load(stateDict: Array(a.stateDict().dropLast())) }
        #expect(throws: StateDictError.unexpectedKey("extra")) {
            try b.load(stateDict: a.stateDict() + [(name: "extra", tensor: Tensor.zeros([1]))])
        }
    }

    @Test func architectureNames() {
        #expect(Architecture.named("alexnet") == .alexnet)
        #expect(Architecture.named("alexnet", archspec: "small") == .alexnetSmall)
        #expect(Architecture.named("resnet50") == .resnet50)
        #expect(Architecture.named("convnet_tiny") == .convnetTiny)
        #expect(Architecture.named("alexnet", archspec: "huge") == nil)
        #expect(Architecture.named("vgg16") == nil)
    }

    @Test func trainingFlagIsPerLayer() throws {
        var rng = Xoshiro256(seed: 2)
        let net = Architecture.alexnetCIFAR.build(heads: [3], generator: &rng)
        net.setTraining(false)
        var flags: [Bool] = []
        net.visitLayers { if !($0 is MultiHeadNetwork) { flags.append($0.isTraining) } }
        #expect(!flags.contains(true))
        // Evaluation is deterministic (no dropout) and does not touch BN statistics.
        let x = Tensor.randomUniform([2, 3, 32, 32], using: &rng)
        let before = net.stateDict().map(\.tensor.scalars)
        let y1 = try net.forward(Tape(recording: false).constant(x)).heads[0].value.scalars
        let y2 = try net.forward(Tape(recording: false).constant(x)).heads[0].value.scalars
        #expect(y1 == y2)
        #expect(net.stateDict().map(\.tensor.scalars) == before)
    }
}
