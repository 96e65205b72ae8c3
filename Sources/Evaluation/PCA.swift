import CBLAS
import Tensors

/// Principal component analysis fitted through the covariance matrix and LAPACK's symmetric eigensolver
/// (`dsyevd`, float64), like `sklearn.decomposition.PCA(n_components=d, whiten=False)`: the data are centred
/// with the training mean and projected on the top-d eigenvectors of the sample covariance.
///
/// Component signs are a convention (sklearn flips by its SVD); here each component is oriented so that its
/// entry of largest magnitude is positive. Projections therefore agree with sklearn up to the sign of each
/// output column.
public struct PCA: Sendable {
    /// Per-feature training mean, D values.
    public let mean: [Float]
    /// Principal axes, shape (d, D): row k is the unit eigenvector of the k-th largest eigenvalue.
    public let components: Tensor
    /// Eigenvalues of the covariance (divisor N − 1), descending, d values — sklearn's `explained_variance_`.
    public let explainedVariance: [Double]

    /// Fits `dimensions` components to the rows of `features` (N, D).
    /// - Throws: `EvaluationError.invalidPCADimension` unless 1 ≤ dimensions ≤ min(D, N), `.eigensolverFailed`.
    /// Cost: N·D² (dsyrk, float64, in row chunks) + O(D³) for the eigensolver; memory O(D²) doubles.
    public static func fit(_ features: Tensor, dimensions: Int) throws -> PCA {
        precondition(features.rank == 2, "PCA.fit: needs (N, D) features, got \(features.shape)")
        let n = features.shape[0], d = features.shape[1]
        guard dimensions >= 1 && dimensions <= min(d, n) else {
            throw EvaluationError.invalidPCADimension(requested: dimensions, maximum: min(d, n))
        }
        var mean = [Double](repeating: 0, count: d)
        var cov = [Double](repeating: 0, count: d * d)
        features.withUnsafeBufferPointer { x in
            for i in 0..<n { for j in 0..<d { mean[j] += Double(x[i * d + j]) } }
            for j in 0..<d { mean[j] /= Double(n) }
            let chunk = max(1, min(n, (1 << 22) / max(d, 1)))  // ≈ 32 MB of doubles
            var centred = [Double](repeating: 0, count: chunk * d)
            var start = 0
            while start < n {
                let rows = min(chunk, n - start)
                for i in 0..<rows {
                    for j in 0..<d { centred[i * d + j] = Double(x[(start + i) * d + j]) - mean[j] }
                }
                // cov(upper, row-major) += centredᵀ · centred
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(rows), 1.0,
                            centred, Int32(d), 1.0, &cov, Int32(d))
                start += rows
            }
        }
        let divisor = Double(max(n - 1, 1))
        for k in 0..<cov.count { cov[k] /= divisor }
        let (values, vectors) = try SymmetricEigen.decompose(cov, n: d)
        var comps = [Float](repeating: 0, count: dimensions * d)
        var explained = [Double]()
        for k in 0..<dimensions {
            let src = d - 1 - k  // eigenvalues are ascending
            explained.append(values[src])
            var largest = 0
            for j in 0..<d where abs(vectors[src * d + j]) > abs(vectors[src * d + largest]) { largest = j }
            let sign: Double = vectors[src * d + largest] < 0 ? -1 : 1
            for j in 0..<d { comps[k * d + j] = Float(sign * vectors[src * d + j]) }
        }
        return PCA(mean: mean.map { Float($0) }, components: Tensor(shape: [dimensions, d], scalars: comps),
                   explainedVariance: explained)
    }

    /// Creates a PCA from stored parameters.
    public init(mean: [Float], components: Tensor, explainedVariance: [Double]) {
        precondition(components.rank == 2 && components.shape[1] == mean.count,
                     "PCA: components \(components.shape) do not match a mean of \(mean.count) values")
        self.mean = mean
        self.components = components
        self.explainedVariance = explainedVariance
    }

    /// Projects rows: `(x − mean) · componentsᵀ`, shape (N, D) → (N, d), computed as
    /// `x · componentsᵀ − mean · componentsᵀ` with one SGEMM.
    /// - Throws: `EvaluationError.featureDimensionMismatch` when D differs from the fitted dimension.
    public func transform(_ features: Tensor) throws -> Tensor {
        guard features.rank == 2, features.shape[1] == mean.count else {
            throw EvaluationError.featureDimensionMismatch(expected: mean.count, got: features.shape.last ?? 0,
                                                           what: "PCA input")
        }
        var y = Tensor.matmul(features, components, transposeB: true)
        let shift = Tensor.matmul(Tensor(shape: [1, mean.count], scalars: mean), components, transposeB: true).scalars
        let dims = shift.count
        y.withUnsafeMutableBufferPointer { p in
            for i in 0..<(p.count / max(dims, 1)) { for k in 0..<dims { p[i * dims + k] -= shift[k] } }
        }
        return y
    }
}
