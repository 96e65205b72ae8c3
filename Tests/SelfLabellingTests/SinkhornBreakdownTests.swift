import Foundation
import Interop
import SelfLabelling
import Tensors
import Testing

@Suite struct SinkhornBreakdownTests {
    /// Real network outputs (see Fixtures/breakdown/make_breakdown_fixture.sh) on which the float32 iteration
    /// breaks down: the solver repairs the head in float64, reports it, and gives the reference's labels.
    @Test func float32BreakdownFallsBackToFloat64() throws {
        let path = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/breakdown/demo_head2_rows1000.npy").path
        let scores = try NpyArray(contentsOf: path).tensor()
        #expect(scores.shape == [1000, 100])
        let f32 = try SinkhornKnoppSolver(options: SinkhornOptions(lambda: 25)).solve(scores: scores)
        let f64 = try SinkhornKnoppSolver(options: SinkhornOptions(lambda: 25, precision: .f64)).solve(scores: scores)
        #expect(f32.diagnostics.fellBackToFloat64)
        #expect(!f64.diagnostics.fellBackToFloat64)
        #expect(f32.diagnostics.converged && f32.diagnostics.finalError.isFinite)
        #expect(f32.labels == f64.labels)
        #expect(f32.diagnostics.emptyClusters == 0)
    }
}
