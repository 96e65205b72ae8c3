import ArgumentParser
import Dispatch
import Tensors

/// `selflabel bench memory`: the machine's memory read bandwidth, the physical limit of a Sinkhorn iteration.
struct BenchMemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Read bandwidth: SIMD sum over a large float32 buffer, split over threads; one JSON line.")

    @Option(help: "Buffer size in MB (10^6 bytes); far above the caches.") var megabytes: Int = 2048
    @Option(help: "Threads.") var threads: Int = ComputeThreads.defaultCount
    @Option(help: "Timed passes (best and mean reported).") var repeats: Int = 5

    func validate() throws {
        guard megabytes >= 1, threads >= 1, repeats >= 1 else {
            throw ValidationError("--megabytes, --threads and --repeats must be at least 1")
        }
    }

    func run() throws {
        ComputeThreads.set(threads)
        let count = megabytes * 1_000_000 / 4 / 64 * 64
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        defer { buffer.deallocate() }
        parallelChunks(count, minChunk: 1 << 16) { r in
            for i in r { buffer[i] = Float(i & 1023) * 1e-3 }
        }
        var times: [Double] = []
        var checksum = 0.0
        for _ in 0..<(repeats + 1) {  // the first pass is an untimed warm-up
            let t0 = ResourceUsage.monotonicSeconds
            checksum = BenchMemoryCommand.sum(buffer, count: count, threads: threads)
            times.append(ResourceUsage.monotonicSeconds - t0)
        }
        times.removeFirst()
        let bytes = Double(count * 4)
        let best = times.min()!, mean = times.reduce(0, +) / Double(times.count)
        print(JSONLine(["what": "memory_read", "bytes": count * 4, "threads": threads, "iterations": repeats,
                        "seconds_best": best, "seconds_mean": mean, "gb_per_s_best": bytes / best / 1e9,
                        "gb_per_s_mean": bytes / mean / 1e9, "checksum": checksum,
                        "peak_rss_mb": ResourceUsage.peakRSSMegabytes]).text)
    }

    /// Σ buffer with four SIMD16 accumulators per thread (the same access pattern as the Sinkhorn pass).
    static func sum(_ p: UnsafeMutablePointer<Float>, count: Int, threads: Int) -> Double {
        let parts = UnsafeMutablePointer<Double>.allocate(capacity: threads)
        defer { parts.deallocate() }
        parts.initialize(repeating: 0, count: threads)
        let box = UnsafeSendable((p, parts))
        let vectors = count / 64
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let (p, parts) = box.value
            let r = (vectors * t / threads)..<(vectors * (t + 1) / threads)
            let raw = UnsafeRawPointer(p)
            var a0 = SIMD16<Float>(), a1 = a0, a2 = a0, a3 = a0
            for v in r {
                let q = raw + v * 256
                a0 += q.load(as: SIMD16<Float>.self)
                a1 += q.load(fromByteOffset: 64, as: SIMD16<Float>.self)
                a2 += q.load(fromByteOffset: 128, as: SIMD16<Float>.self)
                a3 += q.load(fromByteOffset: 192, as: SIMD16<Float>.self)
            }
            parts[t] = Double(((a0 + a1) + (a2 + a3)).sum())
        }
        var s = 0.0
        for i in 0..<threads { s += parts[i] }
        return s
    }
}
