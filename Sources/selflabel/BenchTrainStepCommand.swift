import ArgumentParser
import Autograd
import SelfLabelling
import Distributed
import NeuralNetworks
import Tensors

/// `selflabel bench train-step`: times full SeLa training steps on a fixed random batch — forward in training
/// mode, multi-head cross-entropy, backward, SGD (momentum 0.9, weight decay 1e-5) — and prints one JSON line.
/// `scripts/reference/train_step_torch.py` times the same step in PyTorch with the same fields.
/// Under `mpirun -np R` it times data-parallel steps (`BenchTrainStepCommand+Distributed.swift`).
struct BenchTrainStepCommand: ParsableCommand, DistributedCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-step",
        abstract: "Time full training steps (forward, multi-head loss, backward, SGD); prints one JSON line.")

    @Option(help: "Architecture: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")).")
    var arch: Architecture = .alexnetCIFAR
    @Option(help: "Images per step.") var batch: Int = 128
    @Option(help: "Number of classification heads.") var hc: Int = 10
    @Option(help: "Classes per head.") var ncl: Int = 128
    @Option(help: "Compute threads (oneDNN/OpenMP, OpenBLAS and our loops).") var threads: Int = ComputeThreads.defaultCount
    @Option(help: "Timed steps.") var steps: Int = 10
    @Option(help: "Untimed warm-up steps.") var warmup: Int = 2
    @Option(help: "Kernel backend: reference or cpu (oneDNN).") var backend: Kernels.Name = .cpu
    @Option(help: "Seed for weights, batch and targets.") var seed: UInt64 = 0
    @Flag(help: "Also print one JSON line per kernel op (total ms over the timed steps) and per phase.")
    var profile = false
    @Option(help: "Under mpirun: gradient bucket size in MB (each bucket's allreduce starts when its gradients are complete).")
    var bucketMb: Double = Double(DataParallelDefaults.bucketBytes) / 1e6
    @Flag(help: "Under mpirun: no progress thread; the reductions advance only in the MPI calls of the backward sweep and the final wait.")
    var noProgressThread = false

    func validate() throws {
        guard batch >= 2 else { throw ValidationError("--batch must be at least 2 (batch norm), got \(batch)") }
        guard hc >= 1, ncl >= 1 else { throw ValidationError("--hc and --ncl must be positive, got \(hc), \(ncl)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard steps >= 1, warmup >= 0 else { throw ValidationError("--steps >= 1 and --warmup >= 0 required") }
    }

    func run() throws {
        let world = try DistributedJob.start()
        if world.size > 1 {
            try DistributedJob.run(world) { try runDistributed(world) }
            return
        }
        ComputeThreads.set(threads)
        let r = try TrainStepBenchmark.run(architecture: arch, batch: batch, heads: hc, classes: ncl,
                                           steps: steps, warmup: warmup, kernels: Kernels(named: backend), seed: seed,
                                           profile: profile)
        let ms = r.stepSeconds.map { $0 * 1000 }
        let sorted = ms.sorted()
        let mean = ms.reduce(0, +) / Double(ms.count)
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        print(JSONLine(["what": "train_step", "impl": "swift", "backend": backend.rawValue, "arch": arch.rawValue,
                        "batch": batch, "hc": hc, "ncl": ncl, "threads": threads, "steps": steps,
                        "images_per_second": Double(batch) / (mean / 1000),
                        "ms_per_step_mean": mean, "ms_per_step_median": median, "ms_per_step_min": sorted[0],
                        "parameters": r.parameterCount, "peak_rss_mb": ResourceUsage.peakRSSMegabytes,
                        "final_loss": r.finalLoss]).text)
        if let p = r.profile {
            for (phase, seconds) in r.phases {
                print(JSONLine(["what": "train_step_phase", "arch": arch.rawValue, "phase": phase,
                                "ms_per_step": seconds * 1000 / Double(steps)]).text)
            }
            for e in p.entries {
                print(JSONLine(["what": "train_step_op", "arch": arch.rawValue, "op": e.op, "backend": e.backend,
                                "calls_per_step": Double(e.calls) / Double(steps),
                                "ms_per_step": e.seconds * 1000 / Double(steps)]).text)
            }
        }
    }
}

/// The measured step loop, separate from argument parsing.
enum TrainStepBenchmark {
    struct Result {
        var stepSeconds: [Double]
        var parameterCount: Int
        var finalLoss: Float
        var profile: KernelProfile?
        /// Seconds summed over the timed steps per phase (forward+loss, backward, sgd) when profiling.
        var phases: [(String, Double)]
    }

    static func run(architecture: Architecture, batch: Int, heads: Int, classes: Int, steps: Int, warmup: Int,
                    kernels: Kernels, seed: UInt64, profile: Bool) throws -> Result {
        var rng = Xoshiro256(seed: seed)
        let net = architecture.build(heads: [Int](repeating: classes, count: heads), generator: &rng)
        net.setTraining(true)
        let size = architecture.inputSize
        let images = Tensor.randomNormal([batch, 3, size, size], using: &rng)
        let targets = (0..<heads).map { _ in (0..<batch).map { _ in Int32(rng.next() % UInt64(classes)) } }
        let sgd = SGD(parameters: net.namedParameters(), learningRate: 0.01, momentum: 0.9, weightDecay: 1e-5)
        let profiler = profile ? KernelProfile() : nil
        let stepKernels = profiler.map { p in Kernels(preferring: kernels.backends.map { ProfilingBackend($0, profile: p) }) }
            ?? kernels
        var times: [Double] = []
        var phases = [("forward_loss", 0.0), ("backward", 0.0), ("sgd", 0.0)]
        var loss: Float = 0
        for step in 0..<(warmup + steps) {
            let timed = step >= warmup
            if timed && step == warmup { profiler?.reset() }
            let t0 = ResourceUsage.monotonicSeconds
            let tape = Tape(recording: true, kernels: stepKernels, generator: Xoshiro256(seed: seed, UInt64(step)))
            let out = try net.forward(tape.constant(images))
            let l = try multiHeadCrossEntropy(out.heads, targets: targets)
            loss = l.value.scalar
            let t1 = ResourceUsage.monotonicSeconds
            let grads = tape.gradients(of: l)
            let t2 = ResourceUsage.monotonicSeconds
            sgd.step(grads)
            let t3 = ResourceUsage.monotonicSeconds
            if timed {
                times.append(t3 - t0)
                phases[0].1 += t1 - t0; phases[1].1 += t2 - t1; phases[2].1 += t3 - t2
            }
        }
        return Result(stepSeconds: times, parameterCount: net.parameterCount, finalLoss: loss, profile: profiler,
                      phases: profile ? phases : [])
    }
}
