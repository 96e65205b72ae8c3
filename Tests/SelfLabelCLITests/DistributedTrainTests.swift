import Foundation
import Testing
import TestSupport

/// `mpirun -np 2 selflabel train` (data-parallel training, docs/DISTRIBUTED.md) against one process on a tiny
/// CIFAR-10 folder (100 images, batches of 20: 20 steps over 4 epochs, one label optimisation at the start).
@Suite("selflabel train under mpirun", .enabled(if: mpirunPath != nil,
       "mpirun not found on PATH: scripts/bootstrap installs openmpi-bin"), .serialized)
struct DistributedTrainTests {
    /// convnet_tiny (batch norm, no dropout), 2 heads of 5 clusters, float32 Sinkhorn-Knopp, one thread per rank.
    static let settings = ["--arch", "convnet_tiny", "--hc", "2", "--ncl", "5", "--batch-size", "20", "--epochs", "4",
                           "--nopts", "1", "--lr", "0.02", "--dtype", "f32",
                           "--workers", "1", "--threads", "1", "--log-iter", "1"]

    /// A fresh folder with the tiny data set.
    static func data() throws -> String {
        let dir = try temporaryFolder("dp-data")
        try writeTinyCIFAR10(dir)
        return dir
    }

    /// The per-step losses of the run in `exp` (metrics.jsonl's train records, a resumed run's included).
    static func losses(_ exp: String) throws -> [Double] {
        try String(contentsOfFile: exp + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line in
            let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return record?["kind"] as? String == "train" ? record?["loss"] as? Double : nil
        }
    }

    /// The largest relative difference of two loss curves, which must have the same length.
    static func largestDifference(_ a: [Double], _ b: [Double]) -> Double {
        #expect(a.count == b.count, "\(a.count) vs \(b.count) steps")
        return zip(a, b).map { abs($0 - $1) / abs($0) }.max() ?? .infinity
    }

    /// `selflabel train` in one process, to the end.
    static func trainOne(_ data: String, _ exp: String, _ extra: [String] = []) throws {
        let r = try runSelflabel(["train", "--data", data, "--exp", exp] + settings + extra)
        try #require(r.status == 0, "\(r.stderr)")
    }

    /// `mpirun -np 2 selflabel train …` to the end.
    static func trainTwo(_ data: String, _ exp: String, _ extra: [String] = ["--sync-bn"]) throws {
        let (r, _) = try runUnderMPI(ranks: 2, ["train", "--data", data, "--exp", exp] + settings + extra)
        try #require(r.status == 0, "\(r.stderr)")
    }

    /// The process id of rank `rank` of the job started by `mpirun` (process `launcher`), found by its parent
    /// and Open MPI's `OMPI_COMM_WORLD_RANK`; waits up to 60 s for it to appear.
    static func rankProcess(_ rank: Int, of launcher: Int32) -> Int32? {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = Int32(entry),
                      let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                guard fields.count > 2, Int32(fields[1]) == launcher,
                      let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
                let variables = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                if variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
            }
            usleep(50_000)
        }
        return nil
    }

    /// Starts a 2-rank run whose rank `pausedRank` holds after step 7 (`SELFLABEL_DEBUG_PAUSE`), with its
    /// standard error in `log`; returns the launcher and the paused rank's process id once it has paused.
    static func startPaused(_ data: String, _ exp: String, pausedRank: Int, log: String,
                            launcherOptions: [String] = []) throws -> (Process, Int32) {
        let command = [selflabelBinary().path, "train", "--data", data, "--exp", exp] + settings + ["--sync-bn"]
        let pause = ["-x", "SELFLABEL_DEBUG_PAUSE=iteration:7"]
        let launch = launcherOptions + ["-np", "1"] + (pausedRank == 0 ? pause : []) + command
            + [":", "-np", "1"] + (pausedRank == 1 ? pause : []) + command
        let p = mpirunProcess(launch)
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, p.isRunning,
              !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("debug pause at iteration 7") {
            usleep(20_000)
        }
        let pid = try #require(rankProcess(pausedRank, of: p.processIdentifier), "rank \(pausedRank) not found")
        return (p, pid)
    }

    @Test("with --sync-bn 2 ranks follow one process: losses within 1e-4 over 20 steps, identical labels")
    func sameTrajectory() throws {
        let data = try Self.data(), work = try temporaryFolder("dp-trajectory")
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: work) }
        try Self.trainOne(data, work + "/one")
        try Self.trainTwo(data, work + "/two")
        let one = try Self.losses(work + "/one"), two = try Self.losses(work + "/two")
        #expect(one.count == 20)
        #expect(Self.largestDifference(one, two) < 1e-4, "\(one) vs \(two)")
        // The only label optimisation is the first: its labels are the final ones.
        let labels = { try Data(contentsOf: URL(fileURLWithPath: $0 + "/labels.npy")) }
        #expect(try labels(work + "/one") == labels(work + "/two"))
        // Without --sync-bn each rank normalises over its own 10 images: a different trajectory (so the
        // comparison above can tell).
        try Self.trainTwo(data, work + "/local", [])
        #expect(Self.largestDifference(one, try Self.losses(work + "/local")) > 1e-3)
    }

    @Test("a stop on one rank stops both after the same step; resumed on 1 or 2 ranks, and 1 → 2, as uninterrupted")
    func resumeAcrossRankCounts() throws {
        let data = try Self.data(), work = try temporaryFolder("dp-resume")
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: work) }
        try Self.trainOne(data, work + "/one")
        try Self.trainTwo(data, work + "/two")
        let one = try Self.losses(work + "/one"), two = try Self.losses(work + "/two")

        // 2 ranks, rank 0 held after step 7 and sent SIGTERM there: rank 1 never gets a signal, yet both agree
        // to stop after step 8 (the next step's reduced stop flag); rank 0 writes one checkpoint.
        let (launcher, rank0) = try Self.startPaused(data, work + "/a", pausedRank: 0, log: work + "/a.log")
        kill(rank0, SIGTERM)
        launcher.waitUntilExit()
        let log = try String(contentsOfFile: work + "/a.log", encoding: .utf8)
        #expect(launcher.terminationStatus != 0)
        #expect(log.components(separatedBy: "stopped at epoch 1, iteration 9").count == 2, "\(log)")
        #expect(try Self.losses(work + "/a").count == 9)
        try FileManager.default.copyItem(atPath: work + "/a", toPath: work + "/b")

        // 2 → 1: within float tolerance of the uninterrupted single process.
        let resumedOne = try runSelflabel(["train", "--data", data, "--exp", work + "/a", "--resume"])
        try #require(resumedOne.status == 0, "\(resumedOne.stderr)")
        #expect(Self.largestDifference(one, try Self.losses(work + "/a")) < 1e-4)
        // 2 → 2: exactly the uninterrupted 2-rank run.
        let (resumedTwo, _) = try runUnderMPI(ranks: 2, ["train", "--data", data, "--exp", work + "/b", "--resume", "--sync-bn"])
        try #require(resumedTwo.status == 0, "\(resumedTwo.stderr)")
        #expect(try Self.losses(work + "/b") == two)
        let weights = { try Data(contentsOf: URL(fileURLWithPath: $0 + "/model_final.safetensors")) }
        #expect(try weights(work + "/b") == weights(work + "/two"))

        // 1 → 2: one process stopped after step 7, continued by 2 ranks.
        let single = try TrainingProcess(["train", "--data", data, "--exp", work + "/c"] + Self.settings,
                                         pause: "iteration:7", log: work + "/c.log")
        _ = try single.signalAtPause(SIGTERM)
        #expect(try Self.losses(work + "/c").count == 8)
        let (continued, _) = try runUnderMPI(ranks: 2, ["train", "--data", data, "--exp", work + "/c", "--resume", "--sync-bn"])
        try #require(continued.status == 0, "\(continued.stderr)")
        #expect(Self.largestDifference(one, try Self.losses(work + "/c")) < 1e-4)
    }

    @Test("a killed rank ends the job in bounded time, naming the rank; the last checkpoint loads")
    func killedRank() throws {
        let data = try Self.data(), work = try temporaryFolder("dp-kill")
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: work) }
        let (launcher, rank1) = try Self.startPaused(data, work + "/k", pausedRank: 1, log: work + "/k.log")
        let killed = Date()
        kill(rank1, SIGKILL)
        launcher.waitUntilExit()
        #expect(Date().timeIntervalSince(killed) < 30)
        #expect(launcher.terminationStatus != 0)
        let log = try String(contentsOfFile: work + "/k.log", encoding: .utf8)
        #expect(log.contains("rank 1"), "\(log)")
        // The epoch-1 checkpoint (after step 4) is intact: the run continues from it in one process.
        let resumed = try runSelflabel(["train", "--data", data, "--exp", work + "/k", "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("(epoch 1, iteration 5)"), "\(resumed.stderr)")
    }

    @Test("bench train-step under mpirun: one line from rank 0 with the allreduce's bytes, time and overlap")
    func benchTrainStep() throws {
        let (r, _) = try runUnderMPI(ranks: 2, ["bench", "train-step", "--arch", "convnet_tiny", "--batch", "8", "--hc", "2",
                                                "--ncl", "5", "--threads", "1", "--steps", "2", "--warmup", "1"])
        try #require(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        try #require(lines.count == 1, "\(r.stdout)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(json["ranks"] as? Int == 2)
        // Every gradient once (the parameters) plus one presence value per parameter tensor, in float32.
        let parameters = try #require(json["parameters"] as? Int)
        let tensors = 4 * 3 + 2 + 2 * 2  // 3 × (conv w, b, BN γ, β), linear w, b, 2 heads × (w, b)
        #expect(json["allreduce_bytes_per_step"] as? Int == (parameters + tensors) * 4)
        for key in ["allreduce_ms_per_step", "exposed_allreduce_ms_per_step", "blocking_allreduce_ms", "overlap"] {
            #expect(json[key] is Double, "\(key) in \(json)")
        }
    }

    @Test("SIGTERM to mpirun: every rank stops after one checkpoint (with a kill delay longer than a step)")
    func signalToLauncher() throws {
        let data = try Self.data(), work = try temporaryFolder("dp-signal")
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: work) }
        // Open MPI's mpirun answers SIGINT/SIGTERM by sending the ranks SIGTERM after odls_base_sigkill_timeout
        // seconds and SIGKILL as long again after that (docs/DISTRIBUTED.md). Every rank holds after step 7
        // until its stop request arrives.
        let command = [selflabelBinary().path, "train", "--data", data, "--exp", work + "/s"] + Self.settings + ["--sync-bn"]
        let launch = ["--mca", "odls_base_sigkill_timeout", "3", "-x", "SELFLABEL_DEBUG_PAUSE=iteration:7", "-np", "2"] + command
        let template = mpirunProcess(launch)
        let log = work + "/s.log"
        let launcher = try UnblockedProcess(template.executableURL!.path, template.arguments!, environment: template.environment!,
                                            standardError: log)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline,
              ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(separatedBy: "debug pause at").count < 3 {
            usleep(20_000)
        }
        let sent = Date()
        kill(launcher.pid, SIGTERM)
        let status = launcher.wait()
        #expect(Date().timeIntervalSince(sent) < 20)
        #expect(status != 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.components(separatedBy: "state saved to").count == 2, "\(text)")
        #expect(try Self.losses(work + "/s").count == 9, "both ranks stopped after step 8")
        let resumed = try runSelflabel(["train", "--data", data, "--exp", work + "/s", "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }
}

/// A child process started with no signal blocked (`posix_spawn` with an empty signal mask and default
/// actions): a `Process` inherits the test runner's mask, in which SIGTERM is blocked, so a launcher started
/// that way would never see the signal a test sends it.
struct UnblockedProcess {
    let pid: pid_t

    init(_ path: String, _ arguments: [String], environment: [String: String], standardError: String) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard code == 0 else { throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EINVAL) }
        self.pid = pid
    }

    /// Waits for the exit; returns the exit status (128 + signal when a signal ended it).
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
