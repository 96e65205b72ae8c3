#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reductions along axes and over the whole tensor (PyTorch semantics; float32 results, sums of long
/// contiguous runs accumulated in SIMD lanes and whole-tensor sums in float64 for accuracy).
extension Tensor {
    /// The tensor seen as (outer, extent of `axis`, inner), contiguous.
    private func axisGeometry(_ axis: Int) -> (src: Tensor, outer: Int, n: Int, inner: Int) {
        precondition(axis >= 0 && axis < rank, "Tensor: axis \(axis) out of range for shape \(shape)")
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        return (contiguous(), outer, shape[axis], inner)
    }

    private func reducedShape(_ axis: Int, keeping: Bool) -> [Int] {
        var s = shape
        if keeping { s[axis] = 1 } else { s.remove(at: axis) }
        return s
    }

    /// Folds `axis` with `combine`, starting from the first element along the axis.
    @inline(__always)
    private func fold(axis: Int, keeping: Bool, _ combine: (Float, Float) -> Float) -> Tensor {
        let (src, outer, n, inner) = axisGeometry(axis)
        precondition(n > 0, "Tensor: cannot reduce empty axis \(axis) of shape \(shape) without an identity")
        let out = Tensor(uninitializedShape: reducedShape(axis, keeping: keeping))
        let x = src.storage.base + src.offset, o = out.storage.base
        for b in 0..<outer {
            let ob = o + b * inner, xb = x + b * n * inner
            ob.update(from: xb, count: inner)
            for a in 1..<Swift.max(n, 1) {
                let xa = xb + a * inner
                for i in 0..<inner { ob[i] = combine(ob[i], xa[i]) }
            }
        }
        return out
    }

    /// Sum along `axis`.
    public func sum(alongAxis axis: Int, keepingDimensions keeping: Bool = false) -> Tensor {
        let (src, outer, n, inner) = axisGeometry(axis)
        let out = Tensor(shape: reducedShape(axis, keeping: keeping), repeating: 0)
        let x = UnsafeSendable(src.storage.base + src.offset), o = UnsafeSendable(out.storage.base)
        if inner == 1 {
            parallelChunks(outer, minChunk: Swift.max(1, 65_536 / Swift.max(n, 1))) { rows in
                for b in rows { o.value[b] = Tensor.contiguousSum(x.value + b * n, n) }
            }
        } else {
            parallelChunks(outer, minChunk: Swift.max(1, 65_536 / Swift.max(n * inner, 1))) { rows in
                for b in rows {
                    let ob = o.value + b * inner, xb = x.value + b * n * inner
                    for a in 0..<n {
                        let xa = xb + a * inner
                        for i in 0..<inner { ob[i] += xa[i] }
                    }
                }
            }
        }
        return out
    }

    /// Sum over several axes (any order, no duplicates).
    public func sum(alongAxes axes: [Int], keepingDimensions keeping: Bool = false) -> Tensor {
        precondition(Set(axes).count == axes.count, "Tensor.sum: duplicate axes \(axes)")
        var t = self
        for axis in axes.sorted(by: >) { t = t.sum(alongAxis: axis, keepingDimensions: true) }
        if keeping { return t }
        let kept = shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
        return t.reshaped(kept)
    }

    /// Mean along `axis`.
    public func mean(alongAxis axis: Int, keepingDimensions keeping: Bool = false) -> Tensor {
        sum(alongAxis: axis, keepingDimensions: keeping) / Float(shape[axis])
    }

    /// Mean over several axes.
    public func mean(alongAxes axes: [Int], keepingDimensions keeping: Bool = false) -> Tensor {
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: axes, keepingDimensions: keeping) / Float(n)
    }

    /// Sum of all elements (rank-0 tensor), accumulated in float64.
    public func sum() -> Tensor {
        Tensor(scalar: Float(withUnsafeBufferPointer { Tensor.accurateSum($0.baseAddress, $0.count) }))
    }

    /// Mean of all elements (rank-0 tensor; NaN when empty, like PyTorch).
    public func mean() -> Tensor {
        Tensor(scalar: Float(withUnsafeBufferPointer { Tensor.accurateSum($0.baseAddress, $0.count) } / Double(count)))
    }

    /// Maximum along `axis` (NaN propagates).
    public func max(alongAxis axis: Int, keepingDimensions keeping: Bool = false) -> Tensor {
        fold(axis: axis, keeping: keeping) { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
    }

    /// Minimum along `axis` (NaN propagates).
    public func min(alongAxis axis: Int, keepingDimensions keeping: Bool = false) -> Tensor {
        fold(axis: axis, keeping: keeping) { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }
    }

    /// Largest element (NaN if any element is NaN).
    public func max() -> Float { reshaped([count]).max(alongAxis: 0).scalar }
    /// Smallest element (NaN if any element is NaN).
    public func min() -> Float { reshaped([count]).min(alongAxis: 0).scalar }

    /// Index of the largest element along `axis` (first one on ties; a NaN counts as largest, as in PyTorch),
    /// in row-major order of the reduced shape (`shape` without `axis`).
    public func argmax(alongAxis axis: Int) -> [Int] {
        let (src, outer, n, inner) = axisGeometry(axis)
        precondition(n > 0, "Tensor.argmax: empty axis \(axis) of shape \(shape)")
        let x = src.storage.base + src.offset
        var result = [Int](repeating: 0, count: outer * inner)
        for b in 0..<outer {
            for i in 0..<inner {
                var best = x[b * n * inner + i], at = 0
                if !best.isNaN {
                    for a in 1..<Swift.max(n, 1) {
                        let v = x[(b * n + a) * inner + i]
                        if v.isNaN { at = a; break }
                        if v > best { best = v; at = a }
                    }
                }
                result[b * inner + i] = at
            }
        }
        return result
    }

    /// `log Σ exp(x)` along `axis`, computed stably as `m + log Σ exp(x − m)` with `m` the maximum.
    public func logSumExp(alongAxis axis: Int, keepingDimensions keeping: Bool = false) -> Tensor {
        let m = max(alongAxis: axis, keepingDimensions: true)
        // A row of -inf would give -inf - -inf = NaN: shift by 0 there instead.
        let shift = m.unary { $0.isFinite ? $0 : 0 }
        let s = (self - shift).exp().sum(alongAxis: axis, keepingDimensions: true).log() + shift
        return keeping ? s : s.squeezed(at: axis)
    }

    // MARK: Summation kernels

    /// Sum of `n` contiguous floats with 16 independent lanes (vectorisable).
    @inline(__always)
    static func contiguousSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 16 <= n {
            acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        var s = acc.sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    /// Sum of `n` floats, lane sums of blocks of 4096 accumulated in float64.
    static func accurateSum(_ p: UnsafePointer<Float>?, _ n: Int) -> Double {
        guard let p, n > 0 else { return 0 }
        var total = 0.0
        var i = 0
        while i < n {
            let len = Swift.min(4096, n - i)
            total += Double(contiguousSum(p + i, len))
            i += len
        }
        return total
    }
}
