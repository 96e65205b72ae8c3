import NeuralNetworks
import Tensors
import Testing

/// A state dict holding NaN or ±infinity (a diverged or corrupt checkpoint) is refused, naming the tensor, and
/// leaves the model unchanged.
@Suite struct StateDictNonFiniteTests {
    @Test("non-finite weights are refused naming the tensor", arguments: [Float.nan, .infinity, -.infinity])
    func refusesNonFinite(bad: Float) throws {
        var rng = Xoshiro256(seed: 11)
        let a = Architecture.convnetTiny.build(heads: [4], generator: &rng)
        let b = Architecture.convnetTiny.build(heads: [4], generator: &rng)
        let before = b.stateDict().map(\.tensor.scalars)
        var state = a.stateDict()
        let k = state.firstIndex { $0.name == "top_layer.weight" }!
        var values = state[k].tensor.scalars
        values[5] = bad
        state[k].tensor = Tensor(shape: state[k].tensor.shape, scalars: values)
        #expect { try b.load(stateDict: state) } throws: { e in
            guard case let .nonFinite(key, index, value)? = e as? StateDictError else { return false }
            return key == "top_layer.weight" && index == 5 && (value.isNaN ? bad.isNaN : value == bad)
                && "\(e)".contains("top_layer.weight")
        }
        #expect(b.stateDict().map(\.tensor.scalars) == before, "nothing is changed when a check fails")
    }
}
