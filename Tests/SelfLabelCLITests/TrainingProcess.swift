import Foundation
import Testing

/// A `selflabel train` run started as a child process (Foundation `Process`, so SIGINT is not ignored as in a
/// shell's background job), its standard error in a file, optionally held at a `SELFLABEL_DEBUG_PAUSE` point.
struct TrainingProcess {
    /// Tiny settings: convnet_tiny, one head of 4 clusters, batches of 10 (10 per epoch on `writeTinyCIFAR10`),
    /// float32 Sinkhorn-Knopp, one thread, so a run takes seconds and is reproducible bit for bit.
    static let tiny = ["--arch", "convnet_tiny", "--hc", "1", "--ncl", "4", "--batch-size", "10", "--nopts", "3",
                       "--dtype", "f32", "--log-iter", "1", "--workers", "1", "--threads", "1"]

    let process = Process()
    let log: String

    /// Starts `selflabel arguments…` with `SELFLABEL_DEBUG_PAUSE=pause` (if given) and, through `bash`,
    /// `ulimit -f fileSizeLimitKiB` (if given).
    init(_ arguments: [String], pause: String? = nil, fileSizeLimitKiB: Int? = nil, log: String) throws {
        self.log = log
        var environment = ProcessInfo.processInfo.environment
        environment["SELFLABEL_DEBUG_PAUSE"] = pause
        if let limit = fileSizeLimitKiB {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", "ulimit -f \(limit) && exec \"$0\" \"$@\"", selflabelBinary().path] + arguments
        } else {
            process.executableURL = selflabelBinary()
            process.arguments = arguments
        }
        process.environment = environment
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    /// Standard error so far.
    var stderr: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits (at most 120 s) until the run reaches its debug pause; true if it did.
    func waitForPause() -> Bool {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && process.isRunning {
            if stderr.contains("selflabel: debug pause at") { return true }
            usleep(20_000)
        }
        return stderr.contains("selflabel: debug pause at")
    }

    /// Sends `signal` once the run is paused, waits for the exit and returns standard error.
    func signalAtPause(_ signal: Int32) throws -> String {
        let paused = waitForPause()
        #expect(paused, "the run never reached its pause; stderr: \(stderr)")
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return stderr
    }

    /// Waits for the exit and returns standard error.
    func finish() -> String {
        process.waitUntilExit()
        return stderr
    }
}

/// The uninterrupted run of `arguments` (plus `--exp exp`): its final weights and labels, to compare with.
func referenceOutputs(_ arguments: [String], exp: String) throws -> (weights: Data, labels: Data) {
    let r = try runSelflabel(arguments + ["--exp", exp])
    #expect(r.status == 0, "reference run: \(r.stderr)")
    return try finalOutputs(exp)
}

/// The final weights and labels of the run in `exp`.
func finalOutputs(_ exp: String) throws -> (weights: Data, labels: Data) {
    (try Data(contentsOf: URL(fileURLWithPath: exp + "/model_final.safetensors")),
     try Data(contentsOf: URL(fileURLWithPath: exp + "/labels.npy")))
}
