/// A stored element type of the shifted Sinkhorn matrix, as written by the prepare pass (8 at a time). The
/// iterations read the matrix in C (`CSinkhornKernels`, the same encodings, widened per CPU at run time).
///
/// Encodings round to nearest-even. Stored values lie in [0, 1] (every row and column holds a 1).
protocol SinkhornElement {
    /// Bytes per element.
    static var byteSize: Int { get }
    /// Stores 8 float32 values at `p` in their natural order, rounded to this type.
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutableRawPointer)
}

/// float32 storage: loads and stores as is.
enum F32Element: SinkhornElement {
    static var byteSize: Int { 4 }
    @inline(__always) static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutableRawPointer) {
        p.storeBytes(of: v, as: SIMD8<Float>.self)
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
}
