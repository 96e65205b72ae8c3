/// A stored element type of the shifted Sinkhorn matrix, as written by the prepare pass (8 at a time). The
/// iterations read the matrix in C (`CSinkhornKernels`, the same encodings, widened per CPU at run time).
///
/// Encodings round to nearest-even. Stored values lie in [0, 1] (every row and column holds a 1).
protocol SinkhornElement {
    /// Bytes per element.
    static var byteSize: Int { get }
    /// Stores 8 float32 values at `p` in their natural order, rounded to this type.
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutableRawPointer)
    /// Loads one element.
    static func load1(_ p: UnsafeRawPointer) -> Float
}

/// float32 storage: loads and stores as is.
enum F32Element: SinkhornElement {
    static var byteSize: Int { 4 }
    @inline(__always) static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutableRawPointer) {
        p.storeBytes(of: v, as: SIMD8<Float>.self)
    }
    @inline(__always) static func load1(_ p: UnsafeRawPointer) -> Float { p.loadUnaligned(as: Float.self) }
}

/// bfloat16 storage: the top 16 bits of a float32 (8-bit significand, float32's exponent range).
enum BF16Element: SinkhornElement {
    static var byteSize: Int { 2 }
    @inline(__always) static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutableRawPointer) {
        let u = unsafeBitCast(v, to: SIMD8<UInt32>.self)
        let rounded = (u &+ 0x7FFF &+ ((u &>> 16) & 1)) &>> 16
        p.storeBytes(of: SIMD8<UInt16>(truncatingIfNeeded: rounded), as: SIMD8<UInt16>.self)
    }
    @inline(__always) static func load1(_ p: UnsafeRawPointer) -> Float {
        Float(bitPattern: UInt32(p.loadUnaligned(as: UInt16.self)) << 16)
    }
}

/// IEEE half storage for values in [0, 1], converted with integer and multiply tricks (no F16C needed):
/// `f16 → f32` is `bits << 13` reinterpreted as float32, times 2^112 (exact for normals and subnormals).
enum F16Element: SinkhornElement {
    static var byteSize: Int { 2 }
    @inline(__always) static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutableRawPointer) {
        let scaled = v * 0x1p-112  // float32 with the half's bits at position 13 (subnormals included)
        let u = unsafeBitCast(scaled, to: SIMD8<UInt32>.self)
        let rounded = (u &+ 0x0FFF &+ ((u &>> 13) & 1)) &>> 13
        p.storeBytes(of: SIMD8<UInt16>(truncatingIfNeeded: rounded), as: SIMD8<UInt16>.self)
    }
    @inline(__always) static func load1(_ p: UnsafeRawPointer) -> Float {
        Float(bitPattern: UInt32(p.loadUnaligned(as: UInt16.self)) << 13) * 0x1p112
    }
}

/// exp(x) for float32 lanes, x ≤ 0 (inputs below −87.3 give 0): 2^n · 2^f with a degree-7 polynomial for
/// 2^f, f ∈ [−½, ½]; relative error below 2e-7. Uses only multiply, add and integer ops, so it vectorises
/// on the baseline x86-64 target.
@inline(__always)
func sinkhornExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let clamped = x.replacing(with: -87.3, where: x .< -87.3)
    let t = clamped * 1.442695040888963
    let magic: Float = 12582912  // 1.5 · 2^23: adding it rounds to an integer held in the low bits
    let shifted = t + magic
    let n = shifted - magic
    let f = (t - n) * 0.6931471805599453
    var p = SIMD8<Float>(repeating: 1.0 / 5040)
    p = p * f + 1.0 / 720
    p = p * f + 1.0 / 120
    p = p * f + 1.0 / 24
    p = p * f + 1.0 / 6
    p = p * f + 0.5
    p = p * f + 1
    p = p * f + 1
    let ni = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((ni &+ 127) &<< 23, to: SIMD8<Float>.self)
    let result = p * scale
    return result.replacing(with: 0, where: x .< -87.3)
}
