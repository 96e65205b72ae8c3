import ArgumentParser
import DataPipeline
import Foundation
import Tensors

/// `selflabel bench data`: input-pipeline throughput (decode + augment + batch) on an image folder, or on the
/// embedded CIFAR-10 subset when `--data` is not given. Prints one JSON line.
/// Reference: `scripts/reference/data_torchvision.py` does the same with torchvision + PIL and a DataLoader.
struct BenchDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Time the data loader (decode, augment, batch); prints one JSON line with images/s and peak RSS.")

    @Option(help: "Dataset root with train/ and val/ or test/ (default: the embedded CIFAR-10 subset).")
    var data: String?
    @Option(help: "Which split to read: train or test (test = val/ or test/).") var split: String = "train"
    @Option(help: "Augmentation level 0-3 (official SeLa pipelines, ImageNet mean/std); -1 = official CIFAR, 32 = native CIFAR 32x32.")
    var augs: Int = 3
    @Option(help: "Resize target (shorter side) for the pipelines that resize.") var imageSize: Int = 256
    @Option(help: "Crop size (output height and width).") var cropSize: Int = 224
    @Option(help: "Batch size.") var batch: Int = 256
    @Option(help: "Loader worker threads (0 = build batches on the calling thread).") var workers: Int = 2
    @Option(help: "Epochs to time.") var epochs: Int = 1
    @Option(help: "Seed of the shuffling and augmentation.") var seed: UInt64 = 0
    @Flag(help: "Decode JPEGs at full size (no DCT-domain downscaling).") var exactDecoding = false
    @OptionGroup var imageLimit: ImageLimitOptions

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        guard workers >= 0 else { throw ValidationError("--workers must be >= 0, got \(workers)") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard cropSize >= 1, imageSize >= 1 else { throw ValidationError("--crop-size and --image-size must be positive") }
        guard split == "train" || split == "test" else { throw ValidationError("--split must be train or test, got \(split)") }
        guard [-1, 0, 1, 2, 3, 32].contains(augs) else {
            throw ValidationError("--augs must be 0, 1, 2, 3, -1 (CIFAR) or 32 (native CIFAR), got \(augs)")
        }
    }

    func run() throws {
        imageLimit.apply()
        let dataset: any Dataset
        let scanStart = ResourceUsage.monotonicSeconds
        if let data {
            dataset = try ImageFolderDataset.split(root: data, split == "train" ? .train : .evaluation)
        } else {
            dataset = split == "train" ? try EmbeddedCIFAR10.train : try EmbeddedCIFAR10.test
        }
        let scanSeconds = ResourceUsage.monotonicSeconds - scanStart
        let pipeline: TransformPipeline
        switch augs {
        case -1: pipeline = .cifarTraining(imageSize: imageSize, cropSize: cropSize)
        case 32: pipeline = .cifarNative(size: cropSize)
        default: pipeline = .official(augs: augs, imageSize: imageSize, cropSize: cropSize)!
        }
        let loader = BatchLoader(dataset: dataset, transform: pipeline, batchSize: batch, shuffle: true, seed: seed,
                                 workers: workers, fastDecoding: !exactDecoding)
        let cpu0 = BenchDataCommand.cpuSeconds()
        let start = ResourceUsage.monotonicSeconds
        var images = 0, skipped = 0
        var checksum: Float = 0
        for e in 0..<epochs {
            let it = loader.epoch(e)
            while let b = try it.next() {
                images += b.indices.count
                checksum += b.images.withUnsafeBufferPointer { $0[0] }
            }
            skipped += it.skipped.count
        }
        let seconds = ResourceUsage.monotonicSeconds - start
        let cpu = BenchDataCommand.cpuSeconds() - cpu0
        var line = JSONLine(["what": "data_loader", "implementation": "selflabel", "data": data ?? "embedded-cifar10",
                             "split": split, "images_in_split": dataset.count, "scan_seconds": scanSeconds, "augs": augs, "image_size": imageSize,
                             "crop_size": cropSize, "batch": batch, "workers": workers, "epochs": epochs,
                             "images": images, "seconds": seconds, "images_per_s": Double(images) / seconds,
                             "cpu_seconds": cpu, "cpu_ms_per_image": 1000 * cpu / Double(max(images, 1)),
                             "skipped": skipped, "peak_rss_mb": ResourceUsage.peakRSSMegabytes])
        line.append("checksum_finite", checksum.isFinite)
        print(line.text)
    }

    /// User + system CPU time of this process (all threads), seconds.
    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6
            + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) * 1e-6
    }
}
