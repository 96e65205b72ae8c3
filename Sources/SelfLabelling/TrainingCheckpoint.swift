import Foundation
import Interop
import NeuralNetworks
import Tensors

/// Everything a run needs to continue exactly where it stopped, stored in one safetensors file:
///
/// - tensors `model.<state_dict key>` (weights and buffers, PyTorch names), `momentum.<parameter>` (SGD
///   buffers), `labels` (int32, heads × N) and `sinkhorn_r.<head>` (float64 cluster scalings, the warm starts);
/// - metadata `selflabel.state`: the JSON of `TrainingCheckpoint.State` (the `TrainingProgress`: position,
///   remaining label-optimisation times, lowest loss; the configuration; the training set's
///   `DatasetFingerprint`, which `--resume` compares with the data given).
///
/// Random generators need no stored state: every random draw is derived from the seed and a counter (the
/// epoch for the shuffle, (epoch, index) per augmented sample, the iteration for dropout), so a position plus
/// the seed reproduces the streams exactly. The file is written atomically (temporary file, fsync, rename).
public struct TrainingCheckpoint {
    /// The scalar part of the training state: the progress, the settings and why it was written. Its JSON
    /// keeps `TrainingProgress`'s fields at the top level, next to `version`, `configuration` and `reason`.
    public struct State: Codable, Sendable, Equatable {
        /// Format version of this record.
        public var version = 1
        /// Where the run stands.
        public var progress: TrainingProgress
        /// The run's settings.
        public var configuration: TrainingConfiguration
        /// Why this checkpoint was written ("epoch", "pre-lr-drop", "lowest", "interrupted", "labels-unusable").
        public var reason: String
        /// The training set's fingerprint (nil in checkpoints written before fingerprints were stored).
        public var dataset: DatasetFingerprint?

        public init(progress: TrainingProgress, configuration: TrainingConfiguration, reason: String) {
            self.progress = progress
            self.configuration = configuration
            self.reason = reason
        }

        private enum CodingKeys: String, CodingKey { case version, configuration, reason, dataset }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            version = try c.decode(Int.self, forKey: .version)
            // Settings added after a checkpoint was written take their defaults (which reproduce that run).
            configuration = try TrainingConfiguration.decodingFillingDefaults(
                try c.decode([String: StoredSetting].self, forKey: .configuration).mapValues(\.value))
            reason = try c.decode(String.self, forKey: .reason)
            dataset = try c.decodeIfPresent(DatasetFingerprint.self, forKey: .dataset)
            progress = try TrainingProgress(from: decoder)
        }

        public func encode(to encoder: any Encoder) throws {
            try progress.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(version, forKey: .version)
            try c.encode(configuration, forKey: .configuration)
            try c.encode(reason, forKey: .reason)
            try c.encodeIfPresent(dataset, forKey: .dataset)
        }
    }

    public var state: State
    public var modelState: StateDict
    public var momentum: [(name: String, tensor: Tensor)]
    public var labels: PseudoLabels
    /// Per head: the last Sinkhorn-Knopp cluster scaling, or nil before the first optimisation.
    public var warmStarts: [[Double]?]

    public static let stateKey = "selflabel.state"

    /// Writes the checkpoint atomically to `path`.
    public func write(to path: String) throws {
        var entries = modelState.map { SafetensorsEntry(name: "model." + $0.name, tensor: $0.tensor) }
        entries += momentum.map { SafetensorsEntry(name: "momentum." + $0.name, tensor: $0.tensor) }
        entries.append(SafetensorsEntry(name: "labels", int32s: labels.values, shape: [labels.heads, labels.count]))
        entries.append(SafetensorsEntry(name: "clusters", int64s: labels.clusters.map(Int64.init),
                                        shape: [labels.heads]))
        for (h, r) in warmStarts.enumerated() {
            if let r { entries.append(SafetensorsEntry(name: "sinkhorn_r.\(h)", float64s: r, shape: [r.count])) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(state), as: UTF8.self)
        try SafetensorsArchive(entries: entries, metadata: [Self.stateKey: json, "format": "selflabel-checkpoint"])
            .write(to: path)
    }

    /// Reads a checkpoint written by `write(to:)`.
    public init(contentsOf path: String) throws {
        let archive = try SafetensorsArchive(contentsOf: path)
        state = try Self.decodeState(archive.metadata, path: path)
        var model: StateDict = [], momentum: [(name: String, tensor: Tensor)] = []
        var warm: [Int: [Double]] = [:]
        for e in archive.entries {
            if e.name.hasPrefix("model.") {
                model.append((name: String(e.name.dropFirst(6)), tensor: try e.tensor()))
            } else if e.name.hasPrefix("momentum.") {
                momentum.append((name: String(e.name.dropFirst(9)), tensor: try e.tensor()))
            } else if e.name.hasPrefix("sinkhorn_r."), let h = Int(e.name.dropFirst(11)) {
                warm[h] = try e.float64s()
            }
        }
        let labelEntry = try archive.entry("labels", path: path)
        let clusters = try archive.entry("clusters", path: path).int64s().map(Int.init)
        guard labelEntry.shape.count == 2, labelEntry.shape[0] == clusters.count else {
            throw TrainingError.notACheckpoint(path: path)
        }
        labels = try Self.checkedLabels(labelEntry, clusters: clusters, path: path)
        modelState = model
        self.momentum = momentum
        warmStarts = (0..<clusters.count).map { warm[$0] }
    }

    /// The scalar state (progress, settings, reason) of the checkpoint at `path`, reading only the file's header.
    public static func state(atPath path: String) throws -> State {
        try decodeState(SafetensorsArchive.metadata(ofFile: path), path: path)
    }

    private static func decodeState(_ metadata: [String: String], path: String) throws -> State {
        guard let json = metadata[stateKey] else { throw TrainingError.notACheckpoint(path: path) }
        do {
            return try JSONDecoder().decode(State.self, from: Data(json.utf8))
        } catch {
            throw TrainingError.unreadableState(path: path, reason: "\(error)")
        }
    }

    public init(state: State, modelState: StateDict, momentum: [(name: String, tensor: Tensor)],
                labels: PseudoLabels, warmStarts: [[Double]?]) {
        self.state = state
        self.modelState = modelState
        self.momentum = momentum
        self.labels = labels
        self.warmStarts = warmStarts
    }
}

/// The checkpoint folder `<exp>/checkpoints/`: regular checkpoints `checkpoint-e<epoch>-b<batch>.safetensors`
/// (the position they resume at; the last two are kept), `pre-lr-drop-e<epoch>.safetensors`,
/// `lowest.safetensors` and, with `--save-every N`, `ckpt-e<epoch>.safetensors` every N epochs (all kept).
public struct CheckpointFolder {
    public let path: String

    public init(experiment: String) { path = (experiment as NSString).appendingPathComponent("checkpoints") }

    /// Creates the folder if needed.
    public func create() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Path of the regular checkpoint resuming at (epoch, batch).
    public func regularPath(epoch: Int, batch: Int) -> String {
        (path as NSString).appendingPathComponent(String(format: "checkpoint-e%04d-b%06d.safetensors", epoch, batch))
    }

    public func preLRDropPath(epoch: Int) -> String {
        (path as NSString).appendingPathComponent(String(format: "pre-lr-drop-e%04d.safetensors", epoch))
    }

    public var lowestPath: String { (path as NSString).appendingPathComponent("lowest.safetensors") }

    /// The state with the best held-out kNN so far (`--knn-every`).
    public var bestKNNPath: String { (path as NSString).appendingPathComponent("best_knn.safetensors") }

    /// Path of the permanent checkpoint written at the end of epoch `epoch` (`--save-every`; never pruned, like
    /// the official `ckpt050.pth` files).
    public func permanentPath(epoch: Int) -> String {
        (path as NSString).appendingPathComponent(String(format: "ckpt-e%04d.safetensors", epoch))
    }

    /// Regular checkpoints, oldest first.
    public func regular() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { $0.hasPrefix("checkpoint-e") && $0.hasSuffix(".safetensors") }.sorted()
            .map { (path as NSString).appendingPathComponent($0) }
    }

    /// The newest regular checkpoint, if any.
    public var latest: String? { regular().last }

    /// Deletes all but the newest `keep` regular checkpoints.
    public func prune(keep: Int = 2) {
        let all = regular()
        for old in all.dropLast(keep) { try? FileManager.default.removeItem(atPath: old) }
    }
}
