import Autograd
import DataPipeline
import Distributed
import Foundation
import NeuralNetworks
import Tensors

/// Data-parallel training across the ranks of an MPI job (`mpirun -np R selflabel train`, docs/DISTRIBUTED.md):
/// what the trainer keeps for it. Built only when the communicator has more than one rank; a single process
/// never touches any of it.
final class DataParallel {
    let communicator: any Communicator
    let buckets: GradientBuckets
    /// `--sync-bn`: batch norm over the global batch.
    let synchronizedBatchNorm: Bool
    init(network: MultiHeadNetwork, communicator: any Communicator, synchronizedBatchNorm: Bool,
         bucketBytes: Int = DataParallelDefaults.bucketBytes) {
        self.communicator = communicator
        self.synchronizedBatchNorm = synchronizedBatchNorm
        buckets = GradientBuckets(parameters: network.namedParameters().map(\.parameter), communicator: communicator,
                                  bucketBytes: bucketBytes)
        if synchronizedBatchNorm {
            let group = CommunicatorStatisticsGroup(communicator: communicator)
            network.visitLayers { ($0 as? BatchNorm2d)?.statisticsGroup = group }
        }
    }

    /// This rank's share of every batch.
    var shard: BatchShard { BatchShard(rank: communicator.rank, ranks: communicator.size) }

    /// The settings data-parallel training cannot run with, as the error to stop with (nil: none).
    static func refusal(_ c: TrainingConfiguration, ranks: Int) -> TrainingConfigurationError? {
        if c.batchSize % ranks != 0 {
            return TrainingConfigurationError(option: "--batch-size", value: "\(c.batchSize)",
                rule: "is the global batch and must be a multiple of the \(ranks) ranks (each takes batch-size / ranks images)")
        }
        if c.pseudoLabelPassMode == .official {
            return TrainingConfigurationError(option: "--pl-mode", value: "official",
                rule: "is not available across MPI ranks yet (use --pl-mode eval)")
        }
        if c.saveScores {
            return TrainingConfigurationError(option: "--save-scores", value: "", rule: "is not available across MPI ranks")
        }
        return nil
    }
}

/// Defaults of data-parallel training.
public enum DataParallelDefaults {
    /// Size of a gradient bucket: 4 MiB (PyTorch DDP's `bucket_cap_mb` is 25; smaller buckets start sooner on
    /// the small CIFAR networks).
    public static let bucketBytes = 4 << 20
}

/// One data-parallel step as the run loop sees it.
struct DataParallelStepOutcome {
    /// The global batch's mean loss.
    var loss: Double
    /// This rank's rotation scores (`--rotnet`), over its share only.
    var rotation: RotationScores?
    /// Images in the global batch.
    var images: Int
    /// The stop every rank agreed on after the step (nil: go on).
    var signal: Int32?
}

/// `--sync-bn`'s statistics over the job's ranks. A failed collective inside a backward rule cannot be thrown:
/// the rank prints one line naming itself and ends the whole job.
final class CommunicatorStatisticsGroup: BatchStatisticsGroup {
    let communicator: any Communicator
    init(communicator: any Communicator) { self.communicator = communicator }

    func sumAcrossGroup(_ values: inout [Double]) {
        do {
            try communicator.allreduce(&values, .sum)
        } catch {
            let line = "Error: rank \(communicator.rank) of \(communicator.size): batch-norm statistics: \(error)\n"
            FileHandle.standardError.write(Data(line.utf8))
            MPIContext.abort(code: 1)
        }
    }
}

extension Trainer {
    /// One SGD step of data-parallel training on this rank's share `b` of the global batch: forward on the
    /// share, the global image count and loss (one small allreduce), backward of the share's loss weighted by
    /// its part of the global batch (so the ranks' gradients add up to the global batch's mean-loss gradient)
    /// with the bucketed allreduce overlapping the sweep, the SGD update with the summed gradients (identical
    /// on every rank), and the agreed stop (an allreduce of the stop signal: every rank stops after the same
    /// step).
    func dataParallelStep(_ b: Batch, _ dp: DataParallel) throws -> DataParallelStepOutcome {
        let c = dp.communicator
        // Dropout masks: per step and rank (each rank's images get their own masks).
        let tape = Tape(recording: true, kernels: kernels,
                        generator: Xoshiro256(seed: configuration.seed, 0x4452_4F50, UInt64(progress.iteration), UInt64(c.rank)))
        let local = b.indices.count
        var forward: (loss: Variable, rotation: RotationScores?)?
        if local > 0 {
            forward = try forwardLoss(b, tape: tape)
        } else if dp.synchronizedBatchNorm {
            throw TrainingError.emptyBatchShare(rank: c.rank, epoch: progress.epoch, batch: progress.batch)
        }
        let localMean = forward.map { Double($0.loss.value.scalar) } ?? 0
        var totals = [Double(local), local > 0 ? localMean * Double(local) : 0]
        try c.allreduce(&totals, .sum)
        let images = Int(totals[0])
        guard images > 0 else {  // every file of the global batch was corrupt: no step, as in one process
            return DataParallelStepOutcome(loss: .nan, rotation: nil, images: 0, signal: try agreedStopSignal(dp))
        }
        let loss = totals[1] / totals[0]
        guard loss.isFinite else {
            throw TrainingError.nonFiniteLoss(epoch: progress.epoch, iteration: progress.iteration, loss: loss,
                                              lastCheckpoint: lastCheckpoint)
        }
        try dp.buckets.reduceGradients(of: forward.map { $0.loss * Float(Double(local) / totals[0]) }, on: tape)
        optimizer.step { dp.buckets.gradient(of: $0) }
        return DataParallelStepOutcome(loss: loss, rotation: forward?.rotation, images: images,
                                       signal: try agreedStopSignal(dp))
    }

    /// The stop signal every rank agrees on: the largest signal number any rank received (nil: none did).
    func agreedStopSignal(_ dp: DataParallel) throws -> Int32? {
        let s = try dp.communicator.allreduce(StopRequest.signal ?? 0, .max)
        return s == 0 ? nil : s
    }

    /// Copies the network's state from rank 0 to every rank: parameters and buffers (`parameters: true`, at the
    /// start), or the buffers only — batch norm's running statistics, which each rank updates from its own
    /// share without `--sync-bn`; rank 0's are used wherever they matter (label pass, held-out measurements,
    /// checkpoints), as PyTorch DDP's `broadcast_buffers`.
    func broadcastFromRoot(_ dp: DataParallel, parameters: Bool) throws {
        let slots = parameters ? network.namedStateSlots() : network.namedBuffers()
        for (_, p) in slots {
            var values = p.value.scalars
            try dp.communicator.broadcast(&values, root: 0)
            p.value = Tensor(shape: p.shape, scalars: values)
        }
    }

    /// Whether this process writes the run's files and shows its progress (rank 0, or the single process).
    var writesOutputs: Bool { communicator.isRoot }
}
