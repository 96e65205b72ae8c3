import Tensors

/// Row-wise L2 normalisation of feature matrices, as PyTorch's `F.normalize(x, dim=1)`:
/// `y_i = x_i / max(‖x_i‖₂, 1e-12)`.
public enum FeatureNormalization {
    /// Returns the rows of `features` (N, D) scaled to unit L2 norm (zero rows stay zero).
    /// - Throws: `EvaluationError.nonFiniteFeature` naming the first NaN or infinite entry.
    public static func l2Normalized(_ features: Tensor) throws -> Tensor {
        precondition(features.rank == 2, "l2Normalized: needs (N, D) features, got \(features.shape)")
        let d = features.shape[1]
        var out = features.materialized()
        var bad: (Int, Int, Float)?
        out.withUnsafeMutableBufferPointer { p in
            let rows = d == 0 ? 0 : p.count / d
            for i in 0..<rows {
                var s: Double = 0
                for j in 0..<d {
                    let v = p[i * d + j]
                    if !v.isFinite { bad = (i, j, v); return }
                    s += Double(v) * Double(v)
                }
                let scale = Float(1 / max(s.squareRoot(), 1e-12))
                for j in 0..<d { p[i * d + j] *= scale }
            }
        }
        if let (r, c, v) = bad { throw EvaluationError.nonFiniteFeature(row: r, column: c, value: v) }
        return out
    }
}
