import CSinkhornKernels
import Dispatch
import Tensors

/// One reusable work buffer of `T`s (64-byte aligned), reallocated only when a solve needs it larger.
final class SinkhornBuffer<T>: @unchecked Sendable {
    private var pointer: UnsafeMutablePointer<T>? = nil
    private var capacity = 0

    /// The buffer with room for at least `count` elements (contents unspecified).
    func callAsFunction(_ count: Int) -> UnsafeMutablePointer<T> {
        if let p = pointer, capacity >= count { return p }
        pointer?.deallocate()
        let bytes = max(count * MemoryLayout<T>.stride, 64)
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            .bindMemory(to: T.self, capacity: bytes / MemoryLayout<T>.stride)
        pointer = p
        capacity = bytes / MemoryLayout<T>.stride
        return p
    }

    deinit { pointer?.deallocate() }
}

/// The buffers of a Sinkhorn-Knopp solve, kept between calls (heads, warm-started re-solves) so that the
/// largest allocation — the stored matrix — is made once. Every buffer is a named field; sizes are given at
/// each use (N: samples, kp: padded clusters, G: row blocks, T: threads). Pointers are handed to worker
/// threads through `SinkhornPass`, which only ever writes disjoint rows and per-block slots.
final class SinkhornWorkspace: @unchecked Sendable {
    /// The dense method's stored matrix (N x kp elements).
    private(set) var matrix: UnsafeMutableRawPointer? = nil
    private(set) var matrixCapacity = 0

    // Prepare (N, kp and G x kp).
    /// m_n: the row shifts (N).
    let rowShift = SinkhornBuffer<Double>()
    /// c'_n: the per-sample scaling, starting as c0 (N).
    let c = SinkhornBuffer<Double>()
    /// Per-block column maxima of the shifted scores (G x kp).
    let blockColMax = SinkhornBuffer<Float>()
    /// b_k: the column shifts (kp), and their float32 copy for the dense float32 store.
    let colShift = SinkhornBuffer<Double>()
    let colShift32 = SinkhornBuffer<Float>()
    /// The dense method's column roots e^{−b_k/λ} for probabilities with an integer λ (`SinkhornPrepare.withPowers`).
    let colRoot32 = SinkhornBuffer<Float>()
    /// One kp row per worker (T x kp).
    let rowTemp = SinkhornBuffer<Float>()
    /// The starting c0 and b, kept to start the dense method afresh when the truncated one does not pay off.
    let c0 = SinkhornBuffer<Double>()
    let colShift0 = SinkhornBuffer<Double>()

    // Iterate.
    /// r' in float32 and float64 (kp).
    let r32 = SinkhornBuffer<Float>()
    let r64 = SinkhornBuffer<Double>()
    /// Per-block float64 cluster sums (G x kp) and errors (G).
    let blockAcc = SinkhornBuffer<Double>()
    let blockErr = SinkhornBuffer<Double>()
    /// The dense rows' per-block cluster sums held by `SinkhornFlatRowFreeze` (G x kp).
    let frozenBlockAcc = SinkhornBuffer<Double>()
    /// Per-worker float32 cluster sums (T x kp).
    let scratch = SinkhornBuffer<Float>()
    /// One group of streamed rows per worker (T x 64 x kp): the dense rows computed from the scores.
    let chunk = SinkhornBuffer<Float>()
    /// c' before a check, to rerun that iteration on the full matrix (truncated method, N).
    let savedC = SinkhornBuffer<Double>()

    // The truncated matrix.
    /// M_n: its row offsets (N), and their values before a rebuild.
    let truncatedRowOffset = SinkhornBuffer<Float>()
    let truncatedOldRowOffset = SinkhornBuffer<Float>()
    /// o_k: its column offsets (kp).
    let truncatedColOffset = SinkhornBuffer<Float>()
    /// One kp row per worker for its kernels (T x kp).
    let truncatedRowTemp = SinkhornBuffer<Float>()
    /// The dense rows' column offsets (kp), r' as loaded for them (kp) and their sums' factors (kp).
    let truncatedDenseColOffset = SinkhornBuffer<Float>()
    let truncatedDenseR32 = SinkhornBuffer<Float>()
    let truncatedDenseScale = SinkhornBuffer<Double>()
    /// Probabilities: the screening weights of the column offsets (kp).
    let truncatedScreenWeight = SinkhornBuffer<Float>()

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

    deinit {
        freeSparse()
        matrix?.deallocate()
    }
}

/// Runs `body(block, worker)` for every block this process owns (`layout.ownedBlocks`: every block in a single
/// process), worker `t` of `threads` taking the contiguous `G/T` share `[G·t/T, G·(t+1)/T)` of them. What a
/// block computes must not depend on the worker.
func sinkhornForEachBlock(_ layout: SinkhornLayout, threads: Int, _ body: (Int, Int) -> Void) {
    let first = layout.ownedBlocks.lowerBound, g = layout.ownedBlocks.count
    let t = max(1, min(threads, g))
    if t == 1 {
        for b in layout.ownedBlocks { body(b, 0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let box = UnsafeSendable(body)
        DispatchQueue.concurrentPerform(iterations: t) { w in
            for b in (g * w / t)..<(g * (w + 1) / t) { box.value(first + b, w) }
        }
    }
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
