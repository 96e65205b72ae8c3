import Autograd
import DataPipeline
import NeuralNetworks
import Tensors

/// A network's outputs over a whole dataset, in dataset order, computed in evaluation mode without a tape:
/// what kNN, clustering metrics, feature export and label export start from.
public struct NetworkOutputs {
    /// Pre-head features (N, D), or the requested tap flattened to (N, D).
    public var features: Tensor
    /// Per head, the argmax cluster of every image.
    public var headArgmax: [[Int]]
    /// True classes in dataset order (nil when the dataset has none); -1 for images the loader skipped.
    public var targets: [Int]?
    /// Images that could not be decoded (their feature rows are zero).
    public var skipped: [Int]

    /// Runs `network` over `dataset` with `transform` (batches of `batchSize`, `workers` loader threads).
    /// With `tap`, `features` holds that intermediate activation (flattened) instead of the pre-head features.
    public static func compute(network: MultiHeadNetwork, dataset: any Dataset, transform: TransformPipeline,
                               batchSize: Int = 256, workers: Int = 2, kernels: Kernels = .reference,
                               tap: String? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> NetworkOutputs {
        let wasTraining = network.isTraining
        network.setTraining(false)
        defer { network.setTraining(wasTraining) }
        let loader = BatchLoader(dataset: dataset, transform: transform, batchSize: batchSize, shuffle: false,
                                 seed: 0, workers: workers)
        let it = loader.epoch(0)
        let n = dataset.count
        var features: Tensor?
        var argmax = [[Int]](repeating: [Int](repeating: -1, count: n), count: network.heads.count)
        var seen = [Bool](repeating: false, count: n)
        var done = 0
        while let b = try it.next() {
            let tape = Tape(recording: false, kernels: kernels)
            let out = try network.forward(tape.constant(b.images), taps: tap.map { [$0] } ?? [])
            let f = (tap.flatMap { out.taps[$0] } ?? out.features).value.flattened(from: 1).contiguous()
            let d = f.shape[1]
            if features == nil { features = Tensor.zeros([n, d]) }
            features!.withUnsafeMutableBufferPointer { dst in
                f.withUnsafeBufferPointer { src in
                    for (row, index) in b.indices.enumerated() {
                        (dst.baseAddress! + index * d).update(from: src.baseAddress! + row * d, count: d)
                    }
                }
            }
            for (h, logits) in out.heads.enumerated() {
                let am = logits.value.argmax(alongAxis: 1)
                for (row, index) in b.indices.enumerated() { argmax[h][index] = am[row] }
            }
            for index in b.indices { seen[index] = true }
            done += b.indices.count
            progress?(done, n)
        }
        let skipped = (0..<n).filter { !seen[$0] }
        var targets = dataset.targets
        if targets != nil { for i in skipped { targets![i] = -1 } }
        return NetworkOutputs(features: features ?? Tensor.zeros([0, network.featureDimension]),
                              headArgmax: argmax, targets: targets, skipped: skipped)
    }
}
