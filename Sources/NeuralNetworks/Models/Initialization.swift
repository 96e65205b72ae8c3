import Tensors

extension Layer {
    /// Calls `body` on this layer and every descendant, depth first in registration order.
    public func visitLayers(_ body: (any Layer) -> Void) {
        body(self)
        for c in children { c.layer.visitLayers(body) }
    }
}

/// Weight initialisations of the reference models.
public enum Initialization {
    /// DeepCluster/SeLa AlexNet `_initialize_weights`: every Conv2d weight N(0, √(2/(k·k·out))) and bias 0,
    /// BatchNorm weight 1 and bias 0, every Linear weight N(0, 0.01²) and bias 0. Applied to all layers under
    /// `root` in registration order.
    public static func alexNetStyle(_ root: any Layer, generator: inout some RandomNumberGenerator) {
        var layers: [any Layer] = []
        root.visitLayers { layers.append($0) }
        for l in layers {
            if let c = l as? Conv2d { c.initializeHe(outFanNormal: &generator) }
            else if let b = l as? BatchNorm2d {
                b.weight.value = Tensor.ones(b.weight.shape)
                b.bias.value = Tensor.zeros(b.bias.shape)
            } else if let lin = l as? Linear { lin.initializeNormal(std: 0.01, generator: &generator) }
        }
    }

    /// Official SeLa `resnetv1.py`: convolutions N(0, √(2/(k·k·out))), BatchNorm 1 and 0, under `root` only
    /// (the heads keep PyTorch's default Linear initialisation).
    public static func resNetStyle(_ root: any Layer, generator: inout some RandomNumberGenerator) {
        var layers: [any Layer] = []
        root.visitLayers { layers.append($0) }
        for l in layers {
            if let c = l as? Conv2d {
                let std = (2 / Float(c.kernelSize * c.kernelSize * c.outChannels)).squareRoot()
                c.weight.value = Tensor.randomNormal(c.weight.shape, std: std, using: &generator)
            } else if let b = l as? BatchNorm2d {
                b.weight.value = Tensor.ones(b.weight.shape)
                b.bias.value = Tensor.zeros(b.bias.shape)
            }
        }
    }
}
