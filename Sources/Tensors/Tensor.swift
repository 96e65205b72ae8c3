/// An N-dimensional float32 array with value semantics over shared, copy-on-write storage.
///
/// Layout is row-major (C order) like PyTorch's default NCHW, described by `shape`, `strides` (in elements)
/// and an `offset` into the storage. Reshape of a contiguous tensor, slicing along the first axis and
/// transposition are free views; any mutation of a tensor whose storage is shared copies it first
/// (copy-on-write), so views never alias visibly.
///
/// Element type: float32 only. Every network, kernel and fixture in SelfLabel is float32; the one place
/// that needs float64 — the Sinkhorn-Knopp fidelity mode (`--dtype f64`) — works on `DoubleTensor`, a small
/// separate type, rather than making every kernel generic (generic code is not specialised across module
/// boundaries in Swift, and a per-element witness-table call would ruin the hot loops).
public struct Tensor: @unchecked Sendable {
    /// The memory, possibly shared with other tensors.
    public private(set) var storage: TensorStorage
    /// Index of element [0, 0, …] in `storage`.
    public private(set) var offset: Int
    /// Extent of each axis.
    public private(set) var shape: [Int]
    /// Step in elements between neighbours along each axis.
    public private(set) var strides: [Int]

    // MARK: Construction

    /// A tensor viewing `storage` with an explicit layout (no copy).
    public init(storage: TensorStorage, offset: Int = 0, shape: [Int], strides: [Int]? = nil) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        let strides = strides ?? Tensor.contiguousStrides(for: shape)
        precondition(strides.count == shape.count, "Tensor: strides \(strides) do not match shape \(shape)")
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.strides = strides
    }

    /// A contiguous tensor of the given shape with every element set to `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(storage: TensorStorage(count: Tensor.elementCount(shape), repeating: value), shape: shape)
    }

    /// A contiguous tensor whose elements (row-major) are `scalars`; `scalars.count` must equal the shape's size.
    public init(shape: [Int], scalars: [Float]) {
        let n = Tensor.elementCount(shape)
        precondition(scalars.count == n, "Tensor: \(scalars.count) scalars for shape \(shape) (needs \(n))")
        let s = TensorStorage(uninitializedCount: n)
        scalars.withUnsafeBufferPointer { src in
            if n > 0 { s.base.initialize(from: src.baseAddress!, count: n) }
        }
        self.init(storage: s, shape: shape)
    }

    /// A rank-1 tensor of `scalars`.
    public init(_ scalars: [Float]) { self.init(shape: [scalars.count], scalars: scalars) }

    /// A rank-0 tensor holding `value`.
    public init(scalar value: Float) { self.init(shape: [], repeating: value) }

    /// A contiguous tensor of uninitialised memory: every element must be written before it is read.
    public init(uninitializedShape shape: [Int]) {
        self.init(storage: TensorStorage(uninitializedCount: Tensor.elementCount(shape)), shape: shape)
    }

    /// A contiguous tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    /// A contiguous tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// A tensor filled by `body(i)` for the row-major flat index `i`.
    public init(shape: [Int], generator body: (Int) throws -> Float) rethrows {
        self.init(uninitializedShape: shape)
        let p = storage.base
        for i in 0..<Tensor.elementCount(shape) { p[i] = try body(i) }
    }

    // MARK: Shape

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements (1 for a scalar, 0 if any extent is 0).
    public var count: Int { Tensor.elementCount(shape) }
    /// True when the elements are laid out row-major without gaps (views by reshape/first-axis slicing are).
    public var isContiguous: Bool {
        var expected = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// Product of the extents.
    public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major strides for `shape`.
    public static func contiguousStrides(for shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = step
            step *= Swift.max(shape[axis], 1)
        }
        return strides
    }

    // MARK: Element access

    /// Storage index of a multi-index.
    @inline(__always)
    func storageIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == rank, "Tensor: \(indices.count) indices for rank-\(rank) tensor \(shape)")
        var at = offset
        for (axis, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[axis], "Tensor: index \(indices) out of range for shape \(shape)")
            at += i * strides[axis]
        }
        return at
    }

    /// Element at a multi-index (slow path; for tests and small bookkeeping, not for kernels).
    public subscript(indices: Int...) -> Float {
        get { storage.base[storageIndex(indices)] }
        set {
            makeUnique()
            storage.base[storageIndex(indices)] = newValue
        }
    }

    /// The single element of a tensor with one element.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements")
        return storage.base[offset]
    }

    /// All elements in row-major order.
    public var scalars: [Float] {
        let c = contiguous()
        return Array(UnsafeBufferPointer(start: c.storage.base + c.offset, count: c.count))
    }

    // MARK: Raw access

    /// Calls `body` with the elements in row-major order (copies only when the tensor is not contiguous).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let c = contiguous()
        return try withExtendedLifetime(c.storage) {
            try body(UnsafeBufferPointer(start: c.storage.base + c.offset, count: c.count))
        }
    }

    /// Calls `body` with writable elements in row-major order; makes the storage unique and contiguous first.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isContiguous { self = contiguous() }
        makeUnique()
        return try withExtendedLifetime(storage) {
            try body(UnsafeMutableBufferPointer(start: storage.base + offset, count: count))
        }
    }

    /// Copies the storage if it is shared, so that writing cannot be seen through another tensor.
    public mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            let c = materialized()
            storage = c.storage
            offset = 0
            strides = c.strides
        }
    }

    /// A contiguous tensor with the same elements: `self` when already contiguous, else a fresh copy.
    public func contiguous() -> Tensor { isContiguous ? self : materialized() }

    /// A fresh contiguous copy in its own storage.
    public func materialized() -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        let n = count
        if n == 0 { return out }
        let dst = out.storage.base
        if isContiguous {
            dst.update(from: storage.base + offset, count: n)
        } else {
            var k = 0
            forEachStorageIndex { dst[k] = storage.base[$0]; k += 1 }
        }
        out.offset = 0
        return out
    }

    /// Visits the storage index of every element in row-major order.
    @inline(__always)
    func forEachStorageIndex(_ body: (Int) -> Void) {
        Tensor.forEachStorageIndex(shape: shape, strides: strides, offset: offset, body)
    }

    /// Visits, in row-major order, the storage index of every element of the view `shape`/`strides`/`offset`
    /// (in elements) — for any element type (the PyTorch reader gathers float16/int64 storages with it).
    @inline(__always)
    public static func forEachStorageIndex(shape: [Int], strides: [Int], offset: Int, _ body: (Int) -> Void) {
        let rank = shape.count
        if shape.contains(0) { return }
        if rank == 0 { body(offset); return }
        var index = [Int](repeating: 0, count: rank)
        var at = offset
        let last = rank - 1
        let lastExtent = shape[last], lastStride = strides[last]
        while true {
            var p = at
            for _ in 0..<lastExtent { body(p); p += lastStride }
            // Advance the outer axes.
            var axis = last - 1
            while axis >= 0 {
                index[axis] += 1
                at += strides[axis]
                if index[axis] < shape[axis] { break }
                at -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = scalars
        let shown = values.prefix(16).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(values.count > 16 ? ", …" : "")])"
    }
}
