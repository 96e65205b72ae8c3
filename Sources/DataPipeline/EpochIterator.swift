import Foundation
import Tensors

/// The batches of one epoch, produced by `BatchLoader`'s worker threads in a bounded queue and delivered in
/// order. Not thread-safe itself: one consumer calls `next()`.
public final class EpochIterator {
    /// The loader this epoch belongs to.
    public let loader: BatchLoader
    /// The epoch number (selects the shuffle and the augmentation generators).
    public let epoch: Int
    /// The sample order of this epoch.
    public let order: [Int]
    /// Files skipped so far in this epoch (complete once `next()` has returned nil).
    public private(set) var skipped: [SkippedSample] = []

    private let state: EpochState
    private var delivered = 0
    private var stopped = false
    private var inlineDecoder: ImageDecoder?
    private var inlineTables: [[Float]]?

    init(loader: BatchLoader, epoch: Int, startingAt first: Int = 0) {
        self.loader = loader
        self.epoch = epoch
        self.order = loader.order(epoch: epoch)
        let batchCount = (order.count + loader.batchSize - 1) / loader.batchSize
        precondition(first >= 0 && first <= batchCount, "EpochIterator: first batch \(first) outside 0...\(batchCount)")
        self.state = EpochState(batchCount: batchCount, prefetch: loader.prefetch, first: first)
        self.delivered = first
        if loader.workers == 0 {
            inlineDecoder = ImageDecoder(minimumShorterSide: loader.fastDecoding ? loader.transform.decodeHint : nil)
        } else {
            for _ in 0..<min(loader.workers, state.batchCount - first) { startWorker() }
        }
    }

    deinit { stop() }

    /// Number of batches this epoch.
    public var batchCount: Int { state.batchCount }

    /// The next batch, or nil at the end of the epoch. Throws the first error of a batch (a decoding error in
    /// strict mode, or inconsistent sample shapes); later calls then return nil.
    public func next() throws -> Batch? {
        while delivered < state.batchCount && !stopped {
            let b = delivered
            let result: Result<(Batch, [SkippedSample]), Error>
            if let decoder = inlineDecoder {
                result = Result { try loader.buildBatch(b, epoch: epoch, order: order, decoder: decoder,
                                                        tables: &inlineTables) }
            } else {
                result = state.take(b)
            }
            delivered += 1
            switch result {
            case let .failure(error):
                stop()
                delivered = state.batchCount
                throw error
            case let .success((batch, skips)):
                for s in skips where loader.firstSkip(of: s.index) {
                    loader.warn("warning: skipping \(loader.dataset.describeSample(s.index)): \(s.reason)")
                }
                skipped += skips
                if delivered == state.batchCount && !skipped.isEmpty {
                    loader.warn("warning: \(skipped.count) corrupt file(s) skipped in epoch \(epoch)")
                }
                // Every file of this batch was corrupt (or a rank's share is empty): skipped, except under data
                // parallelism, where every rank must take part in every step.
                if batch.indices.isEmpty && loader.shard == nil { continue }
                return batch
            }
        }
        return nil
    }

    /// Stops the workers and waits until every one has exited (safe to call more than once). `next()` returns
    /// nil afterwards.
    public func stop() {
        stopped = true
        state.cancelAndJoin()
    }

    private func startWorker() {
        let state = self.state, loader = self.loader, epoch = self.epoch, order = self.order
        let live = loader.liveThreads
        live.add(1)
        LiveThreads.process.add(1)
        state.workerStarted()
        let thread = Thread {
            let decoder = ImageDecoder(minimumShorterSide: loader.fastDecoding ? loader.transform.decodeHint : nil)
            var tables: [[Float]]?
            while let b = state.claim() {
                let r = Result { try loader.buildBatch(b, epoch: epoch, order: order, decoder: decoder, tables: &tables) }
                state.deliver(b, r)
            }
            live.add(-1)
            LiveThreads.process.add(-1)
            state.workerExited()
        }
        thread.name = "BatchLoader-worker"
        thread.start()
    }
}

/// Shared state of one epoch: batch claims, finished batches and shutdown, under one condition variable.
final class EpochState: @unchecked Sendable {
    let batchCount: Int
    let prefetch: Int
    private let cond = NSCondition()
    private var nextToClaim = 0
    private var consumed = 0
    private var results: [Int: Result<(Batch, [SkippedSample]), Error>] = [:]
    private var cancelled = false
    private var running = 0

    init(batchCount: Int, prefetch: Int, first: Int = 0) {
        self.batchCount = batchCount
        self.prefetch = prefetch
        self.nextToClaim = first
        self.consumed = first
    }

    func workerStarted() { cond.lock(); running += 1; cond.unlock() }

    func workerExited() { cond.lock(); running -= 1; cond.broadcast(); cond.unlock() }

    /// The next batch a worker should build, waiting while the queue is full; nil when done or cancelled.
    func claim() -> Int? {
        cond.lock(); defer { cond.unlock() }
        while true {
            if cancelled || nextToClaim >= batchCount { return nil }
            if nextToClaim < consumed + prefetch {
                nextToClaim += 1
                return nextToClaim - 1
            }
            cond.wait()
        }
    }

    func deliver(_ b: Int, _ r: Result<(Batch, [SkippedSample]), Error>) {
        cond.lock()
        results[b] = r
        cond.broadcast()
        cond.unlock()
    }

    /// Waits for batch `b` (batches are taken in order).
    func take(_ b: Int) -> Result<(Batch, [SkippedSample]), Error> {
        cond.lock(); defer { cond.unlock() }
        while results[b] == nil { cond.wait() }
        let r = results.removeValue(forKey: b)!
        consumed = b + 1
        cond.broadcast()
        return r
    }

    func cancelAndJoin() {
        cond.lock()
        cancelled = true
        cond.broadcast()
        while running > 0 { cond.wait() }
        results.removeAll()
        cond.unlock()
    }
}
