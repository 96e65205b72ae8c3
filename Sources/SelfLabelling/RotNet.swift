import Autograd
import Tensors

/// RotNet retraining as the official `retrain_with_rotnet.py` does it (`--rotnet`): the network gets one more
/// linear head, `top_layer<hc>` with 4 outputs, that predicts how an image was turned. The loader's batch of B
/// augmented images is shown four times, at 0, 90, 180 and 270 degrees counter-clockwise, as 4B network
/// inputs in image-major order (image b turned r quarter turns is row 4b + r: the official loader stacks the four
/// rotations of each image and views (B, 4, C, S, S) as (4B, C, S, S)). The loss is
///
///     mean_h XE(head_h(rows 0, 4, 8, …), L[h, batch])  +  XE(rotation head(all 4B rows), 0, 1, 2, 3, 0, 1, …)
///
/// — the label heads learn from the unrotated images only, the rotation head from all of them, both terms with
/// weight 1 (`total_loss = loss + rotloss`). `--batch-size` counts images before rotation, as the official's.
public enum RotNet {
    /// The rotation head's classes: quarter turns 0, 1, 2, 3.
    public static let rotations = 4

    /// Each image of `images` (B, C, S, S) followed by its three other quarter turns (`Tensor.rotated90`):
    /// (4B, C, S, S), row 4b + r holding image b turned r · 90° counter-clockwise.
    public static func rotatedBatch(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[2] == images.shape[3],
                     "RotNet.rotatedBatch: needs square images (B, C, S, S), got \(images.shape)")
        let b = images.shape[0], plane = images.count / Swift.max(b, 1)
        var out = Tensor(uninitializedShape: [rotations * b] + images.shape.dropFirst())
        out.withUnsafeMutableBufferPointer { y in
            for r in 0..<rotations {
                images.rotated90(times: r).withUnsafeBufferPointer { x in
                    for i in 0..<b {
                        (y.baseAddress! + (rotations * i + r) * plane).update(from: x.baseAddress! + i * plane, count: plane)
                    }
                }
            }
        }
        return out
    }

    /// The rotation head's targets for B images: 0, 1, 2, 3 repeated B times.
    public static func rotationTargets(images b: Int) -> [Int32] {
        (0..<(rotations * b)).map { Int32($0 % rotations) }
    }

    /// The rows of the unrotated images in a rotated batch of B images: 0, 4, 8, … (the official `where`).
    public static func unrotatedRows(images b: Int) -> [Int] { (0..<b).map { $0 * rotations } }

    /// One step's losses.
    public struct Loss {
        /// `labels + rotation`, what the step minimises.
        public var total: Variable
        /// Mean over the label heads of the cross-entropy on the unrotated images.
        public var labels: Variable
        /// Cross-entropy of the rotation head on all 4B inputs.
        public var rotation: Variable
        /// Fraction of the 4B inputs whose rotation the head's argmax names (the official `RotAcc` divides the
        /// same count by B, so it reads 4 × this).
        public var rotationAccuracy: Double
    }

    /// The official loss of a rotated batch: `heads` are the network's outputs for `rotatedBatch` (the label
    /// heads, then the rotation head last), `targets` the pseudo-labels of the B images, one list per label head.
    /// With `onlyRotation` (`--onlyrot`) the label term is 0, as the official's, and `total` is the rotation loss.
    public static func loss(heads: [Variable], targets: [[Int32]], onlyRotation: Bool = false) throws -> Loss {
        precondition(heads.count == targets.count + 1, "RotNet.loss: \(heads.count) heads for \(targets.count) label heads + rotation")
        let rotation = heads[heads.count - 1]
        let b = rotation.shape[0] / rotations
        precondition(rotation.shape == [rotations * b, rotations], "RotNet.loss: rotation head output \(rotation.shape)")
        let rows = unrotatedRows(images: b)
        let labelLoss = onlyRotation ? rotation.tape.constant(Tensor(scalar: 0))
            : try multiHeadCrossEntropy(heads.dropLast().map { selectingRows($0, rows) }, targets: targets)
        let rotationTargets = rotationTargets(images: b)
        let rotationLoss = try softmaxCrossEntropy(rotation, targets: rotationTargets)
        var correct = 0
        rotation.value.withUnsafeBufferPointer { z in
            for (row, t) in rotationTargets.enumerated() {
                let scores = z[(row * rotations)..<((row + 1) * rotations)]
                if scores.indices.max(by: { scores[$0] < scores[$1] }) == row * rotations + Int(t) { correct += 1 }
            }
        }
        return Loss(total: onlyRotation ? rotationLoss : labelLoss + rotationLoss, labels: labelLoss, rotation: rotationLoss,
                    rotationAccuracy: Double(correct) / Double(Swift.max(rotationTargets.count, 1)))
    }
}
