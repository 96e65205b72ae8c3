import Foundation

extension Trainer {
    /// `--knn-every N`, as cifar.py after every epoch: when `progress.epoch` (epochs completed) is a multiple of
    /// N, the weighted kNN top-1 (k = 10, σ = 0.1, the training images under the evaluation transform as the
    /// memory bank) and head 0's NMI on the held-out split; a new best is saved as `best_knn.safetensors`.
    func measureHeldOut() throws {
        guard let every = configuration.knnEvery, every > 0, progress.epoch % every == 0, let heldOut else { return }
        if let dataParallel {  // across ranks: rank 0 measures with its running statistics, the others go on
            try broadcastFromRoot(dataParallel, parameters: false)
            guard writesOutputs else { return }
        }
        let started = Date()
        let scores = try HeldOutScores.measure(network: network, train: dataset, test: heldOut.test, transform: heldOut.transform,
                                               workers: configuration.workers, kernels: kernels)
        let isBest = progress.bestKNN.map { scores.knnTop1 > $0 } ?? true
        if isBest {
            progress.bestKNN = scores.knnTop1
            try save(to: checkpoints.bestKNNPath, reason: "best-knn", remember: false)
        }
        let report = KNNReport(epoch: progress.epoch, top1: scores.knnTop1, nmi: scores.nmi, isBest: isBest,
                               seconds: Date().timeIntervalSince(started))
        notify { $0.knnMeasured(report) }
    }
}
