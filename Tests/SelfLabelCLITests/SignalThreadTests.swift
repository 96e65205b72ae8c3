import Foundation
import TestSupport
import Testing

extension TrainSignalTests {
    /// SIGINT and SIGTERM reach one thread only (issue 12: the rare heap corruption after a stop signal came from
    /// a handler interrupting oneDNN's JIT GEMM, which points the stack register into the heap). While a run is
    /// held mid-epoch with loader workers, two compute threads and Dispatch's threads alive, exactly one thread
    /// waits for the signals (`sigtimedwait`), and it and every thread started after it, the main thread included,
    /// block both (`/proc/PID/task/*/status`, `SigBlk`). Only a library's threads started before `main` (OpenBLAS
    /// starts its pool when loaded) may leave them unblocked. A SIGTERM then still stops the run with a checkpoint
    /// and exit status 143.
    @Test func signalsReachOnlyTheSignalThread() throws {
        let (root, data) = try tinyDataRoot("signal-thread")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let arguments = ["train", "--data", data, "--exp", root + "/exp", "--epochs", "2", "--arch", "convnet_tiny",
                         "--hc", "1", "--ncl", "4", "--batch-size", "10", "--nopts", "3", "--dtype", "f32",
                         "--workers", "2", "--threads", "2"]
        let run = try TrainingProcess(arguments, pause: "iteration:3", log: root + "/stderr.txt")
        #expect(run.waitForPause(), "the run never reached its pause; stderr: \(run.stderr)")

        let pid = Int(run.process.processIdentifier), tasks = "/proc/\(pid)/task"
        var threads: [(tid: Int, waits: Bool, mask: UInt64)] = []
        for task in try FileManager.default.contentsOfDirectory(atPath: tasks) {
            let tid = try #require(Int(task))
            let wchan = (try? String(contentsOfFile: "\(tasks)/\(task)/wchan", encoding: .utf8)) ?? ""
            let status = try String(contentsOfFile: "\(tasks)/\(task)/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") })
            let mask = try #require(UInt64(line.dropFirst("SigBlk:".count).trimmingCharacters(in: .whitespaces), radix: 16))
            threads.append((tid, wchan.contains("sigtimedwait"), mask))
        }
        let waiting = threads.filter(\.waits)
        #expect(waiting.count == 1, "threads: \(threads)")
        let first = waiting.first?.tid ?? Int.max
        let started = threads.filter { $0.tid == pid || ($0.tid > first) }
        #expect(started.count >= 5, "expected the main thread, 2 loader workers, a compute thread, Dispatch's: \(threads)")
        for t in started {
            for s in [SIGINT, SIGTERM] {
                #expect(t.mask & (1 << UInt64(s - 1)) != 0, "thread \(t.tid) does not block signal \(s): \(threads)")
            }
        }

        kill(run.process.processIdentifier, SIGTERM)
        let seen = run.finish()
        #expect(run.process.terminationReason == .exit && run.process.terminationStatus == 128 + SIGTERM,
                "exit \(run.process.terminationStatus); stderr: \(seen)")
        #expect(seen.contains("stopped at epoch 0, iteration 4"), "stderr: \(seen)")
    }
}
