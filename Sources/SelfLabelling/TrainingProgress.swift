/// Where a run stands: the trainer owns one value and a checkpoint stores it as is (its fields sit at the top
/// level of the checkpoint's `selflabel.state` JSON, the format since the first checkpoints).
public struct TrainingProgress: Codable, Sendable, Equatable {
    /// Epoch to continue in.
    public var epoch = 0
    /// Batch within `epoch` to continue at (0 = the epoch's start).
    public var batch = 0
    /// Global iteration counter (`epoch · batchesPerEpoch + batch`).
    public var iteration = 0
    /// The label optimisations still to come (stored as `scheduleRemaining`, the times in samples seen).
    public var schedule: LabelSchedule
    /// Label optimisations done so far.
    public var labelOptimisations = 0
    /// Label optimisations so far whose labels were degenerate in some head (empty clusters, or a cluster above
    /// `SinkhornDiagnostics.degenerateShare` times its share); 0 in checkpoints written before it was counted.
    public var degenerateLabelOptimisations = 0
    /// Label optimisations so far in which some head stopped at the Sinkhorn-Knopp iteration cap (0 in
    /// checkpoints written before it was counted).
    public var cappedLabelOptimisations = 0
    /// Lowest epoch-mean loss so far (nil before the first complete epoch).
    public var lowestLoss: Double?
    /// Best held-out kNN top-1 so far (`--knn-every`; nil before the first measurement).
    public var bestKNN: Double?
    /// Sum and count of the losses of the current epoch so far (for its mean).
    public var epochLossSum = 0.0
    public var epochLossCount = 0

    /// A run at its start, with the label optimisations of `schedule` to come.
    public init(schedule: LabelSchedule) { self.schedule = schedule }

    /// Whether nothing has run yet.
    public var isAtStart: Bool { epoch == 0 && batch == 0 && iteration == 0 }

    /// Mean loss of the current epoch so far (0 before its first batch).
    public var epochMeanLoss: Double { epochLossSum / Double(max(epochLossCount, 1)) }

    /// Counts one SGD step on `images` images with mean loss `loss`.
    public mutating func recordStep(loss: Double, images: Int) {
        epochLossSum += loss * Double(images)
        epochLossCount += images
        batch += 1
        iteration += 1
    }

    /// Closes the current epoch: returns its mean loss and whether it is the lowest so far, and moves to the
    /// next epoch's start.
    public mutating func finishEpoch() -> (meanLoss: Double, isLowest: Bool) {
        let mean = epochMeanLoss
        let isLowest = lowestLoss.map { mean < $0 } ?? true
        if isLowest { lowestLoss = mean }
        epoch += 1
        batch = 0
        epochLossSum = 0
        epochLossCount = 0
        return (mean, isLowest)
    }

    private enum CodingKeys: String, CodingKey {
        case epoch, batch, iteration, scheduleRemaining, labelOptimisations, lowestLoss, epochLossSum, epochLossCount
        case degenerateLabelOptimisations, bestKNN
        case cappedLabelOptimisations
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(Int.self, forKey: .epoch)
        batch = try c.decode(Int.self, forKey: .batch)
        iteration = try c.decode(Int.self, forKey: .iteration)
        schedule = LabelSchedule(remaining: try c.decode([Double].self, forKey: .scheduleRemaining))
        labelOptimisations = try c.decode(Int.self, forKey: .labelOptimisations)
        degenerateLabelOptimisations = try c.decodeIfPresent(Int.self, forKey: .degenerateLabelOptimisations) ?? 0
        cappedLabelOptimisations = try c.decodeIfPresent(Int.self, forKey: .cappedLabelOptimisations) ?? 0
        lowestLoss = try c.decodeIfPresent(Double.self, forKey: .lowestLoss)
        bestKNN = try c.decodeIfPresent(Double.self, forKey: .bestKNN)
        epochLossSum = try c.decode(Double.self, forKey: .epochLossSum)
        epochLossCount = try c.decode(Int.self, forKey: .epochLossCount)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(batch, forKey: .batch)
        try c.encode(iteration, forKey: .iteration)
        try c.encode(schedule.remaining, forKey: .scheduleRemaining)
        try c.encode(labelOptimisations, forKey: .labelOptimisations)
        if degenerateLabelOptimisations > 0 {  // absent means 0: earlier states re-encode to the same bytes
            try c.encode(degenerateLabelOptimisations, forKey: .degenerateLabelOptimisations)
        }
        if cappedLabelOptimisations > 0 {  // absent means 0: earlier states re-encode to the same bytes
            try c.encode(cappedLabelOptimisations, forKey: .cappedLabelOptimisations)
        }
        try c.encodeIfPresent(lowestLoss, forKey: .lowestLoss)
        try c.encodeIfPresent(bestKNN, forKey: .bestKNN)
        try c.encode(epochLossSum, forKey: .epochLossSum)
        try c.encode(epochLossCount, forKey: .epochLossCount)
    }
}
