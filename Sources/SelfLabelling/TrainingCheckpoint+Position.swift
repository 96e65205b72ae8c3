extension TrainingCheckpoint {
    /// Checks that the stored position can be resumed on a data set of `samples` images split into
    /// `batchesPerEpoch` batches: epoch in 0...epochs, batch in 0...batchesPerEpoch (a stop request after an
    /// epoch's last step is saved before the epoch's end is recorded), iteration equal to
    /// epoch · batchesPerEpoch + batch, non-negative counters, labels for exactly `samples` images. A crafted or
    /// corrupt state (batch 99999, epoch −5) is an error naming the file, never a trap or a silent restart.
    public func checkPosition(samples: Int, batchesPerEpoch: Int, path: String) throws {
        func bad(_ reason: String) -> TrainingError { .unreadableState(path: path, reason: reason) }
        let s = state.progress, epochs = state.configuration.epochs
        guard s.epoch >= 0, s.epoch <= epochs else {
            throw bad("epoch \(s.epoch) is outside 0...\(epochs)")
        }
        // batch == batchesPerEpoch: stopped after the epoch's last step, before its end was recorded.
        guard s.batch >= 0, s.batch <= batchesPerEpoch else {
            throw bad("batch \(s.batch) is outside 0...\(batchesPerEpoch) (the batches of an epoch)")
        }
        let (expected, overflow) = s.epoch.multipliedReportingOverflow(by: batchesPerEpoch)
        guard !overflow, s.iteration == expected + s.batch else {
            throw bad("iteration \(s.iteration) does not match epoch \(s.epoch), batch \(s.batch) "
                + "at \(batchesPerEpoch) batches per epoch")
        }
        guard s.labelOptimisations >= 0, s.epochLossCount >= 0, s.epochLossSum.isFinite else {
            throw bad("negative counters or a non-finite loss sum")
        }
        guard labels.count == samples else {
            throw TrainingError.checkpointMismatch(path: path, reason: "labels for \(labels.count) images, the data set has \(samples)")
        }
    }
}
