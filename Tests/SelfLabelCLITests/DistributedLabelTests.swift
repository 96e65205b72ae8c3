import Foundation
import Interop
import Testing
import TestSupport

/// The `mpirun` found on PATH (scripts/bootstrap installs Open MPI's openmpi-bin), nil where there is none.
let mpirunPath: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
    .split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }

/// Runs `mpirun -np ranks selflabel arguments…` over shared memory (`mpirunLaunch`). Killed after `timeout`
/// seconds, so a hanging job fails the test instead of blocking the suite.
func runUnderMPI(ranks: Int, _ arguments: [String], timeout: Double = 60) throws -> (result: CommandResult, seconds: Double) {
    try runMPIJob(["-np", "\(ranks)", selflabelBinary().path] + arguments, timeout: timeout)
}

/// `mpirun` for the tests: as root where the tests run as root (Open MPI's allow-run-as-root settings), more
/// ranks than cores allowed (`--oversubscribe`), without the shared-memory transport's single-copy mechanism
/// (cross-process memory access is often blocked in containers) and with the local-only launcher (`plm
/// isolated`: no ssh needed). `launch` is everything after `mpirun --oversubscribe` (several `-np N program`
/// groups separated by `:` give ranks different environments).
func mpirunProcess(_ launch: [String]) -> Process {
    var environment = ProcessInfo.processInfo.environment
    environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
    environment["OMPI_MCA_plm"] = "isolated"  // every rank on this machine: no ssh/rsh launch agent needed
    let p = Process()
    p.executableURL = URL(fileURLWithPath: mpirunPath!)
    p.arguments = ["--oversubscribe"] + launch
    p.environment = environment
    return p
}

/// Runs `mpirun --oversubscribe launch…` (`mpirunProcess`) to the end, killing it after `timeout` seconds.
func runMPIJob(_ launch: [String], timeout: Double = 60) throws -> (result: CommandResult, seconds: Double) {
    let p = mpirunProcess(launch)
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let started = Date()
    try p.run()
    let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    killer.cancel()
    return (CommandResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                          stderr: String(decoding: e, as: UTF8.self), signalled: p.terminationReason == .uncaughtSignal),
            Date().timeIntervalSince(started))
}

/// `mpirun -np 2 selflabel label` against `selflabel label` in one process, on the committed Sinkhorn-Knopp
/// fixtures: the labels file must be byte-identical and every diagnostic but the timings equal.
@Suite("selflabel label under mpirun", .enabled(if: mpirunPath != nil,
       "mpirun not found on PATH: scripts/bootstrap installs openmpi-bin"))
struct DistributedLabelTests {
    /// Tests/SelfLabellingTests/Fixtures, beside this test's folder.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SelfLabellingTests/Fixtures").path

    /// The report's per-head diagnostics without the timings.
    static func diagnostics(_ reportPath: String) throws -> [NSDictionary] {
        let json = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: reportPath)))
        let heads = try #require((json as? [String: Any])?["per_head"] as? [[String: Any]])
        return heads.map { NSDictionary(dictionary: $0.filter { !$0.key.hasSuffix("seconds") && $0.key != "seconds_per_iteration" }) }
    }

    /// Three heads of 1,000 rows (four row blocks) from the breakdown fixture at three sharpnesses: one flat
    /// (dense method), two peaked (truncated method).
    static func threeHeads(in dir: String) throws -> String {
        let rows = try NpyArray(contentsOf: fixtures + "/breakdown/demo_head2_rows1000.npy").doubles()  // 1000 x 100
        var values: [Float] = []
        for scale in [0.2, 1.0, 3.0] {
            for i in 0..<1000 { for j in 0..<40 { values.append(Float(rows[i * 100 + j] * scale)) } }
        }
        let path = dir + "/three_heads.npy"
        try values.withUnsafeBytes { try Npy.write(raw: $0, dtype: .float32, shape: [3, 1000, 40], to: path) }
        return path
    }

    @Test("2 ranks write the single process's labels and diagnostics",
          arguments: [["pot_n800_k40_l25_logits.npy"], ["slow/late_training_n300_k30_logits.npy", "--max-iters", "0"],
                      ["breakdown/demo_head2_rows1000.npy"], ["THREE"], ["THREE", "--truncation", "off"],
                      ["THREE", "--dtype", "f64"], ["THREE", "--acceleration", "anderson", "--storage", "bf16"]])
    func identical(arguments: [String]) throws {
        let dir = try temporaryFolder("mpi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = arguments[0] == "THREE" ? try Self.threeHeads(in: dir) : Self.fixtures + "/" + arguments[0]
        let options = Array(arguments.dropFirst())
        let one = try runSelflabel(["label", "--logits", input, "--out", dir + "/one.npy",
                                    "--report", dir + "/one.json", "--threads", "2"] + options)
        #expect(one.status == 0, "\(one.stderr)")
        let (two, _) = try runUnderMPI(ranks: 2, ["label", "--logits", input, "--out", dir + "/two.npy",
                                                  "--report", dir + "/two.json", "--threads", "1"] + options)
        #expect(two.status == 0, "\(two.stderr)")
        #expect(two.stdout.contains("\"ranks\": 2"), "one JSON line from rank 0: \(two.stdout)")
        let labelsOne = try Data(contentsOf: URL(fileURLWithPath: dir + "/one.npy"))
        let labelsTwo = try Data(contentsOf: URL(fileURLWithPath: dir + "/two.npy"))
        #expect(labelsOne == labelsTwo, "labels differ: \(arguments)")
        #expect(try Self.diagnostics(dir + "/one.json") == Self.diagnostics(dir + "/two.json"))
    }

    @Test("a NaN in rank 1's rows ends the job with one line naming the global row, and no labels file")
    func badScoreEndsJob() throws {
        let dir = try temporaryFolder("mpi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var values = try NpyArray(contentsOf: Self.fixtures + "/pot_n800_k40_l25_logits.npy").doubles().map(Float.init)
        values[700 * 40 + 3] = .nan  // rows 512..<800 are rank 1's (blocks 2 and 3 of 4)
        let input = dir + "/nan.npy"
        try values.withUnsafeBytes { try Npy.write(raw: $0, dtype: .float32, shape: [800, 40], to: input) }
        let (r, seconds) = try runUnderMPI(ranks: 2, ["label", "--logits", input, "--out", dir + "/labels.npy"])
        #expect(r.status != 0 && !r.signalled)
        #expect(r.stderr.contains("Error: rank 1 of 2: \(input): non-finite score nan at head 0, row 700, column 3"),
                "\(r.stderr)")
        #expect(!r.stderr.contains("rank 0 of 2"), "only the rank that read the row reports it: \(r.stderr)")
        #expect(seconds < 30)
        #expect(!FileManager.default.fileExists(atPath: dir + "/labels.npy"))
    }

    @Test("a command that cannot use several ranks refuses to start under mpirun")
    func otherCommandsRefuse() throws {
        let (r, _) = try runUnderMPI(ranks: 2, ["bench", "gemm", "--m", "8", "--n", "8", "--k", "8"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("does not run across MPI ranks (launched as 2)"), "\(r.stderr)")
    }
}

/// `selflabel bench allreduce` under `mpirun -np 2`: MPI's blocking and non-blocking allreduce, broadcast and
/// barrier (what data-parallel training will use) deliver the right values.
@Suite("selflabel bench allreduce under mpirun", .enabled(if: mpirunPath != nil,
       "mpirun not found on PATH: scripts/bootstrap installs openmpi-bin"))
struct DistributedCollectivesTests {
    @Test("2 ranks: sums and broadcast verified, one JSON line from rank 0")
    func collectives() throws {
        let (r, _) = try runUnderMPI(ranks: 2, ["bench", "allreduce", "--megabytes", "0.5", "--repeats", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("\"ranks\": 2") && lines[0].contains("\"verified\": true"),
                "\(r.stdout)")
    }
}
