import Foundation
import Interop
import SelfLabelling
import Tensors
import Testing

@Suite struct SinkhornBreakdownTests {
    /// Real network outputs (see Fixtures/breakdown/make_breakdown_fixture.sh) on which the float32 iteration
    /// breaks down: the solver repairs the head in float64, reports it, and gives the reference's labels.
    ///
    /// Kernel independence (issue 12): the breakdown comes from the scalings leaving float32's exponent
    /// range, not from rounding, so it happens with every C kernel; checked with
    /// SELFLABEL_SINKHORN_KERNEL=portable, avx2 and avx512 (all three break down and are repaired with the
    /// float64 labels and iteration count). The assertions compare with the float64 solve in the same process,
    /// never with a kernel-specific number.
    @Test func float32BreakdownIsRepaired() throws {
        let path = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/breakdown/demo_head2_rows1000.npy").path
        let scores = try NpyArray(contentsOf: path).tensor()
        #expect(scores.shape == [1000, 100])
        let f64 = try SinkhornKnoppSolver(options: SinkhornOptions(lambda: 25, precision: .f64)).solve(scores: scores)
        #expect(!f64.diagnostics.fellBackToFloat64)
        // Default: the dense float32 iteration breaks down and the truncated (rescaling) method solves it.
        let f32 = try SinkhornKnoppSolver(options: SinkhornOptions(lambda: 25)).solve(scores: scores)
        #expect(f32.diagnostics.repairedBreakdown && !f32.diagnostics.fellBackToFloat64)
        #expect(f32.diagnostics.method == .truncated && f32.diagnostics.rebuilds >= 1)
        // With truncation off, float64 repairs it.
        let dense = try SinkhornKnoppSolver(options: SinkhornOptions(lambda: 25, truncation: .off)).solve(scores: scores)
        #expect(dense.diagnostics.fellBackToFloat64 && !dense.diagnostics.repairedBreakdown)
        for r in [f32, dense] {
            #expect(r.diagnostics.converged && r.diagnostics.finalError.isFinite)
            #expect(r.labels == f64.labels)
            #expect(r.diagnostics.iterations == f64.diagnostics.iterations)
            #expect(r.diagnostics.emptyClusters == 0)
        }
    }
}
