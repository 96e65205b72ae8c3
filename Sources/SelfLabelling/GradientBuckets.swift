import Autograd
import Distributed
import Foundation
import Tensors

/// The gradient reduction of data-parallel training: the parameters in buckets of about `bucketBytes`, in the
/// order the backward sweep finishes them (the reverse of the forward order: heads first), each bucket's
/// allreduce (sum) started without blocking as soon as its last gradient is complete (`Tape.gradients`'s
/// `parameterReady`), so communication runs while the sweep computes the earlier layers' gradients (PyTorch
/// DDP's scheme).
///
/// - **Same order on every rank.** Buckets start strictly in index order (a complete bucket waits for the ones
///   before it), so every rank issues the same collectives in the same order whatever order its sweep finishes
///   parameters in — also a rank whose share of the batch was empty and that ran no sweep at all.
/// - **Progress.** Open MPI advances a non-blocking collective only inside MPI calls, so a
///   `ReductionProgressThread` tests the buckets in flight (`MPI_Test`) every 0.2 ms while the sweep computes
///   (and every `parameterReady` tests them too); `finish()` waits for them in order.
/// - **Presence.** Each bucket carries one extra value per parameter, 1 where this rank's sweep reached it: a
///   parameter that got no gradient on any rank stays without one (SGD skips it, as a single process does).
/// - **Measured.** Bytes, the time from the first start to the last completion, and the time `finish()` blocked
///   (the communication not hidden behind the sweep).
public final class GradientBuckets {
    struct Slot { let bucket: Int, offset: Int, count: Int, index: Int }

    /// One bucket: its parameters' gradients back to back, then one presence value per parameter, in memory
    /// that stays put while MPI reads and writes it.
    final class Bucket {
        let parameters: [Parameter]
        let values: Int
        let count: Int
        let buffer: UnsafeMutablePointer<Float>
        var isFilled: [Bool]
        var filled = 0
        var pending: PendingReduction?
        var done = false
        init(parameters: [Parameter]) {
            self.parameters = parameters
            values = parameters.reduce(0) { $0 + $1.value.count }
            count = values + parameters.count
            buffer = .allocate(capacity: count)
            buffer.initialize(repeating: 0, count: count)
            isFilled = [Bool](repeating: false, count: parameters.count)
        }
        deinit { buffer.deallocate() }
    }

    let communicator: any Communicator
    private(set) var buckets: [Bucket] = []
    private var slots: [ObjectIdentifier: Slot] = [:]
    private var nextToStart = 0
    private var firstStart = 0.0
    private let progress: ReductionProgressThread?

    /// What the reductions of the steps so far cost.
    public struct Measurement: Sendable {
        /// Bytes each rank contributes per step (gradients and presence values, float32).
        public var bytesPerStep = 0
        /// Buckets (allreduce calls) per step.
        public var bucketsPerStep = 0
        /// Steps measured.
        public var steps = 0
        /// From the first bucket's start to the last one's completion, summed over steps.
        public var communicationSeconds = 0.0
        /// Time `finish()` spent waiting after the sweep, summed over steps: the communication not hidden.
        public var exposedSeconds = 0.0
    }
    /// The cost of the reductions so far.
    public private(set) var measurement = Measurement()

    /// Forgets the measurements so far (after warm-up steps).
    public func resetMeasurement() {
        measurement = Measurement(bytesPerStep: measurement.bytesPerStep, bucketsPerStep: measurement.bucketsPerStep)
    }

    /// Buckets over `parameters` given in forward order (`namedParameters()`), each about `bucketBytes`;
    /// `progressThread`: test the reductions in flight from a background thread (across ranks only).
    public init(parameters: [Parameter], communicator: any Communicator, bucketBytes: Int, progressThread: Bool = true) {
        self.communicator = communicator
        progress = progressThread && communicator.size > 1 ? ReductionProgressThread() : nil
        var current: [Parameter] = [], bytes = 0
        for p in parameters.reversed() {
            current.append(p)
            bytes += p.value.count * 4
            if bytes >= bucketBytes {
                buckets.append(Bucket(parameters: current))
                current = []
                bytes = 0
            }
        }
        if !current.isEmpty { buckets.append(Bucket(parameters: current)) }
        for (b, bucket) in buckets.enumerated() {
            var offset = 0
            for (i, p) in bucket.parameters.enumerated() {
                slots[ObjectIdentifier(p)] = Slot(bucket: b, offset: offset, count: p.value.count, index: i)
                offset += p.value.count
            }
        }
        measurement.bytesPerStep = buckets.reduce(0) { $0 + $1.count * 4 }
        measurement.bucketsPerStep = buckets.count
    }

    /// Prepares a step: every bucket empty.
    func begin() {
        for b in buckets {
            b.filled = 0
            b.isFilled = [Bool](repeating: false, count: b.parameters.count)
            b.pending = nil
            b.done = false
        }
        nextToStart = 0
        firstStart = 0
    }

    /// `Tape.gradients`' `parameterReady`: copies the gradient into its
    /// bucket, starts the buckets that are complete, tests those in flight.
    func ready(_ p: Parameter, _ gradient: Tensor?) throws {
        guard let slot = slots[ObjectIdentifier(p)] else { return }
        let bucket = buckets[slot.bucket]
        precondition(!bucket.isFilled[slot.index], "GradientBuckets: a parameter's gradient arrived twice in one step")
        if let gradient {
            precondition(gradient.count == slot.count, "GradientBuckets: gradient \(gradient.shape) for \(p.shape)")
            gradient.withUnsafeBufferPointer { g in
                (bucket.buffer + slot.offset).update(from: g.baseAddress!, count: slot.count)
            }
            bucket.buffer[bucket.values + slot.index] = 1
        } else {
            (bucket.buffer + slot.offset).update(repeating: 0, count: slot.count)
            bucket.buffer[bucket.values + slot.index] = 0
        }
        bucket.isFilled[slot.index] = true
        bucket.filled += 1
        try startCompleteBuckets()
        for b in buckets[..<nextToStart] where !b.done { b.done = try b.pending!.test() }
    }

    /// After the sweep (or instead of one, for an empty share): zero-fills the parameters the sweep never
    /// reached, starts what is left, and waits for every bucket in order.
    func finish() throws {
        for bucket in buckets where bucket.filled < bucket.parameters.count {
            for (i, p) in bucket.parameters.enumerated() where !bucket.isFilled[i] { try ready(p, nil) }
        }
        try startCompleteBuckets()
        try progress?.release()
        let waited = ResourceUsage.monotonicSeconds
        for b in buckets where !b.done {
            try b.pending!.wait()
            b.done = true
        }
        let end = ResourceUsage.monotonicSeconds
        measurement.exposedSeconds += end - waited
        measurement.communicationSeconds += end - firstStart
        measurement.steps += 1
    }

    /// The backward sweep of `loss` on `tape` (nil: this rank has nothing to add this step) with every bucket's
    /// reduction started as soon as it is complete, then waits for all of them: afterwards `gradient(of:)`
    /// gives the gradients summed over the ranks.
    public func reduceGradients(of loss: Variable?, on tape: Tape) throws {
        begin()
        if let loss {
            var failure: Error?
            _ = tape.gradients(of: loss) { p, g in
                guard failure == nil else { return }
                do { try self.ready(p, g) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        try finish()
    }

    /// The reduced gradient of `p` (nil when no rank's sweep reached it); valid after `finish()`.
    public func gradient(of p: Parameter) -> Tensor? {
        guard let slot = slots[ObjectIdentifier(p)] else { return nil }
        let bucket = buckets[slot.bucket]
        guard bucket.buffer[bucket.values + slot.index] > 0 else { return nil }
        return Tensor(shape: p.shape, scalars: Array(UnsafeBufferPointer(start: bucket.buffer + slot.offset, count: slot.count)))
    }

    private func startCompleteBuckets() throws {
        while nextToStart < buckets.count, buckets[nextToStart].filled == buckets[nextToStart].parameters.count {
            let b = buckets[nextToStart]
            if nextToStart == 0 { firstStart = ResourceUsage.monotonicSeconds }
            b.pending = try communicator.startAllreduce(UnsafeMutableRawPointer(b.buffer), count: b.count, kind: .float32,
                                                        operation: .sum)
            progress?.add(b.pending!)
            nextToStart += 1
        }
    }
}
