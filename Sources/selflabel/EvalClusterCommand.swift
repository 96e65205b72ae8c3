import ArgumentParser
import DataPipeline
import Evaluation
import Foundation
import Interop
import SelfLabelling
import Tensors

/// `selflabel eval …`: evaluation of learned labels and features (kNN, linear probes, clustering metrics).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a trained network or its labels against the true classes: kNN, linear probes, clustering metrics.",
        subcommands: [EvalKNNCommand.self, EvalLinearCommand.self, EvalClusterCommand.self]
    )
}

/// `selflabel eval cluster (--labels L.npy|L.csv [--targets T.npy] [--data DIR] | --checkpoint C [--data DIR] [--split])`: clustering
/// metrics of every head.
struct EvalClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Compare cluster labels with the true classes: NMI, AMI, ARI, matched accuracy, purity, sizes.",
        discussion: """
        NMI and AMI use arithmetic normalisation (scikit-learn's default). When a head has as many clusters as \
        there are classes, accuracy is after the optimal one-to-one (Hungarian) matching; otherwise the \
        many-to-one majority-vote accuracy, which equals purity, is the accuracy to quote.
        """)

    @Option(help: "Cluster labels: integer .npy of shape (N,) or (H, N), or CSV (path, one label per head; rows matched to --data by file name).")
    var labels: String?

    @Option(help: "Integer .npy of the true classes, (N,) (with --labels; default: the classes of the train split of --data).")
    var targets: String?

    @Option(help: "Instead of --labels: a trained network (checkpoint or final weights); each head's argmax on --data is evaluated.")
    var checkpoint: String?

    @Option(help: "With --checkpoint: the data folder (default: the embedded CIFAR-10 subset).")
    var data: String?

    @Option(help: "With --checkpoint: train, or val (val/ or test/).")
    var split: DatasetLocator.Split = .evaluation

    @Flag(name: .customLong("from-training"),
          help: "With a training checkpoint: evaluate its stored Sinkhorn-Knopp labels (train split) instead of the argmax.")
    var fromTraining = false

    @Option(help: "With --checkpoint: kernels, cpu (oneDNN) or reference.") var backend: Kernels.Name = .cpu
    @Option(help: "With --checkpoint: data loader threads.") var workers: Int = 2

    @Option(help: "Clusters per head K (labels in 0..<K), to count empty clusters; default: the clusters that occur.")
    var clusters: Int?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @OptionGroup var imageLimit: ImageLimitOptions

    func validate() throws {
        if let clusters, clusters < 1 { throw ValidationError("--clusters must be at least 1, got \(clusters)") }
        guard (labels != nil && checkpoint == nil) || (labels == nil && targets == nil && checkpoint != nil) else {
            throw ValidationError("give either --labels (with --targets, or with the train split of --data as the truth), or --checkpoint (with --data)")
        }
    }

    /// Labels (heads × N, row-major), the true classes and N, from the files or from a trained network.
    func labelsAndTruth() throws -> (all: [Int], truth: [Int], heads: Int, n: Int) {
        if let labels {
            // CSV rows are matched to the train split's images by file name; without --targets its classes are the truth.
            let trainSet: (any Dataset)? = try data.map { try DatasetLocator.open($0, split: .train) }
                ?? (targets == nil ? try EmbeddedCIFAR10.train : nil)
            let file = try LabelFile.read(labels, matching: trainSet)
            let truth: [Int]
            if let targets {
                let targetArray = try NpyArray(contentsOf: targets)
                try targetArray.require(rank: 1)
                truth = try targetArray.int64s().map { Int($0) }
            } else {
                guard let t = trainSet?.targets else { throw ValidationError("the data set has no true classes; give --targets") }
                truth = t
            }
            guard file.count == truth.count else {
                throw ValidationError("\(labels) has \(file.count) labels per head but there are \(truth.count) true classes")
            }
            return (file.values, truth, file.heads, file.count)
        }
        ComputeThreads.set(ComputeThreads.defaultCount)
        imageLimit.apply()
        let model = try loadCheckpoint(checkpoint!)
        let chosen: DatasetLocator.Split = fromTraining ? .train : split
        let dataset: any Dataset = try data.map { try DatasetLocator.open($0, split: chosen) }
            ?? (chosen == .train ? try EmbeddedCIFAR10.train : try EmbeddedCIFAR10.test)
        guard let truth = dataset.targets else { throw ValidationError("the data set has no true classes to compare with") }
        if fromTraining {
            guard let l = model.labels else {
                throw ValidationError("--from-training needs a training checkpoint (exp/checkpoints/*.safetensors)")
            }
            guard l.count == truth.count else {
                throw ValidationError("the checkpoint has labels for \(l.count) images, the data set has \(truth.count)")
            }
            return (l.values.map(Int.init), truth, l.heads, l.count)
        }
        let out = try NetworkOutputs.compute(network: model.network, dataset: dataset, transform: model.evaluationTransform,
                                             workers: workers, kernels: Kernels(named: backend))
        let keep = (0..<truth.count).filter { !out.skipped.contains($0) }
        return (out.headArgmax.flatMap { h in keep.map { h[$0] } }, keep.map { truth[$0] }, out.headArgmax.count, keep.count)
    }

    func run() throws {
        let (all, truth, heads, n) = try labelsAndTruth()
        try checkSizes(all, truth: truth, heads: heads, n: n)
        var reports: [ClusteringReport] = []
        for h in 0..<heads {
            let predicted = Array(all[(h * n)..<((h + 1) * n)])
            if let clusters, let bad = predicted.first(where: { $0 < 0 || $0 >= clusters }) {
                throw ValidationError("head \(h) has label \(bad), outside 0..<\(clusters) given by --clusters")
            }
            reports.append(try ClusteringReport(predicted: predicted, truth: truth, clusterCount: clusters))
        }
        print(json ? EvalClusterCommand.json(reports, samples: n) : EvalClusterCommand.table(reports, samples: n))
    }

    /// One JSON object; `hungarian_accuracy` is null when a head's cluster count differs from the class count.
    static func json(_ reports: [ClusteringReport], samples: Int) -> String {
        var out = JSONLine(["samples": samples, "classes": reports.first?.table.classes.count ?? 0,
                            "mi_normalization": "arithmetic"])
        out.append("heads", reports.enumerated().map { h, r -> Any in
            let s = r.sizes
            return JSONLine(["head": h, "clusters": r.table.clusters.count, "nmi": r.nmi, "ami": r.ami, "ari": r.ari,
                             "hungarian_accuracy": r.hungarianAccuracy ?? Double.nan,  // NaN prints as null
                             "one_to_one_accuracy": r.oneToOneAccuracy, "majority_accuracy": r.majorityAccuracy,
                             "purity": r.purity,
                             "cluster_sizes": JSONLine(["clusters": s.clusterCount, "empty": s.emptyClusters,
                                                        "min": s.min, "median": s.median, "max": s.max,
                                                        "mean": s.mean, "std": s.standardDeviation,
                                                        "normalized_entropy": s.normalizedEntropy])])
        })
        return out.text
    }

    /// A table, one row per head, with the normalisation stated.
    static func table(_ reports: [ClusteringReport], samples: Int) -> String {
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        let classes = reports.first?.table.classes.count ?? 0
        var lines = ["\(samples) samples, \(classes) classes; NMI and AMI with arithmetic normalisation (scikit-learn default)",
                     "accuracy: Hungarian one-to-one when #clusters == #classes, else majority vote (= purity, marked *)"]
        let header = ["head", "clusters", "NMI", "AMI", "ARI", "accuracy", "purity", "size min", "median", "max", "empty"]
        var rows: [[String]] = []
        for (h, r) in reports.enumerated() {
            let acc = r.hungarianAccuracy.map(f) ?? (f(r.majorityAccuracy) + "*")
            let s = r.sizes
            rows.append([String(h), String(r.table.clusters.count), f(r.nmi), f(r.ami), f(r.ari), acc, f(r.purity),
                         String(s.min), String(format: "%g", s.median), String(s.max), String(s.emptyClusters)])
        }
        let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { String(repeating: " ", count: widths[$0.offset] - $0.element.count) + $0.element }
                .joined(separator: "  ")
        }
        lines.append(line(header))
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }
}
