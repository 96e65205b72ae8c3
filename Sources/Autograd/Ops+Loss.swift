#if canImport(Glibc)
import Glibc
#endif
import Tensors

/// Softmax cross-entropy with integer class targets, averaged over the batch (PyTorch
/// `F.cross_entropy(logits, targets)`, reduction "mean").
///
/// logits (B, K), targets B class indices → scalar `L = −(1/B) Σ_b log softmax(z_b)[t_b]`, computed stably as
/// `logsumexp(z_b) − z_b[t_b]` with the row maximum subtracted (in Double). Backward (fused):
/// `dz_b = (softmax(z_b) − onehot(t_b)) · dy / B`.
///
/// - Throws: `AutogradError.targetCountMismatch` or `.targetOutOfRange` (with the offending row).
public func softmaxCrossEntropy(_ logits: Variable, targets: [Int32]) throws -> Variable {
    let z = logits.value
    precondition(z.rank == 2, "softmaxCrossEntropy: logits must be (B, K), got \(z.shape)")
    let b = z.shape[0], k = z.shape[1]
    guard targets.count == b else { throw AutogradError.targetCountMismatch(targets: targets.count, rows: b) }
    for (row, t) in targets.enumerated() where t < 0 || Int(t) >= k {
        throw AutogradError.targetOutOfRange(target: Int(t), row: row, classes: k)
    }
    // Softmax probabilities are kept for the backward.
    var probabilities = Tensor(uninitializedShape: [b, k])
    var total = 0.0
    z.withUnsafeBufferPointer { zp in
        probabilities.withUnsafeMutableBufferPointer { pp in
            for r in 0..<b {
                let row = zp.baseAddress! + r * k, prow = pp.baseAddress! + r * k
                var m = -Float.infinity
                for j in 0..<k { m = max(m, row[j]) }
                var s = 0.0
                for j in 0..<k { let e = exp(Double(row[j] - m)); prow[j] = Float(e); s += e }
                let inv = 1 / s
                for j in 0..<k { prow[j] = Float(Double(prow[j]) * inv) }
                total += log(s) + Double(m) - Double(row[Int(targets[r])])
            }
        }
    }
    let loss = Tensor(scalar: Float(total / Double(max(b, 1))))
    return logits.tape.record(.dense(loss), inputs: [logits]) { gy in
        let scale = gy.dense().scalar / Float(max(b, 1))
        var g = probabilities
        g.withUnsafeMutableBufferPointer { gp in
            for r in 0..<b { gp[r * k + Int(targets[r])] -= 1 }
            for i in 0..<gp.count { gp[i] *= scale }
        }
        return [.dense(g)]
    }
}

/// The SeLa multi-head loss: the mean over heads of each head's softmax cross-entropy against its own targets
/// (`torch.mean(torch.stack([criterion(out[h], labels[h]) for h in heads]))` in the official code).
/// logits[h] is (B, K_h), targets[h] holds B labels.
public func multiHeadCrossEntropy(_ logits: [Variable], targets: [[Int32]]) throws -> Variable {
    precondition(logits.count == targets.count && !logits.isEmpty,
                 "multiHeadCrossEntropy: \(logits.count) heads but \(targets.count) target rows")
    return mean(try zip(logits, targets).map { try softmaxCrossEntropy($0, targets: $1) })
}
