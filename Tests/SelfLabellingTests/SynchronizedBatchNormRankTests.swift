import Autograd
import Distributed
import Foundation
import Tensors
import Testing
import TestSupport

/// Batch-norm statistics added across the ranks of a `ThreadGroupCommunicator` (what `--sync-bn` does over MPI).
final class RankGroup: BatchStatisticsGroup {
    let communicator: any Communicator
    init(_ communicator: any Communicator) { self.communicator = communicator }
    func sumAcrossGroup(_ values: inout [Double]) { try! communicator.allreduce(&values, .sum) }
}

/// `synchronizedBatchNorm` across 2 ranks holding 2 and 4 of a batch's 6 images: each rank's output and input
/// gradient are its rows of single-process `batchNorm` on the whole batch, and the ranks' γ/β gradients add up
/// to the whole batch's — the forward and backward of `--sync-bn` against the one-process result.
@Suite struct SynchronizedBatchNormRankTests {
    static func tensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        var rng = Xoshiro256(seed: seed)
        return Tensor.randomUniform(shape, low: low, high: high, using: &rng)
    }

    /// Images `range` of an NCHW tensor.
    static func images(_ t: Tensor, _ range: Range<Int>) -> Tensor {
        let per = t.count / t.shape[0]
        return Tensor(shape: [range.count] + t.shape.dropFirst(), scalars: Array(t.scalars[(range.lowerBound * per)..<(range.upperBound * per)]))
    }

    @Test("2 ranks (2 + 4 images) equal one process on 6 images: output, statistics, every gradient")
    func twoRanksEqualOneProcess() throws {
        let x = Self.tensor([6, 3, 4, 4], seed: 1, low: -2, high: 3)
        let gamma = Self.tensor([3], seed: 2, low: 0.5, high: 1.5), beta = Self.tensor([3], seed: 3)
        let seed = Self.tensor([6, 3, 4, 4], seed: 4)
        let tape = Tape()
        let xv = tape.variable(x), gv = tape.variable(gamma), bv = tape.variable(beta)
        let whole = try batchNorm(xv, scale: gv, shift: bv)
        let grads = tape.gradients(of: whole.output, seed: seed)
        let parts = [0..<2, 2..<6]
        let ranks = try ThreadGroupCommunicator.run(ranks: 2) { c in
            let t = Tape()
            let xr = t.variable(Self.images(x, parts[c.rank])), gr = t.variable(gamma), br = t.variable(beta)
            let r = try synchronizedBatchNorm(xr, scale: gr, shift: br, group: RankGroup(c))
            let g = t.gradients(of: r.output, seed: Self.images(seed, parts[c.rank]))
            return (r.output.value, r.mean, r.variance, r.count, g[xr], g[gr], g[br])
        }
        for (rank, r) in ranks.enumerated() {
            expectClose(r.0, Self.images(whole.output.value, parts[rank]), rtol: 1e-5, "rank \(rank) output")
            expectClose(r.1, whole.mean, rtol: 1e-6, "rank \(rank) mean")
            expectClose(r.2, whole.variance, rtol: 1e-5, "rank \(rank) variance")
            #expect(r.3 == 6 * 16)
            expectClose(r.4, Self.images(grads[xv], parts[rank]), rtol: 1e-5, "rank \(rank) gradient of x")
        }
        let gammaSum = zip(ranks[0].5.scalars, ranks[1].5.scalars).map { $0 + $1 }
        let betaSum = zip(ranks[0].6.scalars, ranks[1].6.scalars).map { $0 + $1 }
        expectClose(gammaSum, grads[gv].scalars, rtol: 1e-5, "gradient of γ, summed over ranks")
        expectClose(betaSum, grads[bv].scalars, rtol: 1e-5, "gradient of β, summed over ranks")
        // Without the group each rank normalises over its own images: a different gradient (the test can tell).
        let local = try ThreadGroupCommunicator.run(ranks: 2) { c in
            let t = Tape()
            let xr = t.variable(Self.images(x, parts[c.rank]))
            let r = try batchNorm(xr, scale: t.variable(gamma), shift: t.variable(beta))
            return t.gradients(of: r.output, seed: Self.images(seed, parts[c.rank]))[xr]
        }
        let d = zip(local[0].scalars, Self.images(grads[xv], parts[0]).scalars).map { abs($0 - $1) }.max()!
        #expect(d > 1e-2)
    }
}
