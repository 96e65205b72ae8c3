import Foundation
import Tensors

/// The reference implementation's CPU loop (`optimize_L_sk` in SeLa's `cpu_sk`), written plainly in float64
/// with two passes per iteration and no shift: `P = softmax(z)`, `A = P^λ`, `r = (1/K)/(Aᵀc)`,
/// `c_new = (1/N)/(A r)`, error every 10 iterations, `label_n = argmax_k A_nk r_k` (first maximum).
struct ReferenceSinkhorn {
    var labels: [Int32]
    var iterations: Int
    var errors: [Double]
    var r: [Double]

    init(logits z: [Float], n: Int, k: Int, lambda: Double, tol: Double = 0.1, maxIterations: Int = 100_000,
         probabilities: Bool = false) {
        var a = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            if probabilities {
                for j in 0..<k { a[i * k + j] = pow(Double(z[i * k + j]), lambda) }
                continue
            }
            var m = -Double.infinity
            for j in 0..<k { m = max(m, Double(z[i * k + j])) }
            var s = 0.0
            for j in 0..<k { s += exp(Double(z[i * k + j]) - m) }
            for j in 0..<k { a[i * k + j] = pow(exp(Double(z[i * k + j]) - m) / s, lambda) }
        }
        var r = [Double](repeating: 1 / Double(k), count: k)
        var c = [Double](repeating: 1 / Double(n), count: n)
        var err = 1e6
        var counter = 0
        var errors: [Double] = []
        while err > tol && counter < maxIterations {
            var colSum = [Double](repeating: 0, count: k)
            for i in 0..<n { for j in 0..<k { colSum[j] += a[i * k + j] * c[i] } }
            for j in 0..<k { r[j] = (1 / Double(k)) / colSum[j] }
            var cNew = [Double](repeating: 0, count: n)
            for i in 0..<n {
                var s = 0.0
                for j in 0..<k { s += a[i * k + j] * r[j] }
                cNew[i] = (1 / Double(n)) / s
            }
            if counter % 10 == 0 {
                err = 0
                for i in 0..<n where !(c[i] / cNew[i]).isNaN { err += abs(c[i] / cNew[i] - 1) }
                errors.append(err)
            }
            c = cNew
            counter += 1
        }
        var labels = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            var best = -Double.infinity, arg = 0
            for j in 0..<k where a[i * k + j] * r[j] > best { best = a[i * k + j] * r[j]; arg = j }
            labels[i] = Int32(arg)
        }
        self.labels = labels
        self.iterations = counter
        self.errors = errors
        self.r = r
    }
}

/// Deterministic test logits: standard normal × `scale`, seeded.
func testLogits(n: Int, k: Int, scale: Float = 3, seed: UInt64) -> [Float] {
    var rng = Xoshiro256(seed: seed)
    return (0..<(n * k)).map { _ in Float(rng.nextNormal()) * scale }
}

/// Fraction of equal entries.
func agreement(_ a: [Int32], _ b: [Int32]) -> Double {
    precondition(a.count == b.count, "agreement: \(a.count) vs \(b.count) labels")
    return Double(zip(a, b).filter { $0 == $1 }.count) / Double(max(a.count, 1))
}

/// Solves with the given options (a convenience for tests).
func solve(_ z: [Float], n: Int, k: Int, _ options: SinkhornOptionsBuilder = .init(),
           warmStart: [Double]? = nil) throws -> SinkhornResultBox {
    let solver = try SinkhornKnoppSolver(options: options.options)
    return SinkhornResultBox(try z.withUnsafeBufferPointer {
        try solver.solve(scores: $0, samples: n, clusters: k, warmStart: warmStart)
    })
}

import SelfLabelling

/// Options for tests, built fluently from the defaults.
struct SinkhornOptionsBuilder {
    var options = SinkhornOptions()
    init(lambda: Double = 25, precision: SinkhornPrecision = .f32, storage: SinkhornStorage = .f32,
         threads: Int = 1, tol: Double = 0.1, kind: SinkhornScoreKind = .logits, maxIterations: Int = 1000,
         truncation: SinkhornTruncation = .automatic) {
        options = SinkhornOptions(scoreKind: kind, lambda: lambda, tolerance: tol, maxIterations: maxIterations,
                                  precision: precision, storage: storage, threads: threads, truncation: truncation)
    }
}

/// A result with short accessors.
struct SinkhornResultBox {
    let result: SinkhornResult
    init(_ r: SinkhornResult) { result = r }
    var labels: [Int32] { result.labels }
    var diagnostics: SinkhornDiagnostics { result.diagnostics }
    var iterations: Int { result.diagnostics.iterations }
}
