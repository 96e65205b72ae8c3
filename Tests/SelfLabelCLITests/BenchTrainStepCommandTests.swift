import Foundation
import Testing

@Suite struct BenchTrainStepCommandTests {
    /// `--profile` wraps every backend; an op the wrapper does not forward would silently run on the reference
    /// backend. With `--backend cpu` only the dense ReLU and gradient sums of the fully connected part may run
    /// there (oneDNN declines plain dense element-wise ops by design); convolution, fused batch-norm + ReLU,
    /// pooling and the linear layers must show up as oneDNN ops.
    @Test func profiledStepRunsItsKernelsOnOneDNN() throws {
        let r = try runSelflabel(["bench", "train-step", "--arch", "convnet_tiny", "--batch", "4", "--hc", "2",
                                  "--ncl", "5", "--threads", "1", "--steps", "1", "--warmup", "0", "--backend", "cpu",
                                  "--profile"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let lines = r.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let ops = lines.filter { $0["what"] as? String == "train_step_op" }
            .map { (op: $0["op"] as? String ?? "", backend: $0["backend"] as? String ?? "") }
        #expect(!ops.isEmpty, "no per-op lines in \(r.stdout)")
        for o in ops where o.backend != "onednn" {
            #expect(o.op.hasPrefix("relu.") || o.op.hasPrefix("add "), "\(o.op) ran on \(o.backend)")
        }
        for family in ["conv.fwd", "conv.bwd_weights", "bn_relu.fwd", "bn_relu.bwd", "maxpool.fwd", "linear.fwd",
                       "linear.bwd_data", "linear.bwd_weights"] {
            #expect(ops.contains { $0.op.hasPrefix(family + " ") && $0.backend == "onednn" }, "no oneDNN \(family)")
        }
    }
}
