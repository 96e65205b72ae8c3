import Tensors

/// The replicas of a data-parallel job whose batches together form the global batch (`--sync-bn`): batch norm
/// takes its statistics over all of them. Implemented above this module over the job's communicator.
public protocol BatchStatisticsGroup: AnyObject {
    /// Replaces `values` by their element-wise sum over every member of the group. Every member calls it the
    /// same number of times, in the same order, with the same count. It does not return on failure: a member
    /// that cannot reach the others ends the whole job (a backward rule cannot throw).
    func sumAcrossGroup(_ values: inout [Double])
}

/// Training-mode batch normalisation with statistics over the global batch of a data-parallel job (PyTorch
/// `SyncBatchNorm`): per channel, μ and the biased σ² over all M = Σ_ranks N·H·W values of every member of
/// `group`, `y = (x − μ)/√(σ² + ε)·scale + shift`. In a group of one it is `batchNorm(_:scale:shift:epsilon:)`
/// up to rounding.
///
/// Forward: the local sums Σx, then Σ(x − μ)², are added across the group in float64 (two collectives, two
/// passes: no cancellation in E[x²] − μ²); y is the backend's fixed-statistics kernel with the global μ, σ².
/// Backward: with x̂ = (x − μ)/σ (σ = √(σ² + ε)), the global sums S_β = Σ dy and S_γ = Σ dy·x̂ (one collective
/// of 2C values) give `dx = γ/σ · (dy − S_β/M − x̂·S_γ/M)`, written as the fixed-statistics `γ/σ·dy` plus a
/// per-channel affine term; the parameter gradients are the local `Σ dy·x̂`, `Σ dy` (the data-parallel gradient
/// reduction adds them over the group).
///
/// Returns the output, the global statistics (σ² biased) and M, for the running statistics.
/// - Throws: `AutogradError.batchNormNeedsMoreThanOneValue` when the global M is 1 (every member throws alike).
public func synchronizedBatchNorm(_ x: Variable, scale: Variable, shift: Variable, epsilon: Float = 1e-5,
                                  group: any BatchStatisticsGroup) throws
    -> (output: Variable, mean: Tensor, variance: Tensor, count: Int) {
    let shape = x.shape
    precondition(shape.count == 4 || shape.count == 2, "synchronizedBatchNorm: input \(shape) must be NCHW or NC")
    let c = shape[1], n = shape[0], spatial = shape.count == 4 ? shape[2] * shape[3] : 1
    let local = x.data.dense()
    var sums = channelSums(local, n: n, c: c, spatial: spatial, centre: nil) + [Double(n * spatial)]
    group.sumAcrossGroup(&sums)
    let m = Int(sums[c])
    if m <= 1 { throw AutogradError.batchNormNeedsMoreThanOneValue(inputShape: shape) }
    let mean = (0..<c).map { sums[$0] / Double(m) }
    var squares = channelSums(local, n: n, c: c, spatial: spatial, centre: mean)
    group.sumAcrossGroup(&squares)
    let variance = squares.map { $0 / Double(m) }
    let mu = Tensor(mean.map(Float.init)), v = Tensor(variance.map(Float.init))
    let tape = x.tape, kernels = tape.kernels
    let gamma = scale.value
    let y = kernels.run {
        $0.batchNormInferenceForward(x.data, scale: gamma, shift: shift.value, mean: mu, variance: v, epsilon: epsilon)
    }
    let xData = x.data
    let out = tape.record(y, inputs: [x, scale, shift]) { gy in
        let g = kernels.run {
            $0.batchNormInferenceBackward(gy, input: xData, scale: gamma, mean: mu, variance: v, epsilon: epsilon)
        }
        var global = g.shift.scalars.map(Double.init) + g.scale.scalars.map(Double.init)
        group.sumAcrossGroup(&global)
        // dx = γ/σ·dy + a_c + b_c·x, with b_c = −γ S_γ/(σ² M), a_c = −γ S_β/(σ M) − b_c μ.
        let gammas = gamma.scalars
        var a = [Float](repeating: 0, count: c), b = [Float](repeating: 0, count: c)
        for ch in 0..<c {
            let sigma = (variance[ch] + Double(epsilon)).squareRoot(), gm = Double(gammas[ch])
            let bc = -gm * global[c + ch] / (sigma * sigma * Double(m))
            b[ch] = Float(bc)
            a[ch] = Float(-gm * global[ch] / (sigma * Double(m)) - bc * mean[ch])
        }
        var dx = g.input.dense().materialized()
        let xd = xData.dense()
        dx.withUnsafeMutableBufferPointer { d in
            xd.withUnsafeBufferPointer { xp in
                for i in 0..<n {
                    for ch in 0..<c {
                        let base = (i * c + ch) * spatial, ac = a[ch], bc = b[ch]
                        for j in base..<(base + spatial) { d[j] += ac + bc * xp[j] }
                    }
                }
            }
        }
        return [.dense(dx), .dense(g.scale), .dense(g.shift)]
    }
    return (out, mu, v, m)
}

/// Per-channel float64 sums of x (NCHW or NC, dense), or of (x − centre)² when `centre` is given.
private func channelSums(_ x: Tensor, n: Int, c: Int, spatial: Int, centre: [Double]?) -> [Double] {
    var sums = [Double](repeating: 0, count: c)
    x.withUnsafeBufferPointer { p in
        for i in 0..<n {
            for ch in 0..<c {
                let base = (i * c + ch) * spatial
                var s = 0.0
                if let centre {
                    let mu = centre[ch]
                    for j in base..<(base + spatial) { let d = Double(p[j]) - mu; s += d * d }
                } else {
                    for j in base..<(base + spatial) { s += Double(p[j]) }
                }
                sums[ch] += s
            }
        }
    }
    return sums
}
