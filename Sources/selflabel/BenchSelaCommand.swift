import ArgumentParser
import DataPipeline
import Foundation
import SelfLabelling
import Tensors

/// `selflabel bench sela`: one fixed, small SeLa run end to end — the embedded CIFAR-10 subset (5,000 training
/// images, 1,000 held out; the same images as `sela_ref.py --data cifar10:5000:1000`), `convnet_tiny`,
/// 10 heads × 100 clusters — then one JSON line with the settings, threads and load, the training wall time by
/// phase (pseudo-label passes, Sinkhorn-Knopp, SGD steps, waiting for data; plus one decode-and-augment epoch
/// of the loader timed alone) and the held-out metrics at random initialisation and after training (head-0
/// NMI, weighted-kNN top-1 with k 10, σ 0.1). The number docs/PERFORMANCE.md tracks for whole runs.
/// `--data DIR` runs the same on an image folder (train/ and val/ or test/, with true classes) instead, e.g. the
/// grey digits-like folder of `scripts/data/make_grey_digits_folder.py`; `--augs`, `--hue` and `--normalization`
/// set the training input as `selflabel train` does (`scripts/reference/sela_acceptance.sh` runs it against
/// `shared/reference/sela_ref.py` at equal settings).
struct BenchSelaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sela",
        abstract: "Run a fixed small SeLa (embedded CIFAR-10, convnet_tiny) and print phase times and held-out metrics as one JSON line.")

    @Option(help: "Epochs (default 6: a few minutes on 2 cores).") var epochs: Int = 6
    @Option(help: "Heads.") var hc: Int = 10
    @Option(help: "Clusters per head.") var ncl: Int = 100
    @Option(help: "Label optimisations (quadratic schedule, the first before the first step).") var nopts: Int = 10
    @Option(help: "Sinkhorn-Knopp λ.") var lamb: Double = 10
    @Option(help: "Learning rate (constant).") var lr: Double = 0.03
    @Option(help: "Weight decay (the value, not the exponent).") var weightDecay: Double = 5e-4
    @Option(help: "Batch size.") var batchSize: Int = 128
    @Option(help: "Compute threads.") var threads: Int = ComputeThreads.defaultCount
    @Option(help: "Data loader threads.") var workers: Int = 2
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Sinkhorn-Knopp arithmetic: f32 or f64.") var dtype: SinkhornPrecision = .f64
    @Option(help: "Sinkhorn-Knopp acceleration: off, anderson or over-relaxation.")
    var acceleration: SinkhornAcceleration = .anderson
    @Option(help: "Experiment folder (default: a temporary folder, removed afterwards).") var exp: String?
    @Option(help: "An image folder with train/ and val/ (or test/) and true classes instead of the embedded CIFAR-10 subset.")
    var data: String?
    @Option(help: "Training augmentation, as selflabel train --augs (default full).") var augs: String = "full"
    @Option(help: "Hue range of the colour jitter on RGB data, 0-0.5 (default 0.4, official; 0: none, as sela_ref.py's full).")
    var hue: Double = TransformPipeline.officialHue
    @Option(help: "Input normalisation, as selflabel train --normalization (default auto).") var normalization: String = "auto"

    func validate() throws {
        guard epochs >= 1, hc >= 1, ncl >= 2, nopts >= 1, batchSize >= 1, threads >= 1, workers >= 0 else {
            throw ValidationError("--epochs, --hc, --nopts, --batch-size, --threads must be >= 1, --ncl >= 2, --workers >= 0")
        }
        guard lr > 0, lamb > 0, weightDecay > 0 else { throw ValidationError("--lr, --lamb and --weight-decay must be > 0") }
        guard Augmentation(rawValue: augs) != nil else { throw ValidationError("--augs \(augs): unknown augmentation") }
        do { try configuration.validate() } catch { throw ValidationError(error.description) }
    }

    /// The run's settings (the embedded demo's network and label settings with this command's values).
    var configuration: TrainingConfiguration {
        var c = TrainingConfiguration.embeddedDemo
        c.hc = hc; c.ncl = ncl; c.epochs = epochs; c.nopts = nopts; c.lamb = lamb; c.lr = lr
        c.wd = log10(weightDecay); c.batchSize = batchSize; c.threads = threads; c.workers = workers; c.seed = seed
        c.schedule = .quadratic; c.dtype = dtype; c.skAcceleration = acceleration
        c.data = data; c.augs = Augmentation(rawValue: augs) ?? .full; c.hue = hue; c.normalization = normalization
        c.comment = "bench-sela"; c.logIter = 1_000_000
        return c
    }

    func run() throws {
        let folder = exp ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("selflabel-bench-sela-\(UUID().uuidString)")
        defer { if exp == nil { try? FileManager.default.removeItem(atPath: folder) } }
        var c = configuration
        c.exp = folder
        let load = BenchSelaCommand.loadAverage()
        var run = TrainingRun(configuration: c, resume: false)
        run.overwrite = true
        run.compareHeldOut = true
        let outcome = try run.execute()
        guard case let .completed(summary, heldOut?) = outcome else {
            // Stopped by a signal (or without a held-out comparison): one line, no usage text, and the shell's
            // "stopped by signal" exit status where a signal did it.
            let kept = exp == nil ? "; its temporary folder is removed, so it cannot be resumed (give --exp to keep one)" : ""
            FileHandle.standardError.write(Data("Error: the benchmark run was stopped before it completed\(kept)\n".utf8))
            if case let .stopped(signal?) = outcome { throw ExitCode(128 + signal) }
            throw ExitCode.failure
        }
        // One decode-and-augment epoch of the training images, alone (what the loader's workers do per epoch).
        let train: any Dataset = try data.map { try DatasetLocator.open($0, split: .train) } ?? EmbeddedCIFAR10.train
        let transform = try c.resolvingInput(train: train, threads: max(workers, 1)).transforms.train
        let loader = BatchLoader(dataset: train, transform: transform,
                                 batchSize: batchSize, shuffle: true, seed: seed, workers: workers)
        let decodeStart = ResourceUsage.monotonicSeconds
        let it = loader.epoch(0)
        while try it.next() != nil {}
        let decodeSeconds = ResourceUsage.monotonicSeconds - decodeStart
        let p = summary.phases
        var line = JSONLine(["what": "sela", "impl": "swift", "data": data.map { "folder:" + $0 } ?? "embedded-cifar10:5000:1000",
                             "augs": augs, "hue": hue, "normalization": normalization, "arch": c.arch.rawValue,
                             "hc": hc, "ncl": ncl, "epochs": epochs, "nopts": nopts, "lamb": lamb, "lr": lr,
                             "weight_decay": weightDecay, "batch_size": batchSize, "schedule": "quadratic",
                             "sk_dtype": dtype.rawValue, "sk_acceleration": acceleration.rawValue, "threads": threads,
                             "workers": workers, "seed": seed, "load_average_1min": load,
                             "train_seconds": summary.seconds, "label_pass_seconds": p.labelPassSeconds,
                             "sinkhorn_seconds": p.sinkhornSeconds, "sgd_seconds": p.sgdSeconds,
                             "data_wait_seconds": p.dataWaitSeconds, "decode_epoch_seconds": decodeSeconds,
                             "label_optimisations": summary.labelOptimisations,
                             "sinkhorn_iterations_total": p.sinkhornIterations,
                             "sinkhorn_iterations_max": p.maxSinkhornIterations,
                             "sinkhorn_capped_label_optimisations": summary.cappedLabelOptimisations,
                             "final_loss": summary.finalLoss])
        line.append("nmi_head0", heldOut.trained.nmi)
        line.append("knn_top1", heldOut.trained.knnTop1)
        line.append("nmi_head0_random_init", heldOut.randomInitialisation?.nmi ?? Double.nan)
        line.append("knn_top1_random_init", heldOut.randomInitialisation?.knnTop1 ?? Double.nan)
        line.append("peak_rss_mb", ResourceUsage.peakRSSMegabytes)
        print(line.text)
    }

    /// The 1-minute load average (`/proc/loadavg`), or -1 where it cannot be read.
    static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let value = Double(first) else { return -1 }
        return value
    }
}
