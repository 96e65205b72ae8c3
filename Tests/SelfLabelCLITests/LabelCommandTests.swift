import Foundation
import Interop
import TestSupport
import Testing
import TestSupport

/// `selflabel label` run as a subprocess: every Sinkhorn C kernel, and the failures a user can cause.
@Suite("selflabel label")
struct LabelCommandTests {
    /// Seeded logits: normal × `scale` (Box-Muller on a 64-bit LCG; only reproducibility matters here).
    static func logits(n: Int, k: Int, scale: Double, seed: UInt64) -> [Float] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / 9007199254740992
        }
        return (0..<(n * k)).map { _ in Float((-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) * scale) }
    }

    static func writeScores(_ values: [Float], n: Int, k: Int, to path: String) throws {
        try values.withUnsafeBytes { try Npy.write(raw: $0, dtype: .float32, shape: [n, k], to: path) }
    }

    /// A fresh test folder holding `z.npy`: N x K seeded logits (`logits`).
    static func folderWithLogits(_ tag: String, n: Int, k: Int, scale: Double, seed: UInt64) throws -> String {
        let dir = try temporaryFolder(tag)
        try writeScores(logits(n: n, k: k, scale: scale, seed: seed), n: n, k: k, to: dir + "/z.npy")
        return dir
    }

    static func labels(_ path: String) throws -> [Int64] { try NpyArray(contentsOf: path).int64s() }

    /// The `iterations` of the first head in `label`'s JSON line.
    static func iterations(_ json: String) -> Int? {
        guard let r = json.range(of: "\"iterations\": ") else { return nil }
        return Int(json[r.upperBound...].prefix { $0.isNumber })
    }

    @Test("every C kernel (forced by SELFLABEL_SINKHORN_KERNEL) gives the float64 solve's labels and iteration count",
          arguments: [("peaked", 3.0), ("flat", 0.02)])
    func everyKernel(_ family: (String, Double)) throws {
        let dir = try temporaryFolder("label-kernels")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let n = 3000, k = 60
        let scores = dir + "/z.npy"
        try Self.writeScores(Self.logits(n: n, k: k, scale: family.1, seed: 7), n: n, k: k, to: scores)
        let f64 = try runSelflabel(["label", "--logits", scores, "--out", dir + "/f64.npy", "--dtype", "f64",
                                    "--threads", "1", "--acceleration", "off"])
        #expect(f64.status == 0, "\(f64.stderr)")
        let reference = try Self.labels(dir + "/f64.npy")
        var environment = ProcessInfo.processInfo.environment
        for kernel in ["portable", "avx2", "avx512"] {  // a kernel the CPU lacks falls back to the best it has
            environment["SELFLABEL_SINKHORN_KERNEL"] = kernel
            for truncation in ["auto", "off"] {
                let out = dir + "/\(kernel)-\(truncation).npy"
                let r = try runSelflabel(["label", "--logits", scores, "--out", out, "--truncation", truncation,
                                          "--threads", "2", "--acceleration", "off"], environment: environment)
                #expect(r.status == 0, "\(kernel) \(truncation): \(r.stderr)")
                #expect(try Self.labels(out) == reference, "\(family.0) \(kernel) \(truncation)")
                #expect(Self.iterations(r.stdout) == Self.iterations(f64.stdout), "\(family.0) \(kernel) \(truncation)")
            }
        }
    }

    @Test("the default (Anderson, every check a plain step on the exact matrix) gives ≥ 99.9 % of the float64 official loop's labels, in fewer iterations on a slow problem")
    func defaultAccelerationAgrees() throws {
        let dir = try temporaryFolder("label-default")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let n = 3000, k = 60
        let made = try runSelflabel(["bench", "sinkhorn", "--n", "\(n)", "--k", "\(k)", "--family", "mixed",
                                     "--fraction", "0.5", "--skew", "3", "--seed", "21", "--max-iters", "1",
                                     "--threads", "1", "--save-scores", dir + "/z.npy"])
        #expect(made.status == 0, "\(made.stderr)")
        let plain = try runSelflabel(["label", "--logits", dir + "/z.npy", "--out", dir + "/f64.npy", "--dtype", "f64",
                                      "--acceleration", "off", "--lamb", "10", "--max-iters", "0", "--threads", "1"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let r = try runSelflabel(["label", "--logits", dir + "/z.npy", "--out", dir + "/l.npy", "--lamb", "10",
                                  "--max-iters", "0", "--threads", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"acceleration\": \"anderson\""))
        let a = try Self.labels(dir + "/l.npy"), b = try Self.labels(dir + "/f64.npy")
        let agree = Double(zip(a, b).filter { $0 == $1 }.count) / Double(n)
        #expect(agree >= 0.999, "agreement \(agree)")
        let fast = Self.iterations(r.stdout) ?? 0, slow = Self.iterations(plain.stdout) ?? 0
        #expect(fast > 0 && fast < slow, "iterations \(fast) vs the official loop's \(slow)")
        #expect(r.stdout.contains("\"converged\": true"))
    }

    @Test("label's default iteration cap is automatic, as in training: the official loop's > 1,000 iterations on skewed scores converge without --max-iters (was: stopped at a fixed 1,000); a fixed cap still stops and warns")
    func defaultCapIsAutomatic() throws {
        let dir = try temporaryFolder("label-cap")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try runSelflabel(["bench", "sinkhorn", "--n", "3000", "--k", "60", "--family", "mixed",
                                     "--fraction", "0.2", "--skew", "3", "--seed", "21", "--max-iters", "1",
                                     "--threads", "1", "--save-scores", dir + "/z.npy"])
        #expect(made.status == 0, "\(made.stderr)")
        let official = ["label", "--logits", dir + "/z.npy", "--out", dir + "/l.npy", "--dtype", "f64",
                        "--acceleration", "off", "--lamb", "25", "--threads", "1"]
        let r = try runSelflabel(official)
        #expect(r.status == 0, "\(r.stderr)")
        let iterations = Self.iterations(r.stdout) ?? 0
        #expect(iterations > 1000, "the problem must need more than the old fixed cap: \(iterations) iterations")
        #expect(r.stdout.contains("\"converged\": true"), "\(r.stdout)")
        #expect(!r.stderr.contains("warning"), "\(r.stderr)")
        let capped = try runSelflabel(official + ["--max-iters", "200"])
        #expect(capped.status == 0, "\(capped.stderr)")
        #expect(capped.stdout.contains("\"converged\": false"), "\(capped.stdout)")
        #expect(capped.stderr.contains("warning: head 0 stopped at the iteration cap 200"), "\(capped.stderr)")
    }

    @Test("λ = 3000 on ordinary logits: usable labels in the log domain (was: all-zero labels, exit 0); without the truncated method, a clear breakdown")
    func hugeLambdaGivesUsableLabels() throws {
        let n = 2000, k = 40
        let dir = try Self.folderWithLogits("label-lambda", n: n, k: k, scale: 3, seed: 3)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runSelflabel(["label", "--logits", dir + "/z.npy", "--out", dir + "/l.npy", "--lamb", "3000",
                                  "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"converged\": true"), "\(r.stdout)")
        let labels = try Self.labels(dir + "/l.npy")
        var sizes = [Int](repeating: 0, count: k)
        for l in labels { sizes[Int(l)] += 1 }
        #expect(sizes.min()! >= n / k / 2 && sizes.max()! <= 2 * n / k, "sizes \(sizes)")
        #expect(!r.stdout.contains("\"degenerate_labels\": true"))
        // Without the truncated method no arithmetic holds P^3000 of these scores: the dense float32 matrix and
        // the float64 fallback both break down, and that is said (a fixed cap of 1,000 used to stop the float64
        // loop just before its breakdown, at 1,111 iterations, and hand out its unconverged labels).
        try? FileManager.default.removeItem(atPath: dir + "/l.npy")
        let off = try runSelflabel(["label", "--logits", dir + "/z.npy", "--out", dir + "/l.npy", "--lamb", "3000",
                                    "--truncation", "off", "--threads", "1"])
        #expect(off.status != 0)
        #expect(off.stderr.contains("broke down numerically") && off.stderr.contains("truncated method"), "\(off.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/l.npy"))
    }

    @Test("a breakdown that cannot be repaired exits non-zero with the cause and a λ that works, writing nothing")
    func unrepairableBreakdownFails() throws {
        let n = 2000, k = 40
        let dir = try Self.folderWithLogits("label-breakdown", n: n, k: k, scale: 3, seed: 3)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // float64 (the reference's arithmetic, never switched to float32) leaves its range at λ = 1e5.
        let r = try runSelflabel(["label", "--logits", dir + "/z.npy", "--out", dir + "/l.npy", "--report",
                                  dir + "/r.json", "--lamb", "1e5", "--dtype", "f64", "--threads", "1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("broke down numerically") && r.stderr.contains("λ ≤ "), "\(r.stderr)")
        #expect(!r.stderr.contains("--dtype f32 rescales"))
        #expect(!r.stderr.contains("z.npy"), "a breakdown at this λ is not the file's fault: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/l.npy"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/r.json"))
    }

    @Test("all-equal score rows: degenerate labels are flagged in the JSON and warned about")
    func degenerateLabelsWarn() throws {
        let dir = try temporaryFolder("label-degenerate")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let n = 500, k = 10
        try Self.writeScores([Float](repeating: 0.25, count: n * k), n: n, k: k, to: dir + "/z.npy")
        let r = try runSelflabel(["label", "--logits", dir + "/z.npy", "--out", dir + "/l.npy", "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"degenerate_labels\": true"))
        #expect(r.stderr.contains("degenerate"), "\(r.stderr)")
    }

    @Test("an all-zero probability row is named as such, not as '0.0 outside [0, 1]'")
    func zeroProbabilityRow() throws {
        let dir = try temporaryFolder("label-zero-row")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let n = 50, k = 5
        var p = [Float](repeating: 0.2, count: n * k)
        for j in 0..<k { p[7 * k + j] = 0 }
        try Self.writeScores(p, n: n, k: k, to: dir + "/p.npy")
        let r = try runSelflabel(["label", "--logits", dir + "/p.npy", "--probabilities", "--out", dir + "/l.npy"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("row 7") && r.stderr.contains("all zero"), "\(r.stderr)")
        #expect(!r.stderr.contains("outside [0, 1]"))
    }

    @Test("--out equal to --logits is refused and the input is left as it was")
    func outputIsInput() throws {
        let n = 200, k = 10
        let dir = try Self.folderWithLogits("label-same", n: n, k: k, scale: 1, seed: 1)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/z.npy"))
        for out in [dir + "/z.npy", dir + "/../" + URL(fileURLWithPath: dir).lastPathComponent + "/z.npy"] {
            let r = try runSelflabel(["label", "--logits", dir + "/z.npy", "--out", out])
            #expect(r.status != 0)
            #expect(r.stderr.contains("input"), "\(r.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/z.npy")) == before)
        }
    }

    @Test("a bad solver option is named as the option, before the scores are read, not blamed on the scores file")
    func badSolverOption() throws {
        let n = 100, k = 5
        let dir = try Self.folderWithLogits("label-bad-option", n: n, k: k, scale: 1, seed: 3)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (option, value) in [("--max-iters", "-5"), ("--lamb", "0"), ("--lamb", "nan"), ("--tol", "-0.1"),
                                ("--tol", "inf")] {
            for command in [["label", "--logits", dir + "/z.npy", "--out", dir + "/l.npy"],
                            ["bench", "sinkhorn", "--n", "\(n)", "--k", "\(k)"]] {
                let r = try runSelflabel(command + [option, value])
                #expect(r.status != 0, "\(option) \(value)")
                #expect(r.stderr.contains(option + " must be"), "\(r.stderr)")
                #expect(!r.stderr.contains("z.npy"), "the scores file is blamed: \(r.stderr)")
                #expect(!r.stderr.contains("iteration "), "the solve ran: \(r.stderr)")
            }
            #expect(!FileManager.default.fileExists(atPath: dir + "/l.npy"))
        }
    }

    @Test("an output that cannot be written is refused before the solve and leaves no other output")
    func unwritableOutputs() throws {
        let n = 300, k = 10
        let dir = try Self.folderWithLogits("label-unwritable", n: n, k: k, scale: 1, seed: 2)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (out, report) in [(dir + "/l.npy", dir + "/missing/r.json"), (dir + "/missing/l.npy", dir + "/r.json"),
                              (dir + "/l.npy", dir)] {
            let r = try runSelflabel(["label", "--logits", dir + "/z.npy", "--out", out, "--report", report])
            #expect(r.status != 0, "\(out) \(report)")
            #expect(!r.stderr.contains("iteration"), "the solve ran first: \(r.stderr)")
            #expect(r.stderr.contains(report.hasPrefix(dir + "/missing") || report == dir ? report : out), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/l.npy"))
            #expect(!FileManager.default.fileExists(atPath: dir + "/r.json"))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "z.npy" }
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }
}
