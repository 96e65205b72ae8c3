import CDNNL
#if canImport(Glibc)
import Glibc
#endif

/// The fast CPU backend: convolution, pooling, batch normalisation, ReLU and addition through oneDNN 2.6
/// primitives (C API, Debian `libdnnl-dev`, OpenMP threads set by `ComputeThreads.set`).
///
/// - **Layouts.** Convolutions are created with `dnnl_format_tag_any`, so oneDNN picks its blocked layouts
///   (`nChw16c` activations and `OIhw16i16o` weights on AVX-512, `nChw8c` and 8-blocked weights on AVX2). Outputs are returned as `.native`
///   `OneDNNTensor`s in that layout and accepted back as inputs, so a conv → BN → ReLU → pool chain and its
///   backward run without reordering to NCHW; pooling, batch-norm, ReLU and add work in whatever layout their
///   input has. Dense (NCHW) inputs and native values of other backends are accepted (converted at entry).
/// - **Semantics** are `ReferenceBackend`'s (PyTorch's); the backend declines (returns `nil`) only when
///   oneDNN cannot create a primitive for a geometry, and for `relu`/`add` on two plain dense inputs (the
///   reference loop is as fast there and keeps the value dense for the layers that need it).
/// - **Caching.** Primitive descriptors and primitives are cached per shape, geometry, input layout and thread
///   count; reordered weights reuse one buffer per primitive; activation buffers come from a size-keyed pool
///   (`OneDNNBufferPool`), so steady-state steps allocate no large memory.
/// - **Threads.** oneDNN runs on the OpenMP pool sized by `ComputeThreads.set(n)`; primitives are cached per
///   thread count because oneDNN fixes its work split when a primitive is created.
///
/// Use it with `Kernels(preferring: [OneDNNBackend.shared])` (or `OneDNNBackend.kernels`).
public final class OneDNNBackend: KernelBackend, @unchecked Sendable {
    /// One process-wide instance (a CPU engine and stream).
    public static let shared = OneDNNBackend()

    /// `Kernels` that ask oneDNN first and fall back to the reference backend.
    public static var kernels: Kernels { Kernels(preferring: [shared]) }

    public var name: String { "onednn" }

    let engine: dnnl_engine_t
    let stream: dnnl_stream_t
    /// Guards the caches and the stream: one op runs at a time.
    let lock = OneDNNLock()
    /// Recycles activation buffers by size.
    public let pool: OneDNNBufferPool
    var primitives: [PrimitiveKey: OneDNNPrimitive] = [:]
    /// Per-primitive reusable buffers (reordered weights, weight gradients in the primitive's layout).
    var scratch: [ScratchKey: OneDNNBuffer] = [:]
    /// Input layout of the last average-pooling forward per (input shape, geometry), for its backward.
    var avgPoolInputLayouts: [AvgPoolKey: dnnl_memory_desc_t] = [:]

    /// Whether 2×2 / stride-2 max pooling runs our own kernel (`CTensorKernels`) rather than oneDNN's
    /// primitives (see `OneDNNBackend+Pooling.swift`).
    let directMaxPool: Bool

    /// A new backend with its own CPU engine, stream and caches. `maxPooledBytes` bounds the memory kept for
    /// reuse by the buffer pool; `directMaxPool: false` sends every max pooling to oneDNN (for comparisons).
    public init(maxPooledBytes: Int = 4 << 30, directMaxPool: Bool = true) {
        self.directMaxPool = directMaxPool
        var e: dnnl_engine_t? = nil
        OneDNNBackend.check(dnnl_engine_create(&e, dnnl_cpu, 0), "dnnl_engine_create")
        var s: dnnl_stream_t? = nil
        OneDNNBackend.check(dnnl_stream_create(&s, e, dnnl_stream_default_flags.rawValue), "dnnl_stream_create")
        engine = e!
        stream = s!
        pool = OneDNNBufferPool(maxPooledBytes: maxPooledBytes)
    }

    deinit {
        primitives.removeAll()
        scratch.removeAll()
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    /// Number of cached primitives (for tests and diagnostics).
    public var cachedPrimitiveCount: Int { lock.locked { primitives.count } }

    // MARK: Status and execution

    /// Stops with the oneDNN status and the call's name: a failed execution is a programming error here
    /// (descriptors were validated when the primitive was created).
    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        if status != dnnl_success {
            // Release builds drop precondition messages: print the status first.
            let line = "oneDNN: \(what()) failed with status \(status.rawValue)\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            preconditionFailure("oneDNN: \(what()) failed with status \(status.rawValue)")
        }
    }

    /// Runs `primitive` with `args` (argument id → memory) and waits for it.
    func execute(_ primitive: OneDNNPrimitive, _ args: [(Int32, OneDNNMemory)]) {
        var list = args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.handle) }
        let status = list.withUnsafeMutableBufferPointer { buf in
            dnnl_primitive_execute(primitive.primitive, stream, Int32(buf.count), buf.baseAddress)
        }
        OneDNNBackend.check(status, "execute \(primitive.label)")
        OneDNNBackend.check(dnnl_stream_wait(stream), "dnnl_stream_wait")
        withExtendedLifetime(args) {}
    }

    /// The cached primitive for `key`, or a new one from `make` (which returns nil when oneDNN has no
    /// implementation — the op is then declined).
    func primitive(_ key: PrimitiveKey, _ make: () -> OneDNNPrimitive?) -> OneDNNPrimitive? {
        if let p = primitives[key] { return p }
        guard let p = make() else { return nil }
        primitives[key] = p
        return p
    }

    /// A reusable buffer for `desc` owned by the cache (reordered weights and the like).
    func scratchBuffer(_ key: ScratchKey, desc: dnnl_memory_desc_t) -> OneDNNBuffer {
        var d = desc
        let bytes = dnnl_memory_desc_get_size(&d)
        if let b = scratch[key], b.bytes >= bytes { return b }
        let b = OneDNNBuffer(bytes: bytes)
        scratch[key] = b
        return b
    }

    // MARK: Memory descriptors

    /// Plain row-major descriptor (`a`, `ab`, `abc`, `abcd`) for a shape.
    static func plainDesc(_ shape: [Int]) -> dnnl_memory_desc_t {
        desc(shape, tag: plainTag(shape.count))
    }

    /// Descriptor that lets the primitive choose the layout.
    static func anyDesc(_ shape: [Int]) -> dnnl_memory_desc_t { desc(shape, tag: dnnl_format_tag_any) }

    static func plainTag(_ rank: Int) -> dnnl_format_tag_t {
        switch rank {
        case 1: return dnnl_a
        case 2: return dnnl_ab
        case 3: return dnnl_abc
        case 4: return dnnl_abcd
        case 5: return dnnl_abcde
        default: preconditionFailure("OneDNNBackend: rank \(rank) is not supported (1...5)")
        }
    }

    static func desc(_ shape: [Int], tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let dims = shape.map { Int64($0) }
        check(dnnl_memory_desc_init_by_tag(&md, Int32(shape.count), dims, dnnl_f32, tag),
              "memory_desc_init_by_tag \(shape)")
        return md
    }

    /// Whether two descriptors describe the same layout.
    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    /// Queries a memory descriptor of a primitive descriptor.
    static func query(_ pd: dnnl_primitive_desc_t, _ what: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_desc_t {
        guard let p = dnnl_primitive_desc_query_md(pd, what, index) else {
            preconditionFailure("oneDNN: primitive descriptor has no memory descriptor for query \(what.rawValue)")
        }
        return p.pointee
    }

    // MARK: Values in and out

    /// A memory object over the value of `t` in its current layout (no copy for our own native values and
    /// contiguous dense tensors). The returned memory keeps the underlying storage alive.
    func memory(of t: KernelTensor) -> OneDNNMemory {
        switch t {
        case .native(let n):
            if let o = n as? OneDNNTensor { return OneDNNMemory(engine: engine, desc: o.desc, tensor: o) }
            return memory(of: n.dense())
        case .dense(let d):
            return memory(of: d)
        }
    }

    /// A memory object over a dense tensor (copied first when it is not contiguous).
    func memory(of d: Tensor) -> OneDNNMemory {
        let c = d.isContiguous ? d : d.contiguous()
        return OneDNNMemory(engine: engine, desc: OneDNNBackend.plainDesc(c.shape), tensor: c)
    }

    /// `m` itself when it already has layout `desc`, else a reordered copy in a pooled buffer.
    func converted(_ m: OneDNNMemory, to desc: dnnl_memory_desc_t) -> OneDNNMemory {
        if OneDNNBackend.equal(m.desc, desc) { return m }
        let out = newTensor(desc: desc, shape: m.shape)
        reorder(m, into: OneDNNMemory(engine: engine, desc: desc, tensor: out))
        return OneDNNMemory(engine: engine, desc: desc, tensor: out)
    }

    /// Copies `src` into `dst` (same logical shape, any layouts) with a cached reorder primitive.
    func reorder(_ src: OneDNNMemory, into dst: OneDNNMemory) {
        let key = PrimitiveKey(op: "reorder", shapes: [], layouts: [LayoutKey(src.desc), LayoutKey(dst.desc)])
        let p = primitive(key) {
            var s = src.desc, d = dst.desc
            var pd: dnnl_primitive_desc_t? = nil
            guard dnnl_reorder_primitive_desc_create(&pd, &s, engine, &d, engine, nil) == dnnl_success, let pd else {
                return nil
            }
            return OneDNNPrimitive(pd: pd, label: "reorder")
        }
        guard let p else { preconditionFailure("oneDNN: no reorder from \(LayoutKey(src.desc)) to \(LayoutKey(dst.desc))") }
        execute(p, [(DNNL_ARG_FROM, src), (DNNL_ARG_TO, dst)])
    }

    /// A new dense row-major tensor whose storage comes from the buffer pool and goes back to it when the last
    /// tensor using it is released. The large dense results of a step (weight gradients of the linear layers:
    /// 38-151 MB each) would otherwise be freshly `mmap`ped by glibc every step and pay a page fault per 4 KB
    /// page on first write (64 MB: 35 ms instead of 6 ms on this machine).
    func pooledDenseTensor(shape: [Int]) -> Tensor {
        let count = shape.reduce(1, *)
        let buffer = pool.take(bytes: max(count, 1) * MemoryLayout<Float>.stride)
        let base = buffer.pointer.bindMemory(to: Float.self, capacity: max(count, 1))
        let storage = TensorStorage(adopting: base, count: count) { _, _ in withExtendedLifetime(buffer) {} }
        return Tensor(storage: storage, shape: shape)
    }

    /// A new native tensor (pooled buffer) with layout `desc`.
    func newTensor(desc: dnnl_memory_desc_t, shape: [Int]) -> OneDNNTensor {
        OneDNNTensor(desc: desc, shape: shape, backend: self)
    }

    /// The public row-major copy of a native value (used by `OneDNNTensor.dense()`).
    func denseCopy(_ t: OneDNNTensor) -> Tensor {
        lock.locked {
            let plain = OneDNNBackend.plainDesc(t.shape)
            var out = pooledDenseTensor(shape: t.shape)
            if out.count == 0 { return out }
            out.withUnsafeMutableBufferPointer { b in
                let dst = OneDNNMemory(engine: engine, desc: plain, pointer: UnsafeMutableRawPointer(b.baseAddress!),
                                       shape: t.shape, owner: nil)
                reorder(OneDNNMemory(engine: engine, desc: t.desc, tensor: t), into: dst)
            }
            return out
        }
    }

    /// Copies a dense tensor's values into a plain tensor written by oneDNN (for outputs such as weight
    /// gradients that oneDNN produced in its own layout).
    func denseTensor(from m: OneDNNMemory) -> Tensor {
        let plain = OneDNNBackend.plainDesc(m.shape)
        var out = pooledDenseTensor(shape: m.shape)
        if out.count == 0 { return out }
        out.withUnsafeMutableBufferPointer { b in
            reorder(m, into: OneDNNMemory(engine: engine, desc: plain, pointer: UnsafeMutableRawPointer(b.baseAddress!),
                                          shape: m.shape, owner: nil))
        }
        return out
    }

    /// True when `t` is a value of some `OneDNNTensor`.
    static func isOurs(_ t: KernelTensor) -> Bool {
        if case .native(let n) = t, n is OneDNNTensor { return true }
        return false
    }
}

/// Identifies a cached primitive: op name, shapes, geometry numbers, input layouts and thread count.
struct PrimitiveKey: Hashable {
    var op: String
    var shapes: [[Int]]
    var numbers: [Int] = []
    var layouts: [LayoutKey] = []
    var threads: Int = ComputeThreads.count
}

/// Identifies a scratch buffer: the primitive it serves and its role.
struct ScratchKey: Hashable {
    var primitive: PrimitiveKey
    var role: String
}

/// Identifies an average pooling for the forward → backward layout hand-over.
struct AvgPoolKey: Hashable {
    var inputShape: [Int]
    var geometry: Pool2dGeometry
}

/// A hashable summary of a memory descriptor's layout (dims, data type, format kind, blocking).
struct LayoutKey: Hashable, CustomStringConvertible {
    let values: [Int64]
    init(_ md: dnnl_memory_desc_t) {
        var v: [Int64] = [Int64(md.ndims), Int64(md.data_type.rawValue), Int64(md.format_kind.rawValue), md.offset0]
        let n = Int(md.ndims)
        withUnsafeBytes(of: md.dims) { v += Array($0.bindMemory(to: Int64.self).prefix(n)) }
        withUnsafeBytes(of: md.padded_dims) { v += Array($0.bindMemory(to: Int64.self).prefix(n)) }
        if md.format_kind == dnnl_blocked {
            let b = md.format_desc.blocking
            let k = Int(b.inner_nblks)
            withUnsafeBytes(of: b.strides) { v += Array($0.bindMemory(to: Int64.self).prefix(n)) }
            v.append(Int64(k))
            withUnsafeBytes(of: b.inner_blks) { v += Array($0.bindMemory(to: Int64.self).prefix(k)) }
            withUnsafeBytes(of: b.inner_idxs) { v += Array($0.bindMemory(to: Int64.self).prefix(k)) }
        }
        values = v
    }
    var description: String { "\(values)" }
}

/// A cached oneDNN primitive with its descriptor; destroyed with the cache.
final class OneDNNPrimitive {
    let pd: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t
    let label: String
    /// The forward primitive descriptor a backward was created from (kept alive for as long as this one).
    let hint: OneDNNPrimitive?

    init?(pd: dnnl_primitive_desc_t, label: String, hint: OneDNNPrimitive? = nil) {
        var p: dnnl_primitive_t? = nil
        guard dnnl_primitive_create(&p, pd) == dnnl_success, let p else {
            dnnl_primitive_desc_destroy(pd)
            return nil
        }
        self.pd = pd
        self.primitive = p
        self.label = label
        self.hint = hint
    }

    /// Creates the primitive descriptor for an op descriptor (`nil` when oneDNN has no implementation).
    static func make(_ opDesc: UnsafeRawPointer, engine: dnnl_engine_t, label: String,
                     hint: OneDNNPrimitive? = nil, attr: dnnl_primitive_attr_t? = nil) -> OneDNNPrimitive? {
        var pd: dnnl_primitive_desc_t? = nil
        guard dnnl_primitive_desc_create(&pd, opDesc, attr, engine, hint?.pd) == dnnl_success, let pd else { return nil }
        return OneDNNPrimitive(pd: pd, label: label, hint: hint)
    }

    func md(_ what: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_desc_t { OneDNNBackend.query(pd, what, index) }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(pd)
    }
}

/// A non-recursive mutex (pthread) for the backend's caches and the buffer pool.
final class OneDNNLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
