import Dispatch
import CBLAS
import CDNNL

/// How many threads SelfLabel's own kernels and the libraries under them (OpenBLAS, oneDNN/OpenMP) may use.
///
/// One setting for the whole process, like `torch.set_num_threads`: set it once at start-up (the CLI's
/// `--threads`). Our own parallel loops and a library call never run at the same time, so using the same
/// number of threads for each does not oversubscribe the cores.
public enum ComputeThreads {
    nonisolated(unsafe) private static var current: Int = defaultCount

    /// The number of online processors.
    public static var defaultCount: Int { max(1, ProcessInfoLite.activeProcessorCount) }

    /// The thread count in force.
    public static var count: Int { current }

    /// Sets the thread count for our loops, OpenBLAS and oneDNN's OpenMP pool.
    public static func set(_ n: Int) {
        precondition(n >= 1, "ComputeThreads.set: thread count must be >= 1, got \(n)")
        current = n
        openblas_set_num_threads(Int32(n))
        omp_set_num_threads(Int32(n))
    }
}

/// Processor count without Foundation.
enum ProcessInfoLite {
    static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A box that lets a closure passed to `concurrentPerform` capture unsafe pointers (Swift 6 requires
/// `@Sendable`). The caller guarantees that tasks write disjoint memory.
public struct UnsafeSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

/// Splits `0..<count` into at most `ComputeThreads.count` contiguous chunks of at least `minChunk` items and
/// runs `body(chunk)` for each, in parallel when there is more than one chunk. Chunk boundaries depend only
/// on `count`, `minChunk` and the thread count.
public func parallelChunks(_ count: Int, minChunk: Int = 32_768, threads: Int = ComputeThreads.count,
                           _ body: (Range<Int>) -> Void) {
    if count <= 0 { return }
    let chunks = max(1, min(threads, count / max(minChunk, 1)))
    if chunks == 1 { body(0..<count); return }
    withoutActuallyEscaping(body) { body in
        let box = UnsafeSendable(body)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            box.value(lo..<hi)
        }
    }
}
