import Dispatch
import Foundation
import NeuralNetworks
import Tensors

/// `selflabel bench label-pass`: the label optimisation's memory-bounded half on synthetic pre-head features
/// (no network): features stored as a real run would (`LabelPassMemoryPlan`, RAM or spill files), then head by
/// head the scores from blockwise GEMMs and the Sinkhorn-Knopp solve, timed and reported per head.
public enum LabelPassBenchmark {
    /// What one head took.
    public struct Head: Sendable {
        public var head: Int
        /// Seconds of the blockwise GEMMs (with the spill writes), and of the solve.
        public var scoresSeconds: Double, solveSeconds: Double
        public var iterations: Int
        public var method: String
        /// Peak resident memory of the process so far (MB).
        public var peakRSSMegabytes: Double
    }

    /// Synthetic features in [0, 1) (uniform, as ReLU features are non-negative; Xoshiro256 seeded with
    /// (seed, row), so they do not depend on threads), heads `Linear(D, K)` with N(0, (1.5/‖f‖)²) weights (logits of
    /// standard deviation about 1.5, peaked at λ = 25 like a trained network's). Calls `planned` with the plan
    /// before anything large is allocated, `generated` with the generation seconds, and `headDone` after each
    /// head; throws `TrainingError.labelPassTooLarge` when the plan does not fit.
    public static func run(samples n: Int, dimension d: Int, heads: Int, clusters k: Int,
                           element: LabelPassFeatureElement?, budgetBytes: Int?, folder: String,
                           options: SinkhornOptions, blockRows: Int = 256, seed: UInt64 = 0,
                           planned: (LabelPassMemoryPlan) -> Void, generated: (Double) -> Void,
                           headDone: (Head) -> Void) throws {
        let solver = try SinkhornKnoppSolver(options: options)
        let budget = budgetBytes ?? ResourceUsage.availableMemoryBytes.map { $0 / 4 * 3 } ?? Int.max
        let plan = try LabelPassMemoryPlan.make(samples: n, dimension: d, heads: heads, clusters: k, element: element,
                                                solverBytes: solver.memoryPlan(samples: n, clusters: k).totalBytes,
                                                blockRows: blockRows, budget: budget,
                                                diskFree: SpillFile.freeDiskBytes(folder: folder))
        planned(plan)
        let started = ResourceUsage.monotonicSeconds
        let features = try LabelPassFeatures(samples: n, dimension: d, element: plan.element,
                                             spillFolder: plan.featuresSpilled ? folder : nil)
        let chunk = 4096
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: chunk * d)
        defer { buffer.deallocate() }
        var start = 0
        while start < n {
            let rows = start..<min(n, start + chunk)
            let out = UnsafeSendable(buffer)
            DispatchQueue.concurrentPerform(iterations: ComputeThreads.count) { t in
                let count = rows.count, threads = ComputeThreads.count
                for r in (count * t / threads)..<(count * (t + 1) / threads) {
                    var rng = Xoshiro256(seed: seed, UInt64(rows.lowerBound + r))
                    let row = out.value + r * d
                    for j in 0..<d { row[j] = Float(rng.next() >> 40) * 0x1p-24 }
                }
            }
            for r in rows { features.write(r, from: buffer + (r - rows.lowerBound) * d) }
            features.release(rows)
            start = rows.upperBound
        }
        generated(ResourceUsage.monotonicSeconds - started)
        var rng = Xoshiro256(seed: seed, 0x4845_4144)
        let std = Float(1.5 / (Double(d) / 3).squareRoot())
        let layers = (0..<heads).map { _ in
            let l = Linear(d, k, generator: &rng)
            l.initializeNormal(std: std, generator: &rng)
            return l
        }
        let scoring = LabelPassHeads(features: features, heads: layers, kernels: Kernels(named: .cpu),
                                     blockRows: blockRows, plan: plan, spillFolder: folder)
        var headStarted = ResourceUsage.monotonicSeconds
        var fileSolver: SinkhornKnoppSolver? = nil
        try scoring.forEachHead(Array(0..<heads)) { h, scores, spilled in
            let solving = ResourceUsage.monotonicSeconds
            if spilled && fileSolver == nil {
                var o = options
                o.releaseFileBackedScores = true
                fileSolver = try SinkhornKnoppSolver(options: o)
            }
            let r = try (spilled ? fileSolver! : solver).solveHead(scores.baseAddress!, head: h, n: n, k: k, warmStart: nil)
            let done = ResourceUsage.monotonicSeconds
            headDone(Head(head: h, scoresSeconds: solving - headStarted, solveSeconds: done - solving,
                          iterations: r.diagnostics.iterations, method: r.diagnostics.method.rawValue,
                          peakRSSMegabytes: ResourceUsage.peakRSSMegabytes))
            headStarted = ResourceUsage.monotonicSeconds
        }
    }
}
