import Foundation
import Interop

#if canImport(Glibc)
import Glibc
#endif

/// The output files of `selflabel label`, checked before the (possibly minutes-long) solve and written so
/// that a failure leaves no output half-done.
struct LabelOutputs {
    /// The labels `.npy` and the optional diagnostics JSON.
    let labels: String
    let report: String?

    /// Refuses an output that is the input file, two outputs that are one file, and any output that cannot be
    /// created (missing or read-only folder, a directory in the way), naming the path.
    func check(input: String) throws {
        let outputs = [("--out", labels)] + (report.map { [("--report", $0)] } ?? [])
        for (flag, path) in outputs {
            if Self.sameFile(path, input) {
                throw FileIOError(path: path, operation: "write \(flag)", reason: "it is the input --logits file")
            }
            try Self.probeWritable(path, flag: flag)
        }
        if let report, Self.sameFile(report, labels) {
            throw FileIOError(path: report, operation: "write --report", reason: "it is also the --out file")
        }
    }

    /// Writes the report (if any) and then the labels, each atomically; if the labels cannot be written, the
    /// report just written is removed again.
    func write(labels values: [Int64], shape: [Int], reportText: String) throws {
        if let report { try AtomicFile.write(to: report, text: reportText) }
        do {
            try Npy.write(values, shape: shape, to: labels)
        } catch {
            if let report { unlink(report) }
            throw error
        }
    }

    /// Whether two paths name the same file: the same absolute, symlink-resolved path, or (both existing) the
    /// same device and inode.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        if stat(a, &sa) == 0 && stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        return resolved(a) == resolved(b)
    }

    private static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Creates and removes a temporary file next to `path` (where the atomic write will put its own), and
    /// refuses a directory at `path`.
    static func probeWritable(_ path: String, flag: String) throws {
        var st = stat()
        if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw FileIOError(path: path, operation: "write \(flag)", reason: "it is a directory")
        }
        let probe = path + ".tmp-probe-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            throw FileIOError(path: path, operation: "write \(flag)", reason: String(cString: strerror(code)))
        }
        close(fd)
        unlink(probe)
    }
}
