import Tensors

/// Writing NumPy `.npy` files (format 1.0, or 2.0 for huge headers), atomically (see `AtomicFile`).
public enum Npy {
    /// Writes a float32 tensor as `<f4`.
    public static func write(_ tensor: Tensor, to path: String) throws {
        try tensor.withUnsafeBufferPointer { try write(raw: UnsafeRawBufferPointer($0), dtype: .float32, shape: tensor.shape, to: path) }
    }

    /// Writes float64 values as `<f8` with the given shape.
    public static func write(_ values: [Double], shape: [Int], to path: String) throws {
        try values.withUnsafeBytes { try write(raw: $0, dtype: .float64, shape: shape, count: values.count, to: path) }
    }

    /// Writes Int64 values as `<i8` with the given shape.
    public static func write(_ values: [Int64], shape: [Int], to path: String) throws {
        try values.withUnsafeBytes { try write(raw: $0, dtype: .int64, shape: shape, count: values.count, to: path) }
    }

    /// Writes Int32 values as `<i4` with the given shape.
    public static func write(_ values: [Int32], shape: [Int], to path: String) throws {
        try values.withUnsafeBytes { try write(raw: $0, dtype: .int32, shape: shape, count: values.count, to: path) }
    }

    /// Writes bytes as `|u1` (or `|b1` when `asBool`) with the given shape.
    public static func write(_ values: [UInt8], shape: [Int], asBool: Bool = false, to path: String) throws {
        try values.withUnsafeBytes {
            try write(raw: $0, dtype: asBool ? .bool : .uint8, shape: shape, count: values.count, to: path)
        }
    }

    /// Writes raw little-endian element bytes with a header for `dtype` and `shape`.
    public static func write(raw: UnsafeRawBufferPointer, dtype: NpyDType, shape: [Int], count: Int? = nil,
                             to path: String) throws {
        let n = shape.reduce(1, *)
        precondition(count == nil || count == n, "Npy.write: \(count!) values for shape \(shape)")
        precondition(raw.count == n * dtype.size, "Npy.write: \(raw.count) bytes for \(n) elements of \(dtype)")
        let header = NpyHeader.encode(dtype: dtype, shape: shape)
        try header.withUnsafeBytes { try AtomicFile.write(to: path, chunks: [$0, raw]) }
    }
}
