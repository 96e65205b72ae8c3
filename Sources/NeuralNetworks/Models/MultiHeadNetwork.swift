import Autograd
import Tensors

/// Collects named intermediate activations ("taps") during a forward pass, for kNN and linear probes.
public final class TapRecorder {
    /// Names to keep; others are ignored (so no memory is held for them).
    public let wanted: Set<String>
    /// Recorded activations by name.
    public private(set) var values: [String: Variable] = [:]
    public init(wanted: Set<String>) { self.wanted = wanted }
    /// Keeps `value` under `name` if wanted.
    public func record(_ name: String, _ value: Variable) {
        if wanted.contains(name) { values[name] = value }
    }
}

/// The trunk of a multi-head network: input images → pre-head feature vectors (N, featureDimension).
/// Its children become the top-level state-dict entries of the network (e.g. `features.*`, `classifier.*`).
public protocol FeatureExtractor: Layer {
    /// Length of the pre-head feature vector.
    var featureDimension: Int { get }
    /// Names of the intermediate activations `features(_:taps:)` can record, in forward order.
    var tapNames: [String] { get }
    /// The pre-head features (N, featureDimension), recording taps into `taps` when given.
    func features(_ x: Variable, taps: TapRecorder?) throws -> Variable
}

extension FeatureExtractor {
    public func callAsFunction(_ x: Variable) throws -> Variable { try features(x, taps: nil) }
}

/// What a multi-head network's forward returns.
public struct MultiHeadOutput {
    /// Logits per head, (N, K_h).
    public var heads: [Variable]
    /// Pre-head features (N, D) (AlexNet: fc7 after its ReLU).
    public var features: Variable
    /// The requested intermediate activations by name.
    public var taps: [String: Variable]
}

/// A trunk followed by linear heads, as the official SeLa models: one head is named `top_layer`, several are
/// `top_layer0`, `top_layer1`, ….
///
/// Training flags: call `setTraining(_:)` on the network (it reaches every layer that behaves differently;
/// the trunk object's own flag is not consulted).
public final class MultiHeadNetwork: Layer {
    public var isTraining = true
    /// The architecture name ("alexnet_cifar", "resnet50", …).
    public let architecture: String
    public let trunk: any FeatureExtractor
    public let heads: [Linear]

    public init(architecture: String, trunk: any FeatureExtractor, heads: [Linear]) {
        precondition(!heads.isEmpty, "MultiHeadNetwork: at least one head")
        self.architecture = architecture
        self.trunk = trunk
        self.heads = heads
    }

    /// Number of clusters per head.
    public var headClasses: [Int] { heads.map(\.outFeatures) }
    /// State-dict prefix of each head.
    public var headNames: [String] { MultiHeadNetwork.headNames(count: heads.count) }
    /// State-dict prefix of each of `count` heads: `top_layer` for one head, `top_layer0`, `top_layer1`, … for more.
    public static func headNames(count: Int) -> [String] {
        count == 1 ? ["top_layer"] : (0..<count).map { "top_layer\($0)" }
    }
    /// Tap names available through `forward(_:taps:)`.
    public var tapNames: [String] { trunk.tapNames }
    /// Pre-head feature length.
    public var featureDimension: Int { trunk.featureDimension }

    /// Full forward: head logits, pre-head features and the requested taps.
    public func forward(_ x: Variable, taps: Set<String> = []) throws -> MultiHeadOutput {
        let unknown = taps.subtracting(trunk.tapNames)
        precondition(unknown.isEmpty, "\(architecture): unknown taps \(unknown.sorted()); available \(trunk.tapNames)")
        let recorder = taps.isEmpty ? nil : TapRecorder(wanted: taps)
        let f = try trunk.features(x, taps: recorder)
        let logits = try heads.map { try $0(f) }
        return MultiHeadOutput(heads: logits, features: f, taps: recorder?.values ?? [:])
    }

    /// Pre-head features only (the heads are not evaluated).
    public func features(_ x: Variable) throws -> Variable { try trunk.features(x, taps: nil) }

    /// The first head's logits (Layer conformance); use `forward(_:taps:)` for all heads.
    public func callAsFunction(_ x: Variable) throws -> Variable { try forward(x).heads[0] }

    public var ownParameters: [(name: String, parameter: Parameter)] { trunk.ownParameters }
    public var ownBuffers: [(name: String, parameter: Parameter)] { trunk.ownBuffers }
    public var children: [(name: String, layer: any Layer)] {
        trunk.children + zip(headNames, heads).map { (name: $0.0, layer: $0.1 as any Layer) }
    }
}
