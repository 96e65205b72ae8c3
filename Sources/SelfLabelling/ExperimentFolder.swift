import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The experiment folder (`--exp`) before a run writes into it: created and checked writable with one clear
/// error line, never mixed with an earlier run, and cleared of temporary files a killed run left behind.
public enum ExperimentFolder {
    /// What a training run writes at the top of its folder; any of them means a run is already there.
    public static let runEntries = ["checkpoints", "model_init.safetensors", "model_final.safetensors", "labels.npy",
                                    "labels.csv", "metrics.jsonl", "runs", "summary.json", "clusters", "report.html"]

    /// True when `path` holds (part of) an earlier training run.
    public static func holdsRun(_ path: String) -> Bool {
        runEntries.contains { FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent($0)) }
    }

    /// For a fresh run: refuses a folder that holds an earlier run (naming `--resume` and `--overwrite`), or with
    /// `overwrite` first moves that run aside to `<path>.old-<n>` (returned). Nothing of the old run is deleted.
    @discardableResult
    public static func claimForFreshRun(_ path: String, overwrite: Bool) throws -> String? {
        guard holdsRun(path) else { return nil }
        guard overwrite else { throw TrainingError.experimentExists(folder: path) }
        var n = 1
        while FileManager.default.fileExists(atPath: "\(path).old-\(n)") { n += 1 }
        let aside = "\(path).old-\(n)"
        guard rename(path, aside) == 0 else {
            throw TrainingError.experimentFolder(path: path, reason: "could not move the earlier run aside to \(aside): "
                + String(cString: strerror(errno)))
        }
        return aside
    }

    /// Creates `path` (and its parents) if needed and proves it writable by creating and removing a file in it.
    public static func prepare(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw TrainingError.experimentFolder(path: path, reason: "it exists and is not a folder")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw TrainingError.experimentFolder(path: path, reason: "cannot create it: " + reason(error))
            }
        }
        let probe = (path as NSString).appendingPathComponent(".write-test-\(getpid())")
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw TrainingError.experimentFolder(path: path, reason: "cannot write in it: " + String(cString: strerror(errno)))
        }
        close(fd)
        unlink(probe)
    }

    /// Removes temporary files (`*.tmp-*`, from `AtomicFile`) that a killed run left in `path` and in
    /// `path/checkpoints`; returns their paths. Only call this when no other process writes into the folder.
    @discardableResult
    public static func removeStaleTemporaries(_ path: String) -> [String] {
        var removed: [String] = []
        for folder in [path, (path as NSString).appendingPathComponent("checkpoints")] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.contains(".tmp-") {
                let p = (folder as NSString).appendingPathComponent(name)
                if unlink(p) == 0 { removed.append(p) }
            }
        }
        return removed
    }

    /// A system error as a short phrase (the POSIX message when there is one).
    private static func reason(_ error: Error) -> String {
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if (error as NSError).domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32((error as NSError).code))) }
        return (error as NSError).localizedDescription
    }
}
