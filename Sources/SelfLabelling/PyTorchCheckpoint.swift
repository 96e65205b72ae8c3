import Interop
import NeuralNetworks
import Tensors

/// The network weights (and pseudo-labels) of a PyTorch file, renamed to SelfLabel's keys.
///
/// Where the tensors sit: a bare state dict; `{'state_dict', 'L' | 'labels', 'optimizer', 'epoch', 'arch'}` (the
/// official training checkpoints and the newer releases); `{'model', …}` (the official probe checkpoints).
/// `module.` segments of `nn.DataParallel` are removed wherever they occur (`module.features.0.weight`,
/// `features.module.0.weight`). `num_batches_tracked` buffers are never required: when present they are copied
/// into the network's counters (so a round trip is exact), otherwise the network's stay.
///
/// Key layouts (docs/INTEROP.md has the tables):
/// - official SeLa (`models/alexnet.py`, `resnetv1.py`, `resnetv2.py`): `features.N…`, `classifier.N…` — our own
///   names; a single head saved as `top_layer.0.*` (resnetv2's `nn.Sequential`) becomes `top_layer.*`;
/// - torchvision ResNet (`conv1`, `bn1`, `layer1..4`, `fc`, as the `*_pp.pth` releases): `conv1` → `features.0`,
///   `bn1` → `features.1`, `layerK` → `features.(3+K)`, `fc` → `top_layer`;
/// - SelfLabel's CIFAR ResNet-18 (`conv1`, `bn1`, `layer1..4` with `shortcut`, `top_layer…`): unchanged.
///
/// Heads are renamed to SelfLabel's convention (one head `top_layer`, several `top_layer0…`). A last head with
/// 4 outputs after heads of another size is a RotNet head (`retrain_with_rotnet.py`, the `-wRot` models): it is
/// reported and left out unless `keepRotationHead`.
public struct PyTorchCheckpoint {
    /// The key layout the file used.
    public enum Layout: String, Sendable {
        case official = "official SeLa"
        case torchvision = "torchvision ResNet"
        case cifarResNet = "SelfLabel CIFAR ResNet-18"
    }

    public let path: String
    /// `zip` or `legacy` (the two `torch.save` formats).
    public let format: String
    public let layout: Layout
    /// Every network tensor under SelfLabel's key names, heads included, in file order.
    public let tensors: [(name: String, tensor: TorchTensor)]
    /// Classes per head, in head order (rotation head excluded unless kept).
    public let heads: [Int]
    /// The labels matrix the file holds (`L` or `labels`), as (rows, images) row-major, when it has one.
    public let labels: (rows: Int, count: Int, values: [Int64])?
    /// What was read but not loaded, one phrase each.
    public let ignored: [String]
    /// The `num_batches_tracked` counters, under SelfLabel's names (not matched against the network).
    public let batchCounters: [(name: String, tensor: TorchTensor)]

    /// Reads and maps `path`.
    public init(contentsOf path: String, keepRotationHead: Bool = false) throws {
        self.path = path
        let value = try TorchFile.load(contentsOf: path)
        format = TorchFile.format(of: path)?.rawValue ?? "unknown"
        var ignored: [String] = []
        // 1. Locate the state dict and the labels.
        guard let top = value.dictItems else { throw PyTorchImportError.noStateDict(path: path, found: value.summary) }
        var state = top
        var labelValue: TorchValue?
        if top.allSatisfy({ $0.value.tensor != nil }) {
            state = top
        } else if let inner = (value["state_dict"] ?? value["model"])?.dictItems {
            state = inner
            for (k, v) in top {
                let key = k.string ?? k.summary
                if key == "state_dict" || key == "model" { continue }
                if key == "L" || key == "labels", v.tensor != nil { labelValue = v; continue }
                ignored.append("'\(key)' (\(v.summary))")
            }
        } else {
            throw PyTorchImportError.noStateDict(path: path, found: "keys " + top.map { $0.key.string ?? $0.key.summary }.joined(separator: ", "))
        }
        // 2. Plain names: no DataParallel segments, no batch counters.
        var named: [(String, TorchTensor)] = []
        var counters: [(name: String, tensor: TorchTensor)] = []
        for (k, v) in state {
            guard let key = k.string else { throw PyTorchImportError.noStateDict(path: path, found: "a non-string key \(k.summary)") }
            guard let t = v.tensor else {
                throw PyTorchImportError.noStateDict(path: path, found: "'\(key)' is \(v.summary), not a tensor")
            }
            let plain = key.split(separator: ".").filter { $0 != "module" }.joined(separator: ".")
            if plain.hasSuffix("num_batches_tracked") { counters.append((plain, t)); continue }
            named.append((plain, t))
        }
        if !counters.isEmpty { ignored.append("\(counters.count) num_batches_tracked (not required)") }
        // 3. Layout and renaming.
        let keys = Set(named.map(\.0))
        let layout: Layout
        if keys.contains(where: { $0.hasPrefix("features.") }) {
            layout = .official
        } else if keys.contains(where: { $0.hasPrefix("layer1.") && $0.contains(".shortcut.") }) {
            layout = .cifarResNet
        } else if keys.contains(where: { $0.hasPrefix("layer1.") }) && keys.contains(where: { $0.hasPrefix("conv1.") }) {
            layout = .torchvision
            named = named.map { (Self.torchvisionToOfficial($0.0), $0.1) }
            counters = counters.map { (Self.torchvisionToOfficial($0.name), $0.tensor) }
        } else {
            throw PyTorchImportError.unknownArchitecture(path: path, reason: "keys fit no known layout (first: \(named.prefix(3).map(\.0).joined(separator: ", ")))")
        }
        self.layout = layout
        // 4. Heads.
        let (tensors, heads, headNotes) = try Self.renameHeads(named, keepRotationHead: keepRotationHead, path: path)
        ignored += headNotes
        self.tensors = tensors
        self.heads = heads
        if let t = labelValue?.tensor, t.dtype != .bool, !t.dtype.isFloatingPoint, t.shape.count == 1 || t.shape.count == 2 {
            labels = (t.shape.count == 2 ? t.shape[0] : 1, t.shape.last!, t.int64s())
        } else {
            if let l = labelValue { ignored.append("labels \(l.summary) (not an integer (N,) or (heads, N) tensor)") }
            labels = nil
        }
        self.ignored = ignored
        batchCounters = counters
    }

    /// torchvision names → official `features.N` names (`fc` → `top_layer`).
    static func torchvisionToOfficial(_ key: String) -> String {
        let map = ["conv1": "features.0", "bn1": "features.1", "layer1": "features.4", "layer2": "features.5",
                   "layer3": "features.6", "layer4": "features.7", "fc": "top_layer"]
        guard let dot = key.firstIndex(of: "."), let to = map[String(key[..<dot])] else { return key }
        return to + key[dot...]
    }

    /// Renames heads to `top_layer` / `top_layer0…`, drops a rotation head unless kept; returns the tensors,
    /// the classes per head and notes.
    static func renameHeads(_ named: [(String, TorchTensor)], keepRotationHead: Bool,
                            path: String) throws -> ([(name: String, tensor: TorchTensor)], [Int], [String]) {
        // Head index of a key: nil = not a head; -1 = the single head.
        func head(_ key: String) -> (Int, String)? {
            guard key.hasPrefix("top_layer") else { return nil }
            let rest = key.dropFirst("top_layer".count)
            if rest.hasPrefix(".0.") { return (-1, String(rest.dropFirst(2))) }  // nn.Sequential(Linear)
            if rest.hasPrefix(".") { return (-1, String(rest)) }
            let digits = rest.prefix { $0.isNumber }
            guard let i = Int(digits), rest.dropFirst(digits.count).hasPrefix(".") else { return nil }
            return (i, String(rest.dropFirst(digits.count)))
        }
        var classes: [Int: Int] = [:]
        for (k, t) in named {
            if let (i, suffix) = head(k), suffix == ".weight" {
                guard t.shape.count == 2, t.shape[0] >= 1, t.shape[1] >= 1 else {
                    throw PyTorchImportError.unknownArchitecture(path: path, reason: "head weight \(k) has shape \(t.shape)")
                }
                classes[i] = t.shape[0]
            }
        }
        var order = classes.keys.sorted()
        guard !order.isEmpty else {
            throw PyTorchImportError.unknownArchitecture(path: path, reason: "no head (top_layer, top_layerN or fc) in the file")
        }
        guard order == [-1] || order == Array(0..<order.count) else {
            throw PyTorchImportError.unknownArchitecture(path: path, reason: "heads \(order) are not top_layer or top_layer0…\(order.count - 1)")
        }
        var notes: [String] = []
        if order.count >= 2, let last = order.last, classes[last] == 4,
           order.dropLast().allSatisfy({ classes[$0] != 4 }) {
            if keepRotationHead {
                notes.append("top_layer\(last) kept as a 4-way rotation head")
            } else {
                notes.append("top_layer\(last) (a 4-way rotation head; keep it with --rotation-head)")
                order.removeLast()
            }
        }
        let rename: [Int: String] = Dictionary(uniqueKeysWithValues: order.enumerated().map {
            ($0.element, order.count == 1 ? "top_layer" : "top_layer\($0.offset)")
        })
        var out: [(name: String, tensor: TorchTensor)] = []
        for (k, t) in named {
            if let (i, suffix) = head(k) {
                if let name = rename[i] { out.append((name + suffix, t)) }
            } else {
                out.append((k, t))
            }
        }
        return (out, order.map { classes[$0]! }, notes)
    }

    /// The tensors as float32, under SelfLabel's names.
    public var stateDict: StateDict { tensors.map { (name: $0.name, tensor: $0.tensor.tensor()) } }

    /// Loads every tensor into `network` after checking that the key sets and shapes match exactly; throws
    /// `PyTorchImportError.mismatch` listing what differs, and changes nothing, otherwise.
    public func load(into network: MultiHeadNetwork) throws {
        let expected = network.stateDict().filter { !$0.name.hasSuffix("num_batches_tracked") }
        let given = Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let known = Set(expected.map(\.name))
        let missing = expected.map(\.name).filter { given[$0] == nil }
        let unexpected = tensors.map(\.name).filter { !known.contains($0) }
        let shapes = expected.compactMap { e -> String? in
            guard let t = given[e.name], t.shape != e.tensor.shape else { return nil }
            return "\(e.name) \(t.shape) vs \(e.tensor.shape)"
        }
        guard missing.isEmpty, unexpected.isEmpty, shapes.isEmpty else {
            throw PyTorchImportError.mismatch(path: path, architecture: network.architecture, missing: missing,
                                              unexpected: unexpected, shapes: shapes)
        }
        let slots = Dictionary(expected.map { ($0.name, $0.tensor.shape) }, uniquingKeysWith: { a, _ in a })
        let allSlots = Set(network.stateDict().map(\.name))
        let counters = batchCounters.filter { allSlots.contains($0.name) && $0.tensor.count == 1 && slots[$0.name] == nil }
            .map { (name: $0.name, tensor: Tensor(shape: [], scalars: [$0.tensor.floats()[0]])) }
        try network.load(stateDict: stateDict + counters, strict: false)
    }

    /// One line per fact: format, layout, heads, what was loaded and what was ignored.
    public var report: [String] {
        var lines = ["\(path): \(format) torch.save file, \(layout.rawValue) key layout, \(heads.count) head(s) × \(heads) classes, \(tensors.count) tensors"]
        if let labels { lines.append("labels: (\(labels.rows), \(labels.count))") }
        if !ignored.isEmpty { lines.append("ignored: " + ignored.joined(separator: ", ")) }
        return lines
    }
}
