import Foundation
import Interop
import Testing

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

    static func labels(_ path: String) throws -> [Int64] { try NpyArray(contentsOf: path).int64s() }

    /// The `iterations` of the first head in `label`'s JSON line.
    static func iterations(_ json: String) -> Int? {
        guard let r = json.range(of: "\"iterations\": ") else { return nil }
        return Int(json[r.upperBound...].prefix { $0.isNumber })
    }

    @Test("every C kernel (forced by SELFLABEL_SINKHORN_KERNEL) gives the float64 solve's labels and iteration count",
          arguments: [("peaked", 3.0), ("flat", 0.02)])
    func everyKernel(_ family: (String, Double)) throws {
        let dir = temporaryFolder("label-kernels")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let n = 3000, k = 60
        let scores = dir + "/z.npy"
        try Self.writeScores(Self.logits(n: n, k: k, scale: family.1, seed: 7), n: n, k: k, to: scores)
        let f64 = try runSelflabel(["label", "--logits", scores, "--out", dir + "/f64.npy", "--dtype", "f64",
                                    "--threads", "1"])
        #expect(f64.status == 0, "\(f64.stderr)")
        let reference = try Self.labels(dir + "/f64.npy")
        var environment = ProcessInfo.processInfo.environment
        for kernel in ["portable", "avx2", "avx512"] {  // a kernel the CPU lacks falls back to the best it has
            environment["SELFLABEL_SINKHORN_KERNEL"] = kernel
            for truncation in ["auto", "off"] {
                let out = dir + "/\(kernel)-\(truncation).npy"
                let r = try runSelflabel(["label", "--logits", scores, "--out", out, "--truncation", truncation,
                                          "--threads", "2"], environment: environment)
                #expect(r.status == 0, "\(kernel) \(truncation): \(r.stderr)")
                #expect(try Self.labels(out) == reference, "\(family.0) \(kernel) \(truncation)")
                #expect(Self.iterations(r.stdout) == Self.iterations(f64.stdout), "\(family.0) \(kernel) \(truncation)")
            }
        }
    }
}
