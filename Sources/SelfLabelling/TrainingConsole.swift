import Foundation

/// The run as a person follows it on standard error: a progress line with rate and ETA on a terminal (plain
/// lines for the logged iterations otherwise), one line per label optimisation and per epoch, and the notes
/// and warnings of the solver.
public final class TrainingConsole: TrainingObserver {
    /// The in-place line (drawn only on a terminal).
    public let progress: ProgressLine
    /// Where full lines go (default: the progress line's log, on standard error).
    public var log: (String) -> Void

    public init(progress: ProgressLine = ProgressLine()) {
        self.progress = progress
        log = { progress.log($0) }
    }

    public func trainingStarted(_ s: TrainingStart) {
        let c = s.configuration
        let times = s.labelOptimisationEpochs.prefix(12).map { String(format: "%.2f", $0) }
        log("training \(c.arch.rawValue) on \(s.images) images: \(c.epochs) epochs of \(s.batchesPerEpoch) "
            + "batches, \(c.hc) head(s) x \(c.ncl) clusters; label optimisations at epochs "
            + times.joined(separator: ", ") + (s.labelOptimisationEpochs.count > 12 ? ", …" : ""))
    }

    public func labelPassAdvanced(optimisation: Int, done: Int, total: Int) {
        progress.show("label optimisation \(optimisation + 1): network pass \(done)/\(total)")
    }

    public func labelsOptimised(_ r: LabelOptimisationReport) {
        let which = "label optimisation \(r.optimisation + 1)"
        for h in r.heads {
            let d = h.diagnostics
            if d.repairedBreakdown {
                log("note: \(which), head \(h.head): dense float32 Sinkhorn-Knopp broke down numerically; solved "
                    + "again by the truncated (rescaling) method")
            }
            if d.fellBackToFloat64 {
                log("note: \(which), head \(h.head): float32 Sinkhorn-Knopp broke down numerically; solved again in float64")
            }
            if d.emptyClusters > 0 { log("warning: \(which), head \(h.head): \(d.emptyClusters) empty clusters") }
            if d.repairedEmptyClusters > 0 {
                log("note: \(which), head \(h.head): \(d.repairedEmptyClusters) empty clusters filled by splitting the "
                    + "largest cluster (--sk-empty-clusters split)")
            }
        }
        let capped = r.heads.filter { !$0.diagnostics.converged && !$0.diagnostics.numericalBreakdown }
        if !capped.isEmpty {
            cappedLabelOptimisations += 1
            if cappedLabelOptimisations == 1 {  // once; then counted on the progress line and in summary.json
                let heads = capped.map { "head \($0.head): \($0.diagnostics.iterations) iterations, error "
                    + String(format: "%.3g", $0.diagnostics.finalError) }
                log("WARNING: \(which): Sinkhorn-Knopp stopped at its iteration cap (" + heads.joined(separator: "; ")
                    + " > tolerance \(r.tolerance)), so the labels are not the equipartition SeLa asks for; "
                    + TrainingSummary.capAdvice + ". Later cap hits are counted on the progress line, in "
                    + "summary.json and in metrics.jsonl (\"converged\": false).")
            }
        }
        let degenerate = r.heads.filter(\.diagnostics.degenerateLabels)
        if !degenerate.isEmpty {
            let sizes = degenerate.map { "head \($0.head): sizes \($0.diagnostics.minClusterSize)…\($0.diagnostics.maxClusterSize), "
                + "\($0.diagnostics.emptyClusters) empty" }
            log("warning: \(which): degenerate labels (empty clusters, or a cluster above "
                + "\(Int(SinkhornDiagnostics.degenerateShare))× its share N/K): " + sizes.joined(separator: "; "))
        }
        let its = r.heads.map { String($0.diagnostics.iterations) }
        log(String(format: "label optimisation %d at epoch %d, iteration %d: %.1f s (network %.1f s), "
                   + "Sinkhorn-Knopp iterations %@", r.optimisation + 1, r.epoch, r.iteration, r.seconds,
                   r.networkPassSeconds, its.joined(separator: " ")))
    }

    /// Label optimisations of this run (since it was started or resumed) in which some head hit the cap.
    public private(set) var cappedLabelOptimisations = 0

    public func iterationFinished(_ r: IterationReport) {
        if r.isLogged && !progress.isTerminal {
            log(String(format: "epoch %d iteration %d/%d loss %.4f (mean %.4f) lr %.3g %.1f img/s", r.epoch,
                       r.iteration, r.totalIterations, r.loss, r.epochMeanLoss, r.learningRate, r.imagesPerSecond))
        }
        progress.show(String(format: "epoch %d/%d  it %d/%d  loss %.4f  %.1f img/s  lr %.3g  ETA %@",
                             r.epoch + 1, r.epochs, r.iteration + 1,
                             r.totalIterations, r.epochMeanLoss, r.imagesPerSecond, r.learningRate,
                             ProgressLine.duration(r.secondsLeft))
                      + (cappedLabelOptimisations > 0 ? "  SK CAP HIT in \(cappedLabelOptimisations) label steps" : ""))
    }

    public func epochFinished(_ r: EpochReport) {
        log(String(format: "epoch %d done: mean loss %.4f, %.1f img/s", r.epoch, r.meanLoss, r.imagesPerSecond))
    }

    public func knnMeasured(_ r: KNNReport) {
        log(String(format: "held-out after epoch %d: kNN top-1 %.3f, NMI(head 0) %.3f%@ (%.1f s)", r.epoch, r.top1, r.nmi,
                   r.isBest ? ", best so far" : "", r.seconds))
    }

    public func trainingStopped(_ s: TrainingStop) {
        log("stopped at epoch \(s.epoch), iteration \(s.iteration); state saved to \(s.checkpoint). "
            + "Continue with: \(s.resumeCommand)")
    }

    public func note(_ text: String) { log(text) }
}
