import Autograd
import Evaluation
import NeuralNetworks
import Tensors
import Testing

@Suite struct LinearProbeTests {
    /// The official AlexNet probe inputs at 224×224: 96×10×10, 256×6×6, 384×5×5 (twice), 256×6×6.
    @Test func officialAlexNetPoolingSizes() {
        var rng = Xoshiro256(seed: 1)
        let cases: [(String, [Int], Int)] = [("conv1", [96, 55, 55], 9600), ("conv2", [256, 27, 27], 9216),
                                             ("conv3", [384, 13, 13], 9600), ("conv4", [384, 13, 13], 9600),
                                             ("conv5", [256, 13, 13], 9216)]
        for (tap, shape, dims) in cases {
            let pool = LinearProbe.pooling(tap: tap, shape: shape, officialAlexNet: true)
            let probe = LinearProbe(tap: tap, shape: shape, pool: pool, normalise: true, classes: 1000, generator: &rng)
            #expect(probe.inputDimension == dims, "\(tap)")
        }
        // Elsewhere: the smallest k×k/k pooling within the budget, none when already small enough.
        #expect(LinearProbe.pooling(tap: "conv1", shape: [96, 32, 32], officialAlexNet: false)
                == Pool2dGeometry(kernel: 3, stride: 3))   // 96·10·10 = 9,600
        #expect(LinearProbe.pooling(tap: "x", shape: [16, 8, 8], officialAlexNet: false) == nil)
        #expect(LinearProbe.pooling(tap: "fc", shape: [4096], officialAlexNet: true) == nil)
    }

    /// On linearly separable features a probe reaches at least 99% accuracy.
    @Test func separableFeaturesAreLearned() throws {
        var rng = Xoshiro256(seed: 2)
        let n = 600, d = 24, classes = 3
        // Class c has mean 4·e_c plus unit noise: separable with a wide margin.
        var x = Tensor.randomNormal([n, d, 1, 1], using: &rng)
        let labels = (0..<n).map { $0 % classes }
        x.withUnsafeMutableBufferPointer { p in for i in 0..<n { p[i * d + labels[i]] += 4 } }
        let probe = LinearProbe(tap: "t", shape: [d, 1, 1], pool: nil, normalise: true, classes: classes, generator: &rng)
        let sgd = SGD(parameters: probe.trainableParameters, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-5)
        for _ in 0..<30 {
            for start in stride(from: 0, to: n, by: 100) {
                let tape = Tape()
                let loss = try softmaxCrossEntropy(try probe(tape.constant(x[start..<(start + 100)]), training: true),
                                                   targets: labels[start..<(start + 100)].map(Int32.init))
                sgd.step(tape.gradients(of: loss))
            }
        }
        let logits = try probe(Tape(recording: false).constant(x), training: false).value
        let predicted = logits.argmax(alongAxis: 1)
        let accuracy = Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(n)
        #expect(accuracy >= 0.99, "accuracy \(accuracy)")
    }
}
