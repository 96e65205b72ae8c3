import Foundation
import Tensors

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
         acceleration: SinkhornAcceleration = .off, truncation: SinkhornTruncation = .automatic,
         denseRows: SinkhornDenseRows = .automatic) {
        options = SinkhornOptions(scoreKind: kind, lambda: lambda, tolerance: tol, maxIterations: maxIterations,
                                  precision: precision, storage: storage, threads: threads,
                                  acceleration: acceleration, truncation: truncation, denseRows: denseRows)
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

/// A score family at a λ, solved with a truncation setting (parameterised Sinkhorn tests).
struct SinkhornFamilyCase: CustomStringConvertible, Sendable {
    let spec: SinkhornFamilySpec
    let lambda: Double
    let truncation: SinkhornTruncation
    var description: String {
        "\(spec.family) σ=\(spec.flatSigma) f=\(spec.fraction) skew=\(spec.skew) p=\(spec.probabilities) λ=\(lambda) \(truncation)"
    }
    var kind: SinkhornScoreKind { spec.probabilities ? .probabilities : .logits }

    /// Anderson acceleration with this case's λ, score kind and truncation, capped far beyond need.
    func andersonOptions() -> SinkhornOptionsBuilder {
        SinkhornOptionsBuilder(lambda: lambda, kind: kind, maxIterations: 100_000, acceleration: .anderson,
                               truncation: truncation)
    }
}

/// Replaces each of the `n` rows of `k` logits in `z` by its softmax (float32), for probability scores.
func softmaxRows(_ z: inout [Float], n: Int, k: Int) {
    for i in 0..<n {
        let row = (0..<k).map { exp(z[i * k + $0]) }
        let sum = row.reduce(0, +)
        for j in 0..<k { z[i * k + j] = row[j] / sum }
    }
}

