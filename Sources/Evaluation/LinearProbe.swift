import Autograd
import DataPipeline
import Foundation
import NeuralNetworks
import Tensors

/// One linear probe on a frozen network's activation (the official linear evaluation protocol): an optional
/// max-pool to about 9,600 dimensions, batch normalisation without affine parameters, and a linear layer.
public final class LinearProbe {
    /// The tap it reads ("conv3", …, or "features" for the pre-head features).
    public let tap: String
    /// Pooling applied to a 4-d activation first (nil: none).
    public let pool: Pool2dGeometry?
    /// Length of the flattened input of the linear layer.
    public let inputDimension: Int
    let norm: BatchNorm2d?
    let linear: Linear

    /// A probe for an activation of shape `shape` (C, H, W) or (D), predicting `classes` classes.
    public init(tap: String, shape: [Int], pool: Pool2dGeometry?, normalise: Bool, classes: Int,
                generator: inout some RandomNumberGenerator) {
        self.tap = tap
        self.pool = pool
        var dims = shape
        if let pool, shape.count == 3 {
            dims = [shape[0], pool.outputSize(shape[1], axis: 0), pool.outputSize(shape[2], axis: 1)]
        }
        inputDimension = dims.reduce(1, *)
        norm = normalise ? BatchNorm2d(dims[0]) : nil
        linear = Linear(inputDimension, classes, generator: &generator)
    }

    /// Parameters the optimiser updates (the linear layer only: the normalisation has no affine part).
    public var trainableParameters: [(name: String, parameter: Parameter)] { linear.namedParameters(prefix: tap + ".") }

    /// Logits (N, classes) for a batch of the tapped activation.
    public func callAsFunction(_ x: Variable, training: Bool) throws -> Variable {
        var h = x
        if let pool, h.shape.count == 4 { h = maxPool2d(h, geometry: pool) }
        if let norm {
            norm.isTraining = training
            h = try norm(h)
        }
        return try linear(flattened(h, from: 1))
    }

    /// The official AlexNet pooling of a conv tap at 224×224 input (conv1 6/6 pad 3 → 96×10×10, conv2 4/4 →
    /// 256×6×6, conv3 and conv4 3/3 pad 1 → 384×5×5, conv5 2/2 → 256×6×6); elsewhere the smallest k×k/k pooling
    /// that brings C·H·W to at most `budget` (9,600 by default) values.
    public static func pooling(tap: String, shape: [Int], officialAlexNet: Bool, budget: Int = 9_600) -> Pool2dGeometry? {
        guard shape.count == 3 else { return nil }
        if officialAlexNet {
            switch tap {
            case "conv1": return Pool2dGeometry(kernel: 6, stride: 6, padding: 3)
            case "conv2": return Pool2dGeometry(kernel: 4, stride: 4)
            case "conv3", "conv4": return Pool2dGeometry(kernel: 3, stride: 3, padding: 1)
            case "conv5": return Pool2dGeometry(kernel: 2, stride: 2)
            default: break
            }
        }
        let (c, h, w) = (shape[0], shape[1], shape[2])
        if c * h * w <= budget { return nil }
        for k in 2...max(2, max(h, w)) where c * ((h - k) / k + 1) * ((w - k) / k + 1) <= budget {
            return Pool2dGeometry(kernel: k, stride: k)
        }
        return Pool2dGeometry(kernel: max(h, w), stride: max(h, w))
    }
}

extension Pool2dGeometry {
    /// Output extent along `axis` (0 = height, 1 = width) for an input extent (floor mode, as PyTorch).
    public func outputSize(_ input: Int, axis: Int) -> Int {
        let k = axis == 0 ? kernelH : kernelW, s = axis == 0 ? strideH : strideW, p = axis == 0 ? paddingH : paddingW
        return (input + 2 * p - k) / s + 1
    }
}
