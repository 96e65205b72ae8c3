import Autograd
import Testing
import Tensors

/// Central finite differences against the tape's gradients.
///
/// For a function f of several tensors, the scalar probe is `L = Σ f(x)·r` with a fixed random `r` (so every
/// output element matters). Analytic: `tape.gradients(of: f(x), seed: r)`. Numeric: `(L(x + h·e_i) − L(x − h·e_i)) / 2h`
/// for every element i of every input, evaluated on fresh non-recording tapes with the same generator seed
/// (so dropout masks repeat). Passes when `|numeric − analytic| ≤ atol + rtol·|analytic|` everywhere.
struct GradientCheck {
    var step: Float = 1e-2
    var atol: Double = 5e-4
    var rtol: Double = 2e-3

    func check(_ name: String, _ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation,
               _ f: ([Variable]) throws -> Variable) throws {
        let tape = Tape(generator: Xoshiro256(seed: 99))
        let vars = inputs.map { tape.variable($0) }
        let y = try f(vars)
        var rng = Xoshiro256(seed: 12345)
        let r = Tensor.randomUniform(y.shape, low: -1, high: 1, using: &rng)
        let grads = tape.gradients(of: y, seed: r)
        let rs = r.scalars

        func probe(_ xs: [Tensor]) throws -> Double {
            let t = Tape(recording: false, generator: Xoshiro256(seed: 99))
            let out = try f(xs.map { t.constant($0) }).value.scalars
            var s = 0.0
            for (a, b) in zip(out, rs) { s += Double(a) * Double(b) }
            return s
        }

        var worst = 0.0
        var failures: [String] = []
        for (k, x) in inputs.enumerated() {
            let analytic = grads[vars[k]].scalars
            #expect(analytic.count == x.count, "\(name): gradient of input \(k) has \(analytic.count) elements, expected \(x.count)",
                    sourceLocation: sourceLocation)
            let base = x.scalars
            for i in 0..<base.count {
                var plus = base, minus = base
                plus[i] += step
                minus[i] -= step
                var xsPlus = inputs, xsMinus = inputs
                xsPlus[k] = Tensor(shape: x.shape, scalars: plus)
                xsMinus[k] = Tensor(shape: x.shape, scalars: minus)
                let numeric = (try probe(xsPlus) - probe(xsMinus)) / Double(plus[i] - minus[i])
                let a = Double(analytic[i]) 
                let err = abs(numeric - a)
                worst = max(worst, err / (atol + rtol * abs(a)))
                if err > atol + rtol * abs(a), failures.count < 5 {
                    failures.append("input \(k) \(x.shape) element \(i): numeric \(numeric), analytic \(a)")
                }
            }
        }
        #expect(failures.isEmpty, "\(name): finite differences disagree (worst error/tolerance \(worst)): \(failures)",
                sourceLocation: sourceLocation)
    }
}

/// Random tensor in [low, high) from a seed.
func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var rng = Xoshiro256(seed: seed)
    return Tensor.randomUniform(shape, low: low, high: high, using: &rng)
}

/// Random tensor whose elements are a shuffled grid `offset + k·spacing` — all distinct and at least `spacing` apart,
/// so max-pool and ReLU are differentiable at every element for steps below spacing/2.
func distinctTensor(_ shape: [Int], seed: UInt64, spacing: Float = 0.05, offset: Float = -1) -> Tensor {
    var rng = Xoshiro256(seed: seed)
    let n = shape.reduce(1, *)
    let perm = rng.permutation(n)
    return Tensor(shape: shape, scalars: perm.map { offset + Float($0) * spacing })
}
