import Foundation

/// Keeps non-blocking reductions moving while the caller computes. Open MPI advances a non-blocking collective
/// (`MPI_Iallreduce`, its libnbc schedule) only inside MPI calls of the process, so a reduction started during a
/// long backward pass otherwise sits still until the next MPI call. This thread calls `test()` on every
/// reduction handed to it, every `interval` seconds (sleeping in between, not spinning), until it completes or
/// `release()` takes them back. `PendingReduction.test()` must be safe to call from this thread while the owner
/// computes (`MPIPendingReduction` serialises every MPI call of the process).
public final class ReductionProgressThread: @unchecked Sendable {
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        var pending: [PendingReduction] = []
        var closed = false
        var failure: Error?
    }
    private let state = State()

    /// Starts the thread; it sleeps while nothing is pending.
    public init(interval: Double = 0.000_2) {
        let state = self.state
        let thread = Thread {
            let micros = useconds_t(max(interval, 0) * 1e6)
            while true {
                state.condition.lock()
                while state.pending.isEmpty && !state.closed { state.condition.wait() }
                if state.closed { state.condition.unlock(); return }
                let batch = state.pending
                state.condition.unlock()
                var finished: [ObjectIdentifier] = []
                for r in batch {
                    do {
                        if try r.test() { finished.append(ObjectIdentifier(r)) }
                    } catch {
                        state.condition.lock()
                        state.failure = state.failure ?? error
                        state.condition.unlock()
                        finished.append(ObjectIdentifier(r))
                    }
                }
                state.condition.lock()
                state.pending.removeAll { finished.contains(ObjectIdentifier($0)) }
                state.condition.unlock()
                usleep(micros)
            }
        }
        thread.name = "ReductionProgress"
        thread.start()
    }

    deinit {
        state.condition.lock()
        state.closed = true
        state.condition.broadcast()
        state.condition.unlock()
    }

    /// Hands `reduction` to the thread.
    public func add(_ reduction: PendingReduction) {
        state.condition.lock()
        state.pending.append(reduction)
        state.condition.broadcast()
        state.condition.unlock()
    }

    /// Takes every reduction back (the caller waits for them now) and rethrows the first error a test met.
    public func release() throws {
        state.condition.lock()
        state.pending.removeAll()
        let failure = state.failure
        state.failure = nil
        state.condition.unlock()
        if let failure { throw failure }
    }
}
