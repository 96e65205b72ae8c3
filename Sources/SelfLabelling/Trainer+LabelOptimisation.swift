import Autograd
import DataPipeline
import Evaluation
import Foundation
import Interop
import Tensors

extension Trainer {
    /// One label optimisation (the official `optimize_labels`): the network in evaluation mode over the whole
    /// training set with the pseudo-label transform, every head's logits collected (heads × N × K), then every
    /// head solved by Sinkhorn-Knopp, warm-started from that head's previous cluster scaling.
    func optimizeLabels() throws {
        let started = Date()
        let n = dataset.count, heads = configuration.hc, k = configuration.ncl
        let bytes = heads * n * k * MemoryLayout<Float>.stride
        if let available = SystemMemory.availableBytes, bytes > available / 2 {
            throw TrainingError.scoresTooLarge(bytes: bytes, available: available)
        }
        network.setTraining(false)
        // Zeros (uniform scores) for any image the loader had to skip as corrupt.
        var scores = Tensor.zeros([heads, n, k])
        let loader = BatchLoader(dataset: dataset, transform: pseudoTransform, batchSize: configuration.batchSize,
                                 shuffle: false, seed: configuration.seed ^ 0x5053_4555_444F, workers: configuration.workers)
        let pass = loader.epoch(labelOptimisations)
        var done = 0
        try scores.withUnsafeMutableBufferPointer { out in
            while let b = try pass.next() {
                let tape = Tape(recording: false, kernels: kernels)
                let result = try network.forward(tape.constant(b.images))
                for h in 0..<heads {
                    let logits = result.heads[h].value.contiguous()
                    logits.withUnsafeBufferPointer { l in
                        for (row, index) in b.indices.enumerated() {
                            let dst = out.baseAddress! + (h * n + index) * k
                            dst.update(from: l.baseAddress! + row * k, count: k)
                        }
                    }
                }
                done += b.indices.count
                progress.show("label optimisation \(labelOptimisations + 1): network pass \(done)/\(n)")
            }
        }
        let passSeconds = Date().timeIntervalSince(started)
        if configuration.saveScores {
            let dir = (experiment as NSString).appendingPathComponent("scores")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Npy.write(scores, to: (dir as NSString).appendingPathComponent("optimisation-\(labelOptimisations).npy"))
        }
        let warm = warmStarts.allSatisfy { $0 != nil } ? warmStarts.map { $0! } : nil
        let results = try scores.withUnsafeBufferPointer {
            try solver.solveHeads(scores: $0, heads: heads, samples: n, clusters: k, warmStarts: warm)
        }
        for (h, r) in results.enumerated() {
            let previous = labels.head(h).map(Int.init)
            let changed = labels.replace(head: h, with: r.labels)
            let nmi = try ClusteringMetrics.normalizedMutualInformation(
                ContingencyTable(predicted: labels.head(h).map(Int.init), truth: previous))
            warmStarts[h] = r.clusterScaling
            let d = r.diagnostics
            metrics.write(["kind": "labels", "optimisation": labelOptimisations, "epoch": epoch, "iteration": iteration,
                           "head": h, "sk_iterations": d.iterations, "converged": d.converged,
                           "final_error": d.finalError, "seconds": d.totalSeconds, "network_pass_seconds": passSeconds,
                           "cluster_size_min": d.minClusterSize, "cluster_size_max": d.maxClusterSize,
                           "empty_clusters": d.emptyClusters, "changed_fraction": changed, "nmi_previous": nmi,
                           "sk_method": d.method.rawValue, "repaired_breakdown": d.repairedBreakdown,
                           "fell_back_to_f64": d.fellBackToFloat64])
            events.scalar("labels/changed_fraction/head\(h)", changed, step: iteration)
            events.scalar("labels/nmi_previous/head\(h)", nmi, step: iteration)
            events.scalar("labels/sk_iterations/head\(h)", Double(d.iterations), step: iteration)
            if d.repairedBreakdown {
                log("note: label optimisation \(labelOptimisations + 1), head \(h): dense float32 Sinkhorn-Knopp broke "
                    + "down numerically; solved again by the truncated (rescaling) method")
            }
            if d.fellBackToFloat64 {
                log("note: label optimisation \(labelOptimisations + 1), head \(h): float32 Sinkhorn-Knopp broke down "
                    + "numerically; solved again in float64")
            }
            if !d.converged {
                log("warning: label optimisation \(labelOptimisations + 1), head \(h): Sinkhorn-Knopp stopped at the "
                    + "iteration cap (\(d.iterations)) with error \(d.finalError) > tolerance \(configuration.skTol)")
            }
            if d.emptyClusters > 0 {
                log("warning: label optimisation \(labelOptimisations + 1), head \(h): \(d.emptyClusters) empty clusters")
            }
        }
        labelOptimisations += 1
        let its = results.map(\.diagnostics.iterations)
        log(String(format: "label optimisation %d at epoch %d, iteration %d: %.1f s (network %.1f s), "
                   + "Sinkhorn-Knopp iterations %@", labelOptimisations, epoch, iteration,
                   Date().timeIntervalSince(started), passSeconds, its.map(String.init).joined(separator: " ")))
    }
}

/// Memory figures read from the system.
enum SystemMemory {
    /// `MemAvailable` from /proc/meminfo, in bytes (nil where unknown).
    static var availableBytes: Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return nil
    }
}
