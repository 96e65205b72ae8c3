#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process resource figures for benchmarks and logs.
public enum ResourceUsage {
    /// Peak resident set size of this process so far, in MB (10^6 bytes), from `getrusage` (Linux reports KiB).
    public static var peakRSSMegabytes: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) * 1024 / 1e6
    }

    /// Seconds on a monotonic clock, for timing.
    public static var monotonicSeconds: Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// `MemAvailable` from `/proc/meminfo` in bytes: the memory new allocations can get without swapping
    /// (nil where it cannot be read, e.g. outside Linux). The one reader of that file in the package.
    public static var availableMemoryBytes: Int? {
        #if canImport(Glibc)
        guard let f = fopen("/proc/meminfo", "r") else { return nil }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("MemAvailable:") {
                let digits = text.dropFirst("MemAvailable:".count).filter { $0.isNumber }
                if let kib = Int(digits) { return kib * 1024 }
            }
        }
        return nil
        #else
        return nil
        #endif
    }
}
