import Foundation
import Autograd
import NeuralNetworks
import Testing
import Tensors

/// State-dict keys, shapes and parameter counts of every architecture against PyTorch (`Fixtures/models.json`),
/// and output/tap shapes at each architecture's input size.
@Suite struct ModelStructureTests {
    /// Each big model is built once (heads [10, 7]) and shared by the key and shape tests.
    nonisolated(unsafe) static var cache: [Architecture: MultiHeadNetwork] = [:]
    static let cacheLock = NSLock()
    static func model(_ arch: Architecture) -> MultiHeadNetwork {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let m = cache[arch] { return m }
        var rng = Xoshiro256(seed: 3)
        let m = arch.build(heads: [10, 7], generator: &rng)
        m.setTraining(false)
        cache[arch] = m
        return m
    }

    static func keysAndShapes(_ arch: Architecture, heads: [Int], fixtureKey: String) throws {
        let fx = try Fixture.load("models.json")
        guard let entry = fx[fixtureKey] as? [String: Any], let keys = entry["keys"] as? [String],
              let shapes = entry["shapes"] as? [[Int]], let count = entry["parameters"] as? Int else {
            Issue.record("models.json has no entry \(fixtureKey)")
            return
        }
        var rng = Xoshiro256(seed: 3)
        let net = heads == [10, 7] ? model(arch) : arch.build(heads: heads, generator: &rng)
        let sd = net.stateDict()
        let names = sd.map(\.name)
        let firstDifference = (0..<min(names.count, keys.count)).first { names[$0] != keys[$0] } ?? min(names.count, keys.count)
        #expect(names == keys, "\(fixtureKey): state_dict keys differ at \(firstDifference): \(names.dropFirst(firstDifference).prefix(2)) vs \(keys.dropFirst(firstDifference).prefix(2))")
        #expect(sd.map(\.tensor.shape) == shapes, "\(fixtureKey): state_dict shapes differ")
        #expect(net.parameterCount == count, "\(fixtureKey): \(net.parameterCount) parameters, PyTorch has \(count)")
    }

    @Test(arguments: [Architecture.alexnetCIFAR, .resnet18CIFAR, .convnetTiny, .alexnet, .alexnetSmall, .resnet50, .resnetv2])
    func stateDictMatchesPyTorch(_ arch: Architecture) throws {
        try Self.keysAndShapes(arch, heads: [10, 7], fixtureKey: arch.rawValue)
    }

    @Test func singleHeadIsNamedTopLayer() throws {
        try Self.keysAndShapes(.alexnetCIFAR, heads: [5], fixtureKey: "alexnet_cifar/single")
        try Self.keysAndShapes(.convnetTiny, heads: [5], fixtureKey: "convnet_tiny/single")
    }

    /// Evaluation-mode forward on a no-grad tape: heads, features and every tap have the documented shapes.
    @Test(arguments: [
        (Architecture.alexnetCIFAR, 2, ["conv1": [96, 32, 32], "pool1": [96, 15, 15], "conv2": [256, 15, 15],
                                        "pool2": [256, 7, 7], "conv5": [256, 7, 7], "pool5": [256, 3, 3], "fc7": [4096]]),
        (.convnetTiny, 2, ["conv1": [32, 32, 32], "conv2": [64, 16, 16], "conv3": [128, 8, 8], "pool3": [128, 4, 4], "fc": [256]]),
        (.resnet18CIFAR, 2, ["layer1": [64, 32, 32], "layer2": [128, 16, 16], "layer3": [256, 8, 8],
                             "layer4": [512, 4, 4], "pool": [512, 1, 1]]),
        (.alexnet, 1, ["conv1": [96, 55, 55], "pool1": [96, 27, 27], "conv5": [256, 13, 13], "pool5": [256, 6, 6], "fc6": [4096]]),
        (.resnet50, 1, ["layer1": [256, 56, 56], "layer4": [2048, 7, 7], "pool": [2048, 1, 1]]),
        (.resnetv2, 1, ["layer1": [256, 56, 56], "layer4": [2048, 7, 7], "pool": [2048, 1, 1]]),
    ])
    func outputAndTapShapes(_ arch: Architecture, _ batch: Int, _ taps: [String: [Int]]) throws {
        var rng = Xoshiro256(seed: 4)
        let net = Self.model(arch)
        let tape = Tape(recording: false)
        let s = arch.inputSize
        let x = tape.constant(Tensor.randomUniform([batch, 3, s, s], using: &rng))
        let out = try net.forward(x, taps: Set(taps.keys))
        #expect(out.heads.map(\.shape) == [[batch, 10], [batch, 7]])
        #expect(out.features.shape == [batch, net.featureDimension])
        for (name, shape) in taps {
            #expect(out.taps[name]?.shape == [batch] + shape, "\(arch.rawValue) tap \(name): \(out.taps[name]?.shape ?? [])")
        }
        #expect(out.heads.allSatisfy { $0.value.scalars.allSatisfy(\.isFinite) })
        #expect(tape.nodeCount == 0)
    }
}
