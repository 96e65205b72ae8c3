/// A stored element type of the shifted Sinkhorn matrix, widened to float32 on load (SIMD, 8 at a time: the
/// package is built for baseline x86-64, where 8-lane vectors map to SSE register pairs and wider ones are
/// partly scalarised by the compiler).
///
/// Encodings round to nearest-even. Stored values lie in [0, 1] (every row and column holds a 1).
protocol SinkhornElement {
    /// Bytes per element.
    static var byteSize: Int { get }
    /// Stores 8 float32 values at `p` in their natural order, rounded to this type.
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutableRawPointer)
    /// Loads one element.
    static func load1(_ p: UnsafeRawPointer) -> Float
    /// Loads 8 consecutive elements at `p` as float32 (the iteration kernels' width: two SSE registers).
    /// When `interleaved`, the lanes hold elements 0, 2, 4, 6, 1, 3, 5, 7 (16-bit types widen with one shift
    /// or mask per 4 lanes that way); vectors multiplied with them must be permuted alike.
    static func load8(_ p: UnsafeRawPointer) -> SIMD8<Float>
    /// Whether `load8` returns the even elements, then the odd ones.
    static var interleaved: Bool { get }
}

extension SinkhornElement {
    static var interleaved: Bool { byteSize == 2 }
}

/// float32 storage: loads and stores as is.
enum F32Element: SinkhornElement {
    static var byteSize: Int { 4 }
    @inline(__always) static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutableRawPointer) {
        p.storeBytes(of: v, as: SIMD8<Float>.self)
    }
    @inline(__always) static func load1(_ p: UnsafeRawPointer) -> Float { p.loadUnaligned(as: Float.self) }
    @inline(__always) static func load8(_ p: UnsafeRawPointer) -> SIMD8<Float> {
        p.loadUnaligned(as: SIMD8<Float>.self)
    }
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
    @inline(__always) static func load8(_ p: UnsafeRawPointer) -> SIMD8<Float> {
        let w = p.loadUnaligned(as: SIMD4<UInt32>.self)
        return SIMD8(lowHalf: unsafeBitCast(w &<< 16, to: SIMD4<Float>.self),
                     highHalf: unsafeBitCast(w & 0xFFFF_0000, to: SIMD4<Float>.self))
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
    @inline(__always) static func load8(_ p: UnsafeRawPointer) -> SIMD8<Float> {
        let w = p.loadUnaligned(as: SIMD4<UInt32>.self)
        let even = unsafeBitCast((w & 0xFFFF) &<< 13, to: SIMD4<Float>.self)
        let odd = unsafeBitCast((w &>> 16) &<< 13, to: SIMD4<Float>.self)
        return SIMD8(lowHalf: even, highHalf: odd) * 0x1p112
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
