import ArgumentParser
import Evaluation
import Foundation
import Interop

/// `selflabel eval …`: evaluation of learned labels and features. (The `knn` and `linear` subcommands of
/// the evaluation issue join this group when they land.)
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a trained network or its labels against the true classes: kNN, linear probes, clustering metrics.",
        subcommands: [EvalKNNCommand.self, EvalLinearCommand.self, EvalClusterCommand.self]
    )
}

/// `selflabel eval cluster --labels L.npy --targets T.npy [--json]`: clustering metrics of every head.
struct EvalClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Compare cluster labels with the true classes: NMI, AMI, ARI, matched accuracy, purity, sizes.",
        discussion: """
        NMI and AMI use arithmetic normalisation (scikit-learn's default). When a head has as many clusters as \
        there are classes, accuracy is after the optimal one-to-one (Hungarian) matching; otherwise the \
        many-to-one majority-vote accuracy, which equals purity, is the accuracy to quote.
        """)

    @Option(help: "Integer .npy of cluster labels: (N,) for one head or (H, N) for H heads.")
    var labels: String

    @Option(help: "Integer .npy of the true classes, (N,).")
    var targets: String

    @Option(help: "Clusters per head K (labels in 0..<K), to count empty clusters; default: the clusters that occur.")
    var clusters: Int?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        if let clusters, clusters < 1 { throw ValidationError("--clusters must be at least 1, got \(clusters)") }
    }

    func run() throws {
        let labelArray = try NpyArray(contentsOf: labels)
        try labelArray.require(rank: 1, 2)
        let targetArray = try NpyArray(contentsOf: targets)
        try targetArray.require(rank: 1)
        let truth = try targetArray.int64s().map { Int($0) }
        let all = try labelArray.int64s().map { Int($0) }
        let heads = labelArray.shape.count == 2 ? labelArray.shape[0] : 1
        let n = labelArray.shape.last!
        guard n == truth.count else {
            throw ValidationError("\(labels) has \(n) labels per head but \(targets) has \(truth.count) targets")
        }
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
