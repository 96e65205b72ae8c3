#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Elementwise arithmetic with broadcasting, unary math, comparisons (PyTorch semantics, float32).
/// Large contiguous operands are split over `ComputeThreads.count` threads.
extension Tensor {
    // MARK: Kernels

    /// `f(a, b)` elementwise over the broadcast shape.
    @inline(__always)
    static func binary(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        guard let shape = Broadcasting.shape(a.shape, b.shape) else {
            preconditionFailure("Tensor: shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let out = Tensor(uninitializedShape: shape)
        let n = out.count
        if n == 0 { return out }
        let o = UnsafeSendable(out.storage.base)
        let pa = UnsafeSendable(a.storage.base + a.offset), pb = UnsafeSendable(b.storage.base + b.offset)
        if a.shape == b.shape && a.isContiguous && b.isContiguous {
            withoutActuallyEscaping(f) { f in
                let fb = UnsafeSendable(f)
                parallelChunks(n) { r in
                    for i in r { o.value[i] = fb.value(pa.value[i], pb.value[i]) }
                }
            }
        } else if b.count == 1 && a.shape == shape && a.isContiguous {
            let s = pb.value[0]
            for i in 0..<n { o.value[i] = f(pa.value[i], s) }
        } else if a.count == 1 && b.shape == shape && b.isContiguous {
            let s = pa.value[0]
            for i in 0..<n { o.value[i] = f(s, pb.value[i]) }
        } else {
            let sa = a.broadcastStrides(to: shape), sb = b.broadcastStrides(to: shape)
            var k = 0
            forEachIndexPair(shape: shape, sa, sb) { ia, ib, count, ja, jb in
                var ia = ia, ib = ib
                for _ in 0..<count {
                    o.value[k] = f(pa.value[ia], pb.value[ib])
                    k += 1; ia += ja; ib += jb
                }
            }
        }
        return out
    }

    /// Walks a shape in row-major order, giving for each innermost run the starting offsets of two strided
    /// operands, the run length and their innermost steps.
    @inline(__always)
    static func forEachIndexPair(shape: [Int], _ sa: [Int], _ sb: [Int],
                                 _ body: (Int, Int, Int, Int, Int) -> Void) {
        let rank = shape.count
        if rank == 0 { body(0, 0, 1, 0, 0); return }
        if shape.contains(0) { return }
        let last = rank - 1
        var index = [Int](repeating: 0, count: rank)
        var ia = 0, ib = 0
        while true {
            body(ia, ib, shape[last], sa[last], sb[last])
            var axis = last - 1
            while axis >= 0 {
                index[axis] += 1
                ia += sa[axis]; ib += sb[axis]
                if index[axis] < shape[axis] { break }
                ia -= sa[axis] * shape[axis]; ib -= sb[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }

    /// `f(x)` elementwise.
    @inline(__always)
    func unary(_ f: (Float) -> Float) -> Tensor {
        let src = contiguous()
        let out = Tensor(uninitializedShape: shape)
        let n = count
        if n == 0 { return out }
        let o = UnsafeSendable(out.storage.base), p = UnsafeSendable(src.storage.base + src.offset)
        withoutActuallyEscaping(f) { f in
            let fb = UnsafeSendable(f)
            parallelChunks(n) { r in
                for i in r { o.value[i] = fb.value(p.value[i]) }
            }
        }
        return out
    }

    // MARK: Arithmetic

    public static func + (a: Tensor, b: Tensor) -> Tensor { binary(a, b) { $0 + $1 } }
    public static func - (a: Tensor, b: Tensor) -> Tensor { binary(a, b) { $0 - $1 } }
    public static func * (a: Tensor, b: Tensor) -> Tensor { binary(a, b) { $0 * $1 } }
    public static func / (a: Tensor, b: Tensor) -> Tensor { binary(a, b) { $0 / $1 } }
    public static func + (a: Tensor, s: Float) -> Tensor { a.unary { $0 + s } }
    public static func - (a: Tensor, s: Float) -> Tensor { a.unary { $0 - s } }
    public static func * (a: Tensor, s: Float) -> Tensor { a.unary { $0 * s } }
    public static func / (a: Tensor, s: Float) -> Tensor { a.unary { $0 / s } }
    public static func + (s: Float, a: Tensor) -> Tensor { a.unary { s + $0 } }
    public static func - (s: Float, a: Tensor) -> Tensor { a.unary { s - $0 } }
    public static func * (s: Float, a: Tensor) -> Tensor { a.unary { s * $0 } }
    public static func / (s: Float, a: Tensor) -> Tensor { a.unary { s / $0 } }
    public static prefix func - (a: Tensor) -> Tensor { a.unary { -$0 } }

    /// In-place `lhs += rhs` (rhs broadcast to lhs's shape). Used to accumulate gradients.
    public static func += (lhs: inout Tensor, rhs: Tensor) {
        if lhs.shape == rhs.shape && rhs.isContiguous {
            lhs.makeUnique()
            if !lhs.isContiguous { lhs = lhs.materialized() }
            let n = lhs.count
            let o = UnsafeSendable(lhs.storage.base + lhs.offset), p = UnsafeSendable(rhs.storage.base + rhs.offset)
            parallelChunks(n) { r in
                for i in r { o.value[i] += p.value[i] }
            }
        } else {
            precondition(Broadcasting.shape(lhs.shape, rhs.shape) == lhs.shape,
                         "Tensor +=: \(rhs.shape) does not broadcast to \(lhs.shape)")
            lhs = lhs + rhs
        }
    }

    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs - rhs }
    public static func *= (lhs: inout Tensor, s: Float) { lhs = lhs * s }

    /// Elementwise maximum (NaN-propagating like `torch.maximum`).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(a, b) { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
    }
    /// Elementwise minimum (NaN-propagating like `torch.minimum`).
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(a, b) { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }
    }

    /// `self ** exponent` elementwise (`powf`).
    public func pow(_ exponent: Float) -> Tensor { unary { Glibc.powf($0, exponent) } }
    /// `a ** b` elementwise with broadcasting.
    public static func pow(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b) { Glibc.powf($0, $1) } }

    // MARK: Unary math

    public func exp() -> Tensor { unary { expf($0) } }
    public func log() -> Tensor { unary { logf($0) } }
    public func sqrt() -> Tensor { unary { sqrtf($0) } }
    public func abs() -> Tensor { unary { Swift.abs($0) } }
    /// `max(x, 0)`; NaN stays NaN (as `torch.relu`).
    public func relu() -> Tensor { unary { $0 > 0 || $0.isNaN ? $0 : 0 } }
    /// Clamps into [low, high].
    public func clamped(_ low: Float, _ high: Float) -> Tensor { unary { Swift.min(Swift.max($0, low), high) } }

    // MARK: Comparisons (1 where true, 0 where false)

    public static func .> (a: Tensor, b: Tensor) -> Tensor { binary(a, b) { $0 > $1 ? 1 : 0 } }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { binary(a, b) { $0 < $1 ? 1 : 0 } }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { binary(a, b) { $0 >= $1 ? 1 : 0 } }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { binary(a, b) { $0 <= $1 ? 1 : 0 } }
    public static func .== (a: Tensor, b: Tensor) -> Tensor { binary(a, b) { $0 == $1 ? 1 : 0 } }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { binary(a, b) { $0 != $1 ? 1 : 0 } }
}
