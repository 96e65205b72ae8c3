import ArgumentParser
import Autograd
import DataPipeline
import Distributed
import Foundation
import NeuralNetworks
import SelfLabelling
import Tensors

extension BenchTrainStepCommand {
    /// `mpirun -np R selflabel bench train-step`: data-parallel training steps of the global `--batch` (R must
    /// divide it), each rank running its share: forward, loss (weighted by 1/R), the backward sweep with the
    /// gradient buckets' allreduce started as each bucket completes (`GradientBuckets`), SGD. Rank 0 prints one
    /// JSON line: the train-step fields plus `ranks`, the bytes and buckets reduced per step, the time from the
    /// first bucket's start to the last one's completion (`allreduce_ms_per_step`), the part of it the step
    /// waited for after the sweep (`exposed_allreduce_ms_per_step`), a blocking allreduce of the same bytes
    /// timed alone (`blocking_allreduce_ms`), and `overlap` = 1 − exposed / blocking.
    func runDistributed(_ world: any Communicator) throws {
        guard batch % world.size == 0 else {
            throw ValidationError("--batch \(batch) is the global batch and must be a multiple of the \(world.size) ranks")
        }
        ComputeThreads.set(threads)
        let kernels = Kernels(named: backend)
        let (net, images, targets, sgd) = TrainStepBenchmark.setUp(architecture: arch, batch: batch, heads: hc, classes: ncl,
                                                                   seed: seed)
        let share = BatchShard(rank: world.rank, ranks: world.size).positions(0..<batch)  // as the trainer splits
        let mine = images[share], myTargets = targets.map { Array($0[share]) }
        let buckets = GradientBuckets(parameters: net.namedParameters().map(\.parameter), communicator: world,
                                      bucketBytes: Int(bucketMb * 1e6), progressThread: !noProgressThread)
        var times: [Double] = [], backward = 0.0
        var loss: Float = 0
        for step in 0..<(warmup + steps) {
            if step == warmup {
                buckets.resetMeasurement()
                try world.barrier()
            }
            let t0 = ResourceUsage.monotonicSeconds
            let tape = Tape(recording: true, kernels: kernels, generator: Xoshiro256(seed: seed, UInt64(step)))
            let out = try net.forward(tape.constant(mine))
            let l = try multiHeadCrossEntropy(out.heads, targets: myTargets)
            loss = l.value.scalar
            let t1 = ResourceUsage.monotonicSeconds
            try buckets.reduceGradients(of: l * (1 / Float(world.size)), on: tape)
            let t2 = ResourceUsage.monotonicSeconds
            sgd.step { buckets.gradient(of: $0) }
            if step >= warmup {
                times.append(ResourceUsage.monotonicSeconds - t0)
                backward += t2 - t1
            }
        }
        let m = buckets.measurement
        // The same bytes reduced alone, blocking: what the step would wait without any overlap.
        var probe = [Float](repeating: 1, count: m.bytesPerStep / 4)
        var blocking: [Double] = []
        for _ in 0..<3 {
            try world.barrier()
            let t = ResourceUsage.monotonicSeconds
            try world.allreduce(&probe, .sum)
            blocking.append(ResourceUsage.monotonicSeconds - t)
        }
        var worst = [times.reduce(0, +) / Double(times.count)]
        try world.allreduce(&worst, .max)
        guard world.isRoot else { return }
        let ms = times.map { $0 * 1000 }.sorted()
        let mean = worst[0] * 1000
        let blockingMs = blocking.sorted()[1] * 1000
        let exposed = m.exposedSeconds * 1000 / Double(m.steps), communication = m.communicationSeconds * 1000 / Double(m.steps)
        print(JSONLine(["what": "train_step", "impl": "swift", "backend": backend.rawValue, "arch": arch.rawValue,
                        "batch": batch, "hc": hc, "ncl": ncl, "threads": threads, "steps": steps, "ranks": world.size,
                        "images_per_second": Double(batch) / (mean / 1000),
                        "ms_per_step_mean": mean, "ms_per_step_median": ms[ms.count / 2], "ms_per_step_min": ms[0],
                        "backward_ms_per_step": backward * 1000 / Double(steps),
                        "allreduce_bytes_per_step": m.bytesPerStep, "buckets_per_step": m.bucketsPerStep,
                        "allreduce_ms_per_step": communication, "exposed_allreduce_ms_per_step": exposed,
                        "blocking_allreduce_ms": blockingMs, "progress_thread": !noProgressThread, "overlap": max(0, 1 - exposed / blockingMs),
                        "parameters": net.parameterCount, "peak_rss_mb": ResourceUsage.peakRSSMegabytes,
                        "final_loss": loss]).text)
    }
}
