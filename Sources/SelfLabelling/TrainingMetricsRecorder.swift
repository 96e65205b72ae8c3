import Foundation

/// The run's machine-readable log `<exp>/metrics.jsonl`: one record per logged iteration (`"kind": "train"`,
/// with `--rotnet` also its `label_loss`, `rotation_loss` and `rotation_accuracy`),
/// per epoch (`"epoch"`, and `"weights"` with the parameter norms of the extended log) and per head of every
/// label optimisation (`"labels"`).
public final class TrainingMetricsRecorder: TrainingObserver {
    private let log: MetricsLog

    /// Appends to the metrics log at `path`.
    public init(path: String) throws { log = try MetricsLog(path: path) }

    public func iterationFinished(_ r: IterationReport) {
        guard r.isLogged else { return }
        var record: [(String, Any)] = [("kind", "train"), ("epoch", r.epoch), ("iteration", r.iteration), ("loss", r.loss),
                                       ("loss_mean", r.epochMeanLoss), ("lr", r.learningRate),
                                       ("images_per_second", r.imagesPerSecond)]
        if let rotation = r.rotation {
            record += [("label_loss", rotation.labelLoss), ("rotation_loss", rotation.loss),
                       ("rotation_accuracy", rotation.accuracy)]
        }
        log.write(record: record)
    }

    public func epochFinished(_ r: EpochReport) {
        log.write(["kind": "epoch", "epoch": r.epoch, "loss_mean": r.meanLoss, "lr": r.learningRate])
        if let norms = r.parameterNorms {
            log.write(record: [("kind", "weights"), ("epoch", r.epoch)] + norms.map { ($0.name, $0.norm as Any) })
        }
    }

    public func knnMeasured(_ r: KNNReport) {
        log.write(["kind": "knn", "epoch": r.epoch, "top1": r.top1, "nmi": r.nmi, "best": r.isBest, "seconds": r.seconds])
    }

    public func labelsOptimised(_ r: LabelOptimisationReport) {
        for h in r.heads {
            let d = h.diagnostics
            log.write(["kind": "labels", "optimisation": r.optimisation, "epoch": r.epoch, "iteration": r.iteration,
                       "head": h.head, "sk_iterations": d.iterations, "converged": d.converged,
                       "final_error": d.finalError, "seconds": d.totalSeconds, "network_pass_seconds": r.networkPassSeconds,
                       "cluster_size_min": d.minClusterSize, "cluster_size_max": d.maxClusterSize,
                       "empty_clusters": d.emptyClusters, "changed_fraction": h.changedFraction,
                       "nmi_previous": h.nmiWithPrevious, "sk_method": d.method.rawValue,
                       "repaired_breakdown": d.repairedBreakdown, "fell_back_to_f64": d.fellBackToFloat64,
                       "degenerate_labels": d.degenerateLabels, "log_domain": d.solvedInLogDomain,
                       "repaired_empty_clusters": d.repairedEmptyClusters, "sk_stalled": d.stalled])
        }
    }
}
