import Autograd
import Foundation
import SelfLabelling
import Tensors
import Testing

/// `--rotnet` (`retrain_with_rotnet.py`): the quarter-turn op, the rotated batch's layout and the loss, each
/// against a plain reference.
@Suite struct RotNetTests {
    /// One counter-clockwise quarter turn of an (H, W) plane as NumPy writes it, `m.T[::-1]`: transpose, then
    /// reverse the rows. (Pillow's `Image.rotate(90)` and `numpy.rot90` agree on square images; checked with
    /// Pillow when this test was written.)
    static func quarterTurn(_ m: [[Float]]) -> [[Float]] {
        let h = m.count, w = m[0].count
        let transposed = (0..<w).map { j in (0..<h).map { i in m[i][j] } }
        return transposed.reversed()
    }

    @Test("rotated90 is numpy.rot90 on the last two axes: a hand-written 2×3 case and a plain reference on a 4-D tensor")
    func rotationAgainstRot90() {
        // np.rot90([[1, 2, 3], [4, 5, 6]], k) for k = 1, 2, 3.
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(x.rotated90(times: 1).shape == [3, 2] && x.rotated90(times: 1).scalars == [3, 6, 2, 5, 1, 4])
        #expect(x.rotated90(times: 2).shape == [2, 3] && x.rotated90(times: 2).scalars == [6, 5, 4, 3, 2, 1])
        #expect(x.rotated90(times: 3).shape == [3, 2] && x.rotated90(times: 3).scalars == [4, 1, 5, 2, 6, 3])
        #expect(x.rotated90(times: 0).scalars == x.scalars && x.rotated90(times: 4).scalars == x.scalars)
        #expect(x.rotated90(times: -1).scalars == x.rotated90(times: 3).scalars)

        // Every plane of a (2, 3, 4, 5) tensor (non-square planes) against k applications of the reference.
        var rng = Xoshiro256(seed: 5)
        let t = Tensor.randomUniform([2, 3, 4, 5], low: -1, high: 1, using: &rng)
        let v = t.scalars
        for k in 0..<4 {
            let r = t.rotated90(times: k)
            var expected: [Float] = []
            for p in 0..<6 {
                var plane = (0..<4).map { i in Array(v[(p * 20 + i * 5)..<(p * 20 + i * 5 + 5)]) }
                for _ in 0..<k { plane = Self.quarterTurn(plane) }
                expected += plane.flatMap { $0 }
            }
            #expect(r.shape == (k % 2 == 0 ? [2, 3, 4, 5] : [2, 3, 5, 4]), "k \(k)")
            #expect(r.scalars == expected, "k \(k)")
        }
    }

    @Test("the rotated batch holds each image then its three quarter turns (image-major, as the official loader's view)")
    func rotatedBatchLayout() {
        var rng = Xoshiro256(seed: 6)
        let images = Tensor.randomUniform([3, 2, 4, 4], low: -1, high: 1, using: &rng)
        let batch = RotNet.rotatedBatch(images)
        #expect(batch.shape == [12, 2, 4, 4])
        for b in 0..<3 {
            for r in 0..<4 {
                #expect(batch.row(4 * b + r).scalars == images.row(b).rotated90(times: r).scalars, "image \(b), turn \(r)")
            }
        }
        #expect(RotNet.rotationTargets(images: 3) == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
        #expect(RotNet.unrotatedRows(images: 3) == [0, 4, 8])
    }

    @Test("the loss is the label heads' mean cross-entropy on the unrotated rows plus the rotation head's on all rows (hand computation)")
    func lossComposition() throws {
        // B = 2 images → 8 rows; two label heads of 3 clusters and the rotation head.
        var rng = Xoshiro256(seed: 7)
        let z0 = Tensor.randomUniform([8, 3], low: -2, high: 2, using: &rng)
        let z1 = Tensor.randomUniform([8, 3], low: -2, high: 2, using: &rng)
        // Rotation logits: rows 0-5 have their own turn as the largest, rows 6 and 7 do not.
        var rot = [Float](repeating: 0, count: 32)
        for row in 0..<8 { for c in 0..<4 { rot[row * 4 + c] = Float((row * 7 + c * 3) % 5) * 0.25 } }
        for row in 0..<6 { rot[row * 4 + row % 4] = 2 }
        rot[6 * 4 + 2] = -1; rot[6 * 4 + 0] = 1.5
        rot[7 * 4 + 3] = -1; rot[7 * 4 + 1] = 1.5
        let zr = Tensor(shape: [8, 4], scalars: rot)
        let targets: [[Int32]] = [[2, 0], [1, 1]]

        func crossEntropy(_ z: [Float], _ t: Int) -> Double {
            let m = Double(z.max()!)
            return log(z.reduce(0) { $0 + exp(Double($1) - m) }) + m - Double(z[t])
        }
        func row(_ t: Tensor, _ r: Int) -> [Float] { t.row(r).scalars }
        // Label heads: only rows 0 and 4 (the unrotated images) count; mean over images, then over heads.
        let head0 = (crossEntropy(row(z0, 0), 2) + crossEntropy(row(z0, 4), 0)) / 2
        let head1 = (crossEntropy(row(z1, 0), 1) + crossEntropy(row(z1, 4), 1)) / 2
        let labels = (head0 + head1) / 2
        let rotation = (0..<8).map { crossEntropy(row(zr, $0), $0 % 4) }.reduce(0, +) / 8

        let tape = Tape()
        let v0 = tape.variable(z0), v1 = tape.variable(z1), vr = tape.variable(zr)
        let loss = try RotNet.loss(heads: [v0, v1, vr], targets: targets)
        #expect(abs(Double(loss.labels.value.scalar) - labels) < 1e-5)
        #expect(abs(Double(loss.rotation.value.scalar) - rotation) < 1e-5)
        #expect(abs(Double(loss.total.value.scalar) - (labels + rotation)) < 1e-5)
        #expect(loss.rotationAccuracy == 6.0 / 8.0)

        // The label heads get no gradient from the rotated rows.
        let g = tape.gradients(of: loss.total)
        for r in [1, 2, 3, 5, 6, 7] {
            #expect(g[v0].row(r).scalars == [0, 0, 0] && g[v1].row(r).scalars == [0, 0, 0], "row \(r)")
        }
        // Unrotated rows: (softmax − onehot) / (images · heads).
        let z = row(z0, 4).map(Double.init)
        let s = z.map { exp($0) }.reduce(0, +)
        let expected = z.enumerated().map { (j, v) in (exp(v) / s - (j == 0 ? 1 : 0)) / 4 }
        for (a, b) in zip(g[v0].row(4).scalars, expected) { #expect(abs(Double(a) - b) < 1e-6) }
        // Every rotation row: (softmax − onehot) / 8.
        #expect(g[vr].row(7).scalars.count == 4 && g[vr].row(7).scalars.allSatisfy { $0 != 0 })

        // --onlyrot: the label term is 0 and the label heads get no gradient.
        let only = Tape()
        let o0 = only.variable(z0), o1 = only.variable(z1), or = only.variable(zr)
        let onlyLoss = try RotNet.loss(heads: [o0, o1, or], targets: targets, onlyRotation: true)
        #expect(onlyLoss.labels.value.scalar == 0 && abs(Double(onlyLoss.total.value.scalar) - rotation) < 1e-5)
        let og = only.gradients(of: onlyLoss.total)
        #expect(og[o0].scalars.allSatisfy { $0 == 0 } && og[o1].scalars.allSatisfy { $0 == 0 })
        #expect(og[or].scalars == g[vr].scalars)
    }
}
