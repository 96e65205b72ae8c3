/// Batch normalisation over (N, C, H, W) or (N, C), per channel, parallel over channels.
extension ReferenceBackend {
    /// Sizes: N, C and the spatial extent (H·W, or 1 for rank-2 input).
    @inline(__always)
    static func batchNormSizes(_ shape: [Int]) -> (n: Int, c: Int, spatial: Int) {
        precondition(shape.count == 4 || shape.count == 2, "batch norm: input must be (N, C, H, W) or (N, C), got \(shape)")
        return (shape[0], shape[1], shape.count == 4 ? shape[2] * shape[3] : 1)
    }

    /// Training-mode batch norm (PyTorch `F.batch_norm(training=True)`): batch mean μ and biased variance σ²
    /// per channel (accumulated in Double, two passes), `y = (x − μ)·invstd·scale + shift` with
    /// `invstd = 1/√(σ² + ε)`.
    public static func batchNormTrainingForward(_ x: Tensor, scale: Tensor, shift: Tensor, epsilon: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor, inverseStd: Tensor) {
        let (n, c, sp) = batchNormSizes(x.shape)
        precondition(scale.shape == [c] && shift.shape == [c], "batch norm: scale \(scale.shape), shift \(shift.shape) for \(c) channels")
        var y = Tensor(uninitializedShape: x.shape)
        var mean = [Float](repeating: 0, count: c), variance = mean, invstd = mean
        let m = Double(n * sp)
        let gamma = scale.scalars, beta = shift.scalars
        x.withReadPointer { xp in
            y.withUnsafeMutableBufferPointer { yb in
                mean.withUnsafeMutableBufferPointer { mb in
                    variance.withUnsafeMutableBufferPointer { vb in
                        invstd.withUnsafeMutableBufferPointer { ib in
                            let box = UnsafeSendable((xp, yb.baseAddress!, mb.baseAddress!, vb.baseAddress!, ib.baseAddress!))
                            parallelChunks(c, minChunk: 1) { range in
                                let (xp, yp, mp, vp, ip) = box.value
                                for ch in range {
                                    var s = 0.0
                                    for b in 0..<n { s += sumSIMD(xp + (b * c + ch) * sp, count: sp) }
                                    let mu = m > 0 ? s / m : 0
                                    var ss = 0.0
                                    for b in 0..<n {
                                        let p = xp + (b * c + ch) * sp
                                        for i in 0..<sp { let d = Double(p[i]) - mu; ss += d * d }
                                    }
                                    let v = m > 0 ? ss / m : 0
                                    let inv = 1 / (v + Double(epsilon)).squareRoot()
                                    mp[ch] = Float(mu); vp[ch] = Float(v); ip[ch] = Float(inv)
                                    let a = Float(inv) * gamma[ch], bsh = beta[ch] - Float(mu) * a
                                    for b in 0..<n {
                                        let p = xp + (b * c + ch) * sp, q = yp + (b * c + ch) * sp
                                        for i in 0..<sp { q[i] = p[i] * a + bsh }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (y, Tensor(mean), Tensor(variance), Tensor(invstd))
    }

    /// Evaluation-mode batch norm: `y = (x − mean)/√(variance + ε)·scale + shift`.
    public static func batchNormInferenceForward(_ x: Tensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                                 variance: Tensor, epsilon: Float) -> Tensor {
        let (n, c, sp) = batchNormSizes(x.shape)
        precondition(scale.shape == [c] && shift.shape == [c] && mean.shape == [c] && variance.shape == [c],
                     "batch norm: parameter shapes \(scale.shape) \(shift.shape) \(mean.shape) \(variance.shape) for \(c) channels")
        let gamma = scale.scalars, beta = shift.scalars, mu = mean.scalars, v = variance.scalars
        var a = [Float](repeating: 0, count: c), bsh = a
        for ch in 0..<c {
            a[ch] = gamma[ch] / (v[ch] + epsilon).squareRoot()
            bsh[ch] = beta[ch] - mu[ch] * a[ch]
        }
        var y = Tensor(uninitializedShape: x.shape)
        x.withReadPointer { xp in
            y.withUnsafeMutableBufferPointer { yb in
                let box = UnsafeSendable((xp, yb.baseAddress!))
                parallelChunks(n * c, minChunk: max(1, 4096 / max(sp, 1))) { range in
                    let (xp, yp) = box.value
                    for plane in range {
                        let ch = plane % c
                        let p = xp + plane * sp, q = yp + plane * sp
                        for i in 0..<sp { q[i] = p[i] * a[ch] + bsh[ch] }
                    }
                }
            }
        }
        return y
    }

    /// Backward of batch norm given the statistics used in the forward (`mean`, `inverseStd`).
    /// `training: true` differentiates through the batch statistics (M = N·H·W):
    /// `dx = scale·invstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂))`; `training: false` treats them as constants:
    /// `dx = scale·invstd·dy`. Always `dscale = Σ dy·x̂`, `dshift = Σ dy`, with `x̂ = (x − mean)·invstd`.
    public static func batchNormBackward(_ gy: Tensor, input x: Tensor, scale: Tensor, mean: Tensor,
                                         inverseStd: Tensor, training: Bool)
        -> (input: Tensor, scale: Tensor, shift: Tensor) {
        let (n, c, sp) = batchNormSizes(x.shape)
        precondition(gy.shape == x.shape, "batch norm backward: gradOutput \(gy.shape) vs input \(x.shape)")
        let gamma = scale.scalars, mu = mean.scalars, inv = inverseStd.scalars
        var gx = Tensor(uninitializedShape: x.shape)
        var gscale = [Float](repeating: 0, count: c), gshift = gscale
        let m = Double(n * sp)
        x.withReadPointer { xp in
            gy.withReadPointer { gp in
                gx.withUnsafeMutableBufferPointer { xb in
                    gscale.withUnsafeMutableBufferPointer { sb in
                        gshift.withUnsafeMutableBufferPointer { hb in
                            let box = UnsafeSendable((xp, gp, xb.baseAddress!, sb.baseAddress!, hb.baseAddress!))
                            parallelChunks(c, minChunk: 1) { range in
                                let (xp, gp, gxp, sp0, hp) = box.value
                                for ch in range {
                                    var sdy = 0.0, sdyx = 0.0
                                    let muc = mu[ch], invc = inv[ch]
                                    for b in 0..<n {
                                        let p = xp + (b * c + ch) * sp, g = gp + (b * c + ch) * sp
                                        for i in 0..<sp {
                                            let dy = Double(g[i])
                                            sdy += dy
                                            sdyx += dy * Double((p[i] - muc) * invc)
                                        }
                                    }
                                    sp0[ch] = Float(sdyx); hp[ch] = Float(sdy)
                                    let k = gamma[ch] * invc
                                    let meanDy = Float(m > 0 ? sdy / m : 0), meanDyx = Float(m > 0 ? sdyx / m : 0)
                                    for b in 0..<n {
                                        let p = xp + (b * c + ch) * sp, g = gp + (b * c + ch) * sp
                                        let q = gxp + (b * c + ch) * sp
                                        if training {
                                            for i in 0..<sp {
                                                let xhat = (p[i] - muc) * invc
                                                q[i] = k * (g[i] - meanDy - xhat * meanDyx)
                                            }
                                        } else {
                                            for i in 0..<sp { q[i] = k * g[i] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (gx, Tensor(gscale), Tensor(gshift))
    }
}
