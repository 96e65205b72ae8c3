import Autograd
import Foundation
import NeuralNetworks
import Tensors

/// The heads' scores of a label optimisation, one head at a time, computed from the stored pre-head features
/// block by block with the head's own `Linear` (the same GEMM kernel as the network pass, so with float32
/// features and blocks of the pass's batches the scores are bit for bit the logits the network gives).
/// Rows never written (images the loader skipped as corrupt) get zero scores, as before.
struct LabelPassHeads {
    let features: LabelPassFeatures
    let heads: [Linear]
    let kernels: Kernels
    /// Rows per GEMM (the network pass's batch size: the same products as the pass).
    let blockRows: Int
    let plan: LabelPassMemoryPlan
    /// Where a spilled head's scores go.
    let spillFolder: String
    /// The rows computed (nil: all): a rank's rows in data-parallel training, the only ones its solver reads;
    /// the others are left unset.
    var rows: Range<Int>? = nil

    /// For each head in `order`: computes its N × K scores (in RAM or a spill file, as `plan` says), then calls
    /// `body(head, scores, spilled)`. One head's buffer is reused for every head.
    func forEachHead(_ order: [Int],
                     _ body: (Int, UnsafeBufferPointer<Float>, Bool) throws -> Void) throws {
        let n = features.samples, d = features.dimension
        guard let k = heads.first?.outFeatures else { return }
        let count = n * k
        let spill = plan.scoresSpilled ? try SpillFile(folder: spillFolder, name: "label-pass-scores", count: count * 4) : nil
        let memory = spill == nil ? UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1)) : nil
        defer { memory?.deallocate() }
        let scores = memory ?? spill!.bytes.bindMemory(to: Float.self, capacity: count)
        var x = Tensor.zeros([min(blockRows, n), d])
        for h in order {
            let computed = self.rows ?? 0..<n
            var start = computed.lowerBound
            while start < computed.upperBound {
                let rows = start..<min(computed.upperBound, start + blockRows)
                if x.shape[0] != rows.count { x = Tensor.zeros([rows.count, d]) }
                x.withUnsafeMutableBufferPointer { features.read(rows, into: $0.baseAddress!) }
                features.release(rows)
                let tape = Tape(recording: false, kernels: kernels)
                let y = try heads[h](tape.constant(x)).value.contiguous()
                y.withUnsafeBufferPointer { (scores + rows.lowerBound * k).update(from: $0.baseAddress!, count: rows.count * k) }
                for row in rows where !features.written[row] { (scores + row * k).update(repeating: 0, count: k) }
                spill?.release(offset: rows.lowerBound * k * 4, length: rows.count * k * 4)
                start = rows.upperBound
            }
            try body(h, UnsafeBufferPointer(start: scores, count: count), spill != nil)
        }
    }
}
