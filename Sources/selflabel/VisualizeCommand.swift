import ArgumentParser
import DataPipeline
import Evaluation
import Foundation
import Interop
import SelfLabelling
import Tensors

/// `selflabel visualize`: the cluster contact sheet and its HTML page.
struct VisualizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualize",
        abstract: "Draw clusters as rows of thumbnails framed by true class: clusters.png and index.html in --out.")

    @Option(help: "A training checkpoint (its pseudo-labels are shown), final weights or a PyTorch .pth (each head's argmax).")
    var checkpoint: String?
    @Option(help: "Labels instead of a model: .npy of shape (N,) or (heads, N), or CSV (path, one label per head; matched by file name).") var labels: String?
    @Option(help: "Data folder (default: the embedded CIFAR-10 subset); its train split is shown.") var data: String?
    @Option(help: "Output folder.") var out: String = "clusters"
    @Option(help: "Number of clusters (rows).") var clusters: Int = 20
    @Option(name: .customLong("per-cluster"), help: "Thumbnails per cluster.") var perCluster: Int = 12
    @Option(help: "Row order: purity, size or random.") var sort: String = "purity"
    @Option(help: "Head to show.") var head: Int = 0
    @Option(help: "Seed for choosing thumbnails.") var seed: UInt64 = 0
    @Option(help: "Data loader threads.") var workers: Int = 2
    @OptionGroup var imageLimit: ImageLimitOptions

    func validate() throws {
        guard (checkpoint == nil) != (labels == nil) else { throw ValidationError("give exactly one of --checkpoint and --labels") }
        guard clusters >= 1, perCluster >= 1 else { throw ValidationError("--clusters and --per-cluster must be >= 1") }
        guard ClusterGallery.Order(rawValue: sort) != nil else { throw ValidationError("--sort \(sort) must be purity, size or random") }
        guard head >= 0 else { throw ValidationError("--head must be >= 0") }
    }

    func run() throws {
        imageLimit.apply()
        let dataset: any Dataset = data != nil ? try DatasetLocator.open(data!, split: .train) : try EmbeddedCIFAR10.train
        let assignment: [Int]
        if let labels {
            let file = try LabelFile.read(labels, matching: dataset)
            guard head < file.heads else { throw ValidationError("--head \(head): \(labels) has \(file.heads) head(s)") }
            assignment = file.head(head)
        } else {
            ComputeThreads.set(ComputeThreads.defaultCount)
            let model = try loadCheckpoint(checkpoint!)
            if let l = model.labels {
                guard head < l.heads else { throw ValidationError("--head \(head): the checkpoint has \(l.heads) head(s)") }
                assignment = l.head(head).map(Int.init)
            } else {
                let outputs = try NetworkOutputs.compute(network: model.network, dataset: dataset,
                                                         transform: model.evaluationTransform, workers: workers)
                guard head < outputs.headArgmax.count else { throw ValidationError("--head \(head): the model has \(outputs.headArgmax.count) head(s)") }
                assignment = outputs.headArgmax[head]
            }
        }
        guard assignment.count == dataset.count else {
            throw ValidationError("\(labels ?? checkpoint ?? "the labels"): \(assignment.count) labels for a data set of \(dataset.count) images")
        }
        let gallery = ClusterGallery(labels: assignment, targets: dataset.targets, classNames: dataset.classNames,
                                     clusters: clusters, perCluster: perCluster,
                                     order: ClusterGallery.Order(rawValue: sort)!, seed: seed)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let written = try gallery.write(to: out, dataset: dataset, title: "Clusters of head \(head)")
        print("wrote \(written.png) and \(written.html)")
    }
}
