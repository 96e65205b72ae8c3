import CSinkhornKernels
import Dispatch
import Tensors

/// The buffers of a Sinkhorn-Knopp solve, kept between calls (heads, warm-started re-solves) so that the
/// largest allocation — the stored matrix — is made once. Pointers are handed to worker threads through
/// `SinkhornPass`, which only ever writes disjoint rows and per-block slots.
final class SinkhornWorkspace: @unchecked Sendable {
    private(set) var matrix: UnsafeMutableRawPointer? = nil
    private(set) var matrixCapacity = 0
    /// Named work buffers by element type and name: pointer and capacity in bytes.
    private var buffers: [String: (UnsafeMutableRawPointer, Int)] = [:]

    /// A matrix buffer of at least `bytes` bytes (64-byte aligned); reallocated only when it grows.
    func matrix(bytes: Int) -> UnsafeMutableRawPointer {
        if let m = matrix, matrixCapacity >= bytes { return m }
        matrix?.deallocate()
        matrix = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
        matrixCapacity = bytes
        return matrix!
    }

    /// The truncated method's row blocks (their arrays grow inside the C kernels and are kept for reuse).
    private var sparse: UnsafeMutablePointer<CSKSparseBlock>? = nil
    private var sparseCount = 0

    /// `count` truncated-matrix blocks, reused (with their capacity) between solves.
    func sparseBlocks(_ count: Int) -> UnsafeMutablePointer<CSKSparseBlock> {
        if let s = sparse, sparseCount >= count { return s }
        freeSparse()
        let s = UnsafeMutablePointer<CSKSparseBlock>.allocate(capacity: count)
        s.initialize(repeating: CSKSparseBlock(), count: count)
        sparse = s
        sparseCount = count
        return s
    }

    private func freeSparse() {
        guard let s = sparse else { return }
        for b in 0..<sparseCount { csk_sparse_block_free(s + b) }
        s.deallocate()
        sparse = nil
        sparseCount = 0
    }

    /// Whether the matrix buffer already holds `bytes`.
    func hasMatrix(bytes: Int) -> Bool { matrix != nil && matrixCapacity >= bytes }

    /// A named float64 buffer of `count` elements (64-byte aligned), reused when large enough (contents unspecified).
    func doubles(_ name: String, _ count: Int) -> UnsafeMutablePointer<Double> { buffer(name, count, Double.self) }

    /// A named float32 buffer of `count` elements (64-byte aligned), reused when large enough (contents unspecified).
    func floats(_ name: String, _ count: Int) -> UnsafeMutablePointer<Float> { buffer(name, count, Float.self) }

    /// A named buffer of `count` `T`s (at least 64 bytes, 64-byte aligned), reallocated only when it grows.
    private func buffer<T>(_ name: String, _ count: Int, _: T.Type) -> UnsafeMutablePointer<T> {
        let key = "\(T.self) \(name)"
        let bytes = max(count * MemoryLayout<T>.stride, 64)
        if let (p, capacity) = buffers[key], capacity >= bytes { return p.assumingMemoryBound(to: T.self) }
        buffers[key]?.0.deallocate()
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        buffers[key] = (p, bytes)
        return p.bindMemory(to: T.self, capacity: bytes / MemoryLayout<T>.stride)
    }

    deinit {
        freeSparse()
        matrix?.deallocate()
        for (p, _) in buffers.values { p.deallocate() }
    }
}

/// Runs `body(block, worker)` for every block of `layout`, worker `t` of `threads` taking the contiguous
/// blocks `[G·t/T, G·(t+1)/T)`. What a block computes must not depend on the worker.
func sinkhornForEachBlock(_ layout: SinkhornLayout, threads: Int, _ body: (Int, Int) -> Void) {
    let g = layout.blockCount
    let t = max(1, min(threads, g))
    if t == 1 {
        for b in 0..<g { body(b, 0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let box = UnsafeSendable(body)
        DispatchQueue.concurrentPerform(iterations: t) { w in
            for b in (g * w / t)..<(g * (w + 1) / t) { box.value(b, w) }
        }
    }
}

/// Loads `count` (< 8) floats at `p` into the low lanes; the other lanes are `fill`.
@inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, _ count: Int, fill: Float) -> SIMD8<Float> {
    var v = SIMD8<Float>(repeating: fill)
    for i in 0..<count { v[i] = p[i] }
    return v
}

#if canImport(Glibc)
import Glibc
#endif

/// Returns the whole pages inside `[p, p + count)` of a file mapping to the kernel (`MADV_DONTNEED`); the
/// partial pages at either end are kept. Only for memory that `SinkhornOptions.releaseFileBackedScores`
/// allows.
func sinkhornReleasePages(_ p: UnsafePointer<Float>, count: Int) {
    #if canImport(Glibc)
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = (Int(bitPattern: p) + page - 1) / page * page
    let end = (Int(bitPattern: p) + count * 4) / page * page
    if end > start, let raw = UnsafeMutableRawPointer(bitPattern: start) {
        _ = madvise(raw, end - start, Int32(MADV_DONTNEED))
    }
    #endif
}
