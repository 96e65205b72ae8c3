import Autograd
import NeuralNetworks
import TestSupport
import Testing
import Tensors

/// Residual blocks in training mode against PyTorch (`Fixtures/blocks.json`): forward, input gradient, every
/// parameter gradient and the running statistics, with and without a projection shortcut.
@Suite struct ResidualBlockFixtureTests {
    static func block(_ name: String, generator rng: inout Xoshiro256) -> any Layer {
        switch name {
        case "basic_s2": return BasicBlock(4, 6, stride: 2, generator: &rng)
        case "basic_id": return BasicBlock(4, 4, stride: 1, generator: &rng)
        case "bottleneck_s2": return Bottleneck(8, 3, stride: 2, generator: &rng)
        case "bottleneck_id": return Bottleneck(12, 3, stride: 1, generator: &rng)
        case "preact_s2": return PreActBottleneck(8, 3, stride: 2, generator: &rng)
        default: return PreActBottleneck(12, 3, stride: 1, generator: &rng)
        }
    }

    @Test(arguments: [("basic_s2", [2, 4, 8, 8]), ("basic_id", [2, 4, 6, 6]), ("bottleneck_s2", [2, 8, 8, 8]),
                      ("bottleneck_id", [2, 12, 5, 5]), ("preact_s2", [2, 8, 8, 8]), ("preact_id", [2, 12, 5, 5])])
    func blockMatchesPyTorch(_ name: String, _ shape: [Int]) throws {
        let fx = try Fixture.load("blocks.json")
        let names = ["basic_s2", "basic_id", "bottleneck_s2", "bottleneck_id", "preact_s2", "preact_id"]
        let caseIndex = UInt64(names.firstIndex(of: name)!)
        var rng = Xoshiro256(seed: 1)
        let block = Self.block(name, generator: &rng)
        for (index, slot) in block.namedStateSlots().enumerated() {
            let key = slot.name, s = slot.parameter.shape, seed = 3000 + 100 * caseIndex + UInt64(index)
            if key.contains("running") || key.contains("num_batches") { continue }
            if s.count == 4 {
                let a = (6.0 / Double(s[2] * s[3] * s[0])).squareRoot()
                slot.parameter.value = hashTensor(seed, s, -a, a)
            } else if key.hasSuffix("weight") {
                slot.parameter.value = hashTensor(seed, s, 0.5, 1.5)
            } else {
                slot.parameter.value = hashTensor(seed, s, -0.1, 0.1)
            }
        }
        let tape = Tape()
        let x = tape.variable(hashTensor(4000 + caseIndex, shape))
        let y = try block(x)
        let g = tape.gradients(of: y, seed: hashTensor(5000 + caseIndex, y.shape))
        expectClose(y.value, try Fixture.tensor(fx, name + ".y"), rtol: 1e-5, "\(name) forward")
        expectClose(g[x], try Fixture.tensor(fx, name + ".grad_x"), rtol: 1e-4, "\(name) input gradient")
        for (key, p) in block.namedParameters() {
            expectClose(g[p], try Fixture.tensor(fx, name + ".grad." + key), rtol: 1e-4, "\(name) gradient of \(key)")
        }
        for (key, b) in block.namedBuffers() where key.contains("running") {
            expectClose(b.value, try Fixture.tensor(fx, name + ".buffer." + key), rtol: 1e-5, "\(name) \(key)")
        }
    }
}
