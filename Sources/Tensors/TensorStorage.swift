#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The shared, reference-counted memory behind one or more `Tensor` values.
///
/// A storage owns `count` float32 elements at `base`, 64-byte aligned (so SIMD loads and oneDNN are happy).
/// It can also adopt memory it did not allocate — a memory-mapped file, for example — with a custom release
/// function. `Tensor` implements copy-on-write on top of it: a mutation first checks
/// `isKnownUniquelyReferenced` and copies the storage when it is shared.
public final class TensorStorage: @unchecked Sendable {
    /// First element.
    public let base: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int
    private let release: (@Sendable (UnsafeMutablePointer<Float>, Int) -> Void)?

    /// Allocates `count` uninitialised elements (64-byte aligned).
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative count \(count)")
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        self.base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        self.release = nil
    }

    /// Allocates `count` elements set to `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    /// Adopts memory owned elsewhere; `release` is called exactly once when the last reference goes away.
    public init(adopting base: UnsafeMutablePointer<Float>, count: Int,
                release: @escaping @Sendable (UnsafeMutablePointer<Float>, Int) -> Void) {
        self.base = base
        self.count = count
        self.release = release
    }

    deinit {
        if let release {
            release(base, count)
        } else {
            UnsafeMutableRawPointer(base).deallocate()
        }
    }

    /// A new storage holding a copy of `count` elements starting at `offset`.
    public func copy(offset: Int = 0, count: Int? = nil) -> TensorStorage {
        let n = count ?? (self.count - offset)
        let s = TensorStorage(uninitializedCount: n)
        s.base.update(from: base + offset, count: n)
        return s
    }
}
