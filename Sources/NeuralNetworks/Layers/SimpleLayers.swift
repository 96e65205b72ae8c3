import Autograd
import Tensors

/// `max(x, 0)` (PyTorch `nn.ReLU`). No parameters.
public final class ReLU: Layer {
    public var isTraining = true
    public init() {}
    public func callAsFunction(_ x: Variable) throws -> Variable { relu(x) }
}

/// Inverted dropout (PyTorch `nn.Dropout(p)`): active only while `isTraining`; the mask comes from the tape's
/// generator (see `dropout(_:probability:)`).
public final class Dropout: Layer {
    public var isTraining = true
    public let probability: Float
    public init(_ probability: Float = 0.5) {
        precondition(probability >= 0 && probability <= 1, "Dropout: probability \(probability) outside [0, 1]")
        self.probability = probability
    }
    public func callAsFunction(_ x: Variable) throws -> Variable {
        isTraining ? dropout(x, probability: probability) : x
    }
}

/// Max pooling (PyTorch `nn.MaxPool2d(kernel, stride, padding)`, floor mode).
public final class MaxPool2d: Layer {
    public var isTraining = true
    public let geometry: Pool2dGeometry
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        geometry = Pool2dGeometry(kernel: kernelSize, stride: stride, padding: padding)
    }
    public func callAsFunction(_ x: Variable) throws -> Variable { maxPool2d(x, geometry: geometry) }
}

/// Average pooling (PyTorch `nn.AvgPool2d(kernel, stride, padding)`, `count_include_pad=True`, floor mode).
public final class AvgPool2d: Layer {
    public var isTraining = true
    public let geometry: Pool2dGeometry
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        geometry = Pool2dGeometry(kernel: kernelSize, stride: stride, padding: padding)
    }
    public func callAsFunction(_ x: Variable) throws -> Variable { avgPool2d(x, geometry: geometry) }
}

/// Global average pooling to 1×1 (PyTorch `nn.AdaptiveAvgPool2d((1, 1))`): (N, C, H, W) → (N, C, 1, 1).
public final class AdaptiveAvgPool2d: Layer {
    public var isTraining = true
    public init() {}
    public func callAsFunction(_ x: Variable) throws -> Variable { adaptiveAvgPool2dTo1x1(x) }
}

/// (N, …) → (N, product of the rest) (PyTorch `nn.Flatten()` / `x.view(x.size(0), -1)`).
public final class Flatten: Layer {
    public var isTraining = true
    public init() {}
    public func callAsFunction(_ x: Variable) throws -> Variable { flattened(x, from: 1) }
}

/// Layers applied in order (PyTorch `nn.Sequential`); children are named "0", "1", ….
public final class Sequential: Layer {
    public var isTraining = true
    public private(set) var layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public func callAsFunction(_ x: Variable) throws -> Variable {
        try callAsFunction(x, recording: [:], into: nil)
    }

    /// Like `callAsFunction`, also recording the output of layer `i` under `taps[i]` when `recorder` wants it.
    ///
    /// A `BatchNorm2d` directly followed by a `ReLU` runs as one fused op (`BatchNorm2d(_:fusingReLU:)`) unless
    /// the batch norm's own output is a tap the recorder wants; the result is the same as running both layers.
    /// On a no-grad tape, a `Conv2d` followed by a `BatchNorm2d` in evaluation mode (and a `ReLU`) runs as one
    /// convolution with the batch norm folded into its weights (`BatchNorm2d.folded(into:)`) and the ReLU fused
    /// (`conv2dInference`), unless the recorder wants the convolution's or the batch norm's own output: the
    /// same values up to float rounding, without two passes over the activations.
    public func callAsFunction(_ x: Variable, recording taps: [Int: String], into recorder: TapRecorder?) throws -> Variable {
        var h = x
        var i = 0
        let wanted = { (j: Int) -> Bool in recorder.map { r in taps[j].map { r.wanted.contains($0) } ?? false } ?? false }
        while i < layers.count {
            if !h.tape.isRecording, let conv = layers[i] as? Conv2d, i + 1 < layers.count,
               let bn = layers[i + 1] as? BatchNorm2d, !bn.isTraining, !wanted(i), !wanted(i + 1) {
                let relu = i + 2 < layers.count && layers[i + 2] is ReLU
                let (w, b) = bn.folded(into: conv)
                h = conv2dInference(h, weight: w, bias: b, geometry: conv.geometry, relu: relu)
                i += relu ? 2 : 1
            } else if let bn = layers[i] as? BatchNorm2d, i + 1 < layers.count, layers[i + 1] is ReLU, !wanted(i) {
                h = try bn(h, fusingReLU: true)
                i += 1
            } else {
                h = try layers[i](h)
            }
            if let recorder, let name = taps[i] { recorder.record(name, h) }
            i += 1
        }
        return h
    }

    public var children: [(name: String, layer: any Layer)] {
        layers.enumerated().map { (name: String($0.offset), layer: $0.element) }
    }
}
