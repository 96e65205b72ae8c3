import Autograd
import Testing
import Tensors
import TestSupport

/// A group of one member: the sums are the member's own (`synchronizedBatchNorm` is then batch norm).
final class SingleMemberGroup: BatchStatisticsGroup {
    private(set) var calls = 0
    func sumAcrossGroup(_ values: inout [Double]) { calls += 1 }
}

/// `synchronizedBatchNorm` in a group of one, against central finite differences and against `batchNorm`.
/// (Across ranks: `SynchronizedBatchNormRankTests` in SelfLabellingTests.)
@Suite struct SynchronizedBatchNormTests {
    @Test("gradients of x, γ and β match central finite differences (NCHW and NC)")
    func finiteDifferences() throws {
        let strict = GradientCheck(step: 1e-2, atol: 1e-3, rtol: 5e-3)
        for shape in [[3, 2, 3, 3], [5, 4]] {
            let c = shape[1]
            try strict.check("synchronized batch norm \(shape)", [randomTensor(shape, seed: 20, low: -2, high: 2),
                                                                  randomTensor([c], seed: 21, low: 0.5, high: 1.5),
                                                                  randomTensor([c], seed: 22)]) {
                try synchronizedBatchNorm($0[0], scale: $0[1], shift: $0[2], group: SingleMemberGroup()).output
            }
        }
    }

    @Test("equals batchNorm: output, statistics and gradients; three collectives per forward and backward")
    func equalsBatchNorm() throws {
        let x = randomTensor([4, 3, 5, 5], seed: 30, low: -3, high: 3)
        let g = randomTensor([3], seed: 31, low: 0.5, high: 1.5), b = randomTensor([3], seed: 32)
        let seed = randomTensor([4, 3, 5, 5], seed: 33)
        func run(_ synchronized: Bool) throws -> (y: Tensor, mean: Tensor, variance: Tensor, grads: [Tensor], calls: Int) {
            let tape = Tape()
            let xv = tape.variable(x), gv = tape.variable(g), bv = tape.variable(b)
            let group = SingleMemberGroup()
            let r = synchronized ? try { let s = try synchronizedBatchNorm(xv, scale: gv, shift: bv, group: group)
                                         return (s.output, s.mean, s.variance) }()
                : try batchNorm(xv, scale: gv, shift: bv)
            let grads = tape.gradients(of: r.0, seed: seed)
            return (r.0.value, r.1, r.2, [grads[xv], grads[gv], grads[bv]], group.calls)
        }
        let plain = try run(false), synchronized = try run(true)
        expectClose(synchronized.y, plain.y, rtol: 1e-5, "output")
        expectClose(synchronized.mean, plain.mean, rtol: 1e-6, "mean")
        expectClose(synchronized.variance, plain.variance, rtol: 1e-5, "variance")
        for (name, (s, p)) in zip(["x", "γ", "β"], zip(synchronized.grads, plain.grads)) {
            expectClose(s, p, rtol: 1e-5, "gradient of \(name)")
        }
        #expect(synchronized.calls == 3)
    }
}
