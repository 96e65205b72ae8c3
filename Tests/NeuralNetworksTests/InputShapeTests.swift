import Autograd
import NeuralNetworks
import TestSupport
import Testing
import Tensors

/// The CPU-sized networks take their input shape from the data: channel count and side set the first conv and
/// the flattened length (never a fixed 128·4·4), checked against the floor arithmetic of PyTorch's windows and
/// against PyTorch itself (`Fixtures/convnet_tiny_inputs.json`, from `make_input_fixtures.py`).
@Suite struct InputShapeTests {
    /// (architecture, channels, side, flattened length after the last pool, feature length).
    @Test(arguments: [
        (Architecture.convnetTiny, 1, 28, 128 * 3 * 3, 256), (.convnetTiny, 3, 32, 2048, 256), (.convnetTiny, 1, 40, 128 * 5 * 5, 256),
        (.convnetTiny, 3, 8, 128, 256),
        (.alexnetCIFAR, 1, 28, 256 * 2 * 2, 4096), (.alexnetCIFAR, 3, 32, 256 * 3 * 3, 4096), (.alexnetCIFAR, 3, 40, 256 * 4 * 4, 4096),
        (.resnet18CIFAR, 1, 28, 512, 512), (.resnet18CIFAR, 3, 40, 512, 512),
    ])
    func flattenedLengthAndForwardShapes(_ arch: Architecture, _ channels: Int, _ size: Int, _ flat: Int, _ features: Int) throws {
        let input = InputShape(channels: channels, size: size)
        try arch.check(input)
        var rng = Xoshiro256(seed: 5)
        let net = arch.build(heads: [10, 7], input: input, generator: &rng)
        net.setTraining(false)
        let firstConv = net.stateDict().first { $0.tensor.shape.count == 4 }!
        #expect(firstConv.tensor.shape[1] == channels, "\(arch.rawValue) \(input): first conv \(firstConv.tensor.shape)")
        let firstLinear = net.stateDict().first { $0.tensor.shape.count == 2 }!
        if arch != .resnet18CIFAR {
            #expect(firstLinear.tensor.shape[1] == flat, "\(arch.rawValue) \(input): \(firstLinear.name) \(firstLinear.tensor.shape)")
        }
        let tape = Tape(recording: false)
        let out = try net.forward(tape.constant(Tensor.randomUniform([2, channels, size, size], using: &rng)),
                                  taps: arch == .resnet18CIFAR ? [] : [arch == .convnetTiny ? "pool3" : "pool5"])
        #expect(out.features.shape == [2, features])
        #expect(out.heads.map(\.shape) == [[2, 10], [2, 7]])
        for (_, tap) in out.taps { #expect(tap.shape.dropFirst().reduce(1, *) == flat) }
    }

    /// Inputs a network cannot take are errors naming the shape and what would fit, never a trap.
    @Test(arguments: [
        (Architecture.convnetTiny, 3, 7, "at least 8"), (.convnetTiny, 2, 32, "1 (grey) or 3 (RGB)"),
        (.alexnetCIFAR, 3, 8, "at least"), (.resnet50, 3, 256, "a 7×7 map"), (.resnet18, 3, 192, "a 7×7 map"),
    ])
    func unsupportedInputsAreErrors(_ arch: Architecture, _ channels: Int, _ size: Int, _ phrase: String) {
        let input = InputShape(channels: channels, size: size)
        #expect { try arch.check(input) } throws: { error in
            let text = "\(error)"
            return text.contains(arch.rawValue) && text.contains("\(input)") && text.contains(phrase)
        }
    }

    /// Sides 193…224 end at the 7×7 map the ResNet v1 average pool needs; 192 and 225 do not.
    @Test func resNetV1SidesAroundTheOfficialOne() throws {
        for size in [193, 200, 224] { try Architecture.resnet50.check(InputShape(channels: 3, size: size)) }
        for size in [192, 225] { #expect(throws: UnsupportedInputError.self) { try Architecture.resnet18.check(InputShape(channels: 1, size: size)) } }
    }

    /// convnet_tiny at 1×28×28 and 3×40×40 against PyTorch with the same (hashed) weights and batch: heads and
    /// features in training mode (batch statistics), then head 0 in evaluation mode (running statistics
    /// updated by that forward, as PyTorch's BatchNorm does).
    @Test(arguments: ["1x28", "3x40"])
    func convnetTinyMatchesPyTorch(_ name: String) throws {
        let all = try Fixture.load("convnet_tiny_inputs.json")
        guard let fx = all[name] as? [String: Any] else { throw FixtureError.missingKey(name) }
        let parts = name.split(separator: "x").map { Int($0)! }
        let input = InputShape(channels: parts[0], size: parts[1])
        var rng = Xoshiro256(seed: 1)
        let net = Architecture.convnetTiny.build(heads: [10, 7], input: input, generator: &rng)
        TrainingStepFixtureTests.hashedInit(net)
        let x = hashTensor(77, [3, input.channels, input.size, input.size])
        net.setTraining(true)
        let train = try net.forward(Tape(recording: false).constant(x))
        net.setTraining(false)
        let eval = try net.forward(Tape(recording: false).constant(x))
        for (actual, key) in [(train.heads[0].value, "train_head0"), (train.heads[1].value, "train_head1"),
                              (train.features.value, "train_features"), (eval.heads[0].value, "eval_head0")] {
            let expected = try Fixture.tensor(fx, key)
            expectClose(actual, expected, rtol: 1e-4, "\(name) \(key)")
        }
    }
}
