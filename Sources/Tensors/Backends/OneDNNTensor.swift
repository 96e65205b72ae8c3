import CDNNL
#if canImport(Glibc)
import Glibc
#endif

/// A value held by `OneDNNBackend` in a layout oneDNN chose (for example blocked `nChw16c`).
///
/// Returned by the backend's kernels as `KernelTensor.native` and accepted back by them without conversion.
/// `dense()` reorders to the public row-major NCHW layout once and caches the result.
public final class OneDNNTensor: NativeTensor, @unchecked Sendable {
    /// Logical shape in public axis order (N, C, H, W).
    public let shape: [Int]
    /// oneDNN's description of the layout.
    let desc: dnnl_memory_desc_t
    /// The bytes (from the backend's pool; returned to it when this value goes away).
    let buffer: OneDNNBuffer
    let backend: OneDNNBackend
    private let cacheLock = OneDNNLock()
    nonisolated(unsafe) private var cachedDense: Tensor? = nil

    init(desc: dnnl_memory_desc_t, shape: [Int], backend: OneDNNBackend) {
        var d = desc
        self.desc = desc
        self.shape = shape
        self.backend = backend
        self.buffer = backend.pool.take(bytes: dnnl_memory_desc_get_size(&d))
    }

    public var backendName: String { backend.name }

    /// A short description of the layout: the inner blocks, e.g. "blocked [16@1]" for nChw16c.
    public var layoutDescription: String {
        guard desc.format_kind == dnnl_blocked else { return "format kind \(desc.format_kind.rawValue)" }
        let b = desc.format_desc.blocking
        let k = Int(b.inner_nblks)
        var blocks: [String] = []
        withUnsafeBytes(of: b.inner_blks) { sizes in
            withUnsafeBytes(of: b.inner_idxs) { idxs in
                let s = sizes.bindMemory(to: Int64.self), i = idxs.bindMemory(to: Int64.self)
                for j in 0..<k { blocks.append("\(s[j])@\(i[j])") }
            }
        }
        return "blocked [\(blocks.joined(separator: ","))]"
    }

    /// The value in the public row-major layout (reordered once, then cached).
    public func dense() -> Tensor {
        if let t = cacheLock.locked({ cachedDense }) { return t }
        let t = backend.denseCopy(self)
        cacheLock.locked { cachedDense = t }
        return t
    }
}

/// A `dnnl_memory_t` over memory someone else owns (a native tensor's buffer, a dense tensor's storage, a
/// scratch buffer); it keeps that owner alive and destroys only the handle.
final class OneDNNMemory {
    let handle: dnnl_memory_t
    let desc: dnnl_memory_desc_t
    let shape: [Int]
    let pointer: UnsafeMutableRawPointer
    private let owner: Any?

    init(engine: dnnl_engine_t, desc: dnnl_memory_desc_t, pointer: UnsafeMutableRawPointer, shape: [Int], owner: Any?) {
        var d = desc
        var m: dnnl_memory_t? = nil
        OneDNNBackend.check(dnnl_memory_create(&m, &d, engine, pointer), "dnnl_memory_create \(shape)")
        handle = m!
        self.desc = desc
        self.shape = shape
        self.pointer = pointer
        self.owner = owner
    }

    /// Over a native tensor's buffer.
    convenience init(engine: dnnl_engine_t, desc: dnnl_memory_desc_t, tensor: OneDNNTensor) {
        self.init(engine: engine, desc: desc, pointer: tensor.buffer.pointer, shape: tensor.shape, owner: tensor)
    }

    /// Over a contiguous dense tensor's elements (read-only use).
    convenience init(engine: dnnl_engine_t, desc: dnnl_memory_desc_t, tensor: Tensor) {
        precondition(tensor.isContiguous, "OneDNNMemory: tensor \(tensor.shape) must be contiguous")
        let p = tensor.storage.base + tensor.offset
        self.init(engine: engine, desc: desc, pointer: UnsafeMutableRawPointer(p), shape: tensor.shape, owner: tensor)
    }

    /// Over a scratch buffer.
    convenience init(engine: dnnl_engine_t, desc: dnnl_memory_desc_t, buffer: OneDNNBuffer, shape: [Int]) {
        self.init(engine: engine, desc: desc, pointer: buffer.pointer, shape: shape, owner: buffer)
    }

    deinit { dnnl_memory_destroy(handle) }
}

/// Raw bytes, 64-byte aligned; returned to its pool (if any) when released.
final class OneDNNBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    /// Capacity in bytes.
    let bytes: Int
    private let pool: OneDNNBufferPool?

    init(bytes: Int, pool: OneDNNBufferPool? = nil) {
        self.bytes = bytes
        self.pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
        self.pool = pool
    }

    fileprivate init(recycled pointer: UnsafeMutableRawPointer, bytes: Int, pool: OneDNNBufferPool) {
        self.pointer = pointer
        self.bytes = bytes
        self.pool = pool
    }

    deinit {
        if let pool { pool.give(pointer, bytes: bytes) } else { pointer.deallocate() }
    }
}

/// Recycles large buffers by exact byte size, so the activations of step k+1 reuse the memory of step k
/// instead of going through `mmap`/page faults each time (glibc maps blocks above 32 MB freshly on every
/// allocation). Buffers below `minPooledBytes` go to `malloc` directly; at most `maxPooledBytes` are kept idle.
public final class OneDNNBufferPool: @unchecked Sendable {
    /// Sizes below this are not pooled (malloc's own free lists serve them well).
    public let minPooledBytes = 256 << 10
    /// Upper bound on idle bytes kept.
    public let maxPooledBytes: Int
    private let lock = OneDNNLock()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var idleBytes = 0

    init(maxPooledBytes: Int) { self.maxPooledBytes = maxPooledBytes }

    deinit {
        for (_, ps) in free { for p in ps { p.deallocate() } }
    }

    /// Bytes currently idle in the pool.
    public var idle: Int { lock.locked { idleBytes } }

    /// A buffer of exactly `bytes` bytes (recycled when one is idle).
    func take(bytes: Int) -> OneDNNBuffer {
        if bytes < minPooledBytes { return OneDNNBuffer(bytes: bytes) }
        let recycled: UnsafeMutableRawPointer? = lock.locked {
            guard var list = free[bytes], let p = list.popLast() else { return nil }
            free[bytes] = list
            idleBytes -= bytes
            return p
        }
        if let recycled { return OneDNNBuffer(recycled: recycled, bytes: bytes, pool: self) }
        return OneDNNBuffer(bytes: bytes, pool: self)
    }

    /// Takes a buffer back (or frees it when the pool is full).
    func give(_ p: UnsafeMutableRawPointer, bytes: Int) {
        let kept: Bool = lock.locked {
            guard idleBytes + bytes <= maxPooledBytes else { return false }
            free[bytes, default: []].append(p)
            idleBytes += bytes
            return true
        }
        if !kept { p.deallocate() }
    }

    /// Frees every idle buffer.
    public func drain() {
        let all: [UnsafeMutableRawPointer] = lock.locked {
            let a = free.values.flatMap { $0 }
            free.removeAll()
            idleBytes = 0
            return a
        }
        for p in all { p.deallocate() }
    }
}
