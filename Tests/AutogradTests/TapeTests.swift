import Autograd
import Testing
import Tensors

@Suite struct TapeTests {
    @Test func noGradTapeRecordsNothing() throws {
        let tape = Tape(recording: false)
        let x = tape.constant(randomTensor([2, 3, 5, 5], seed: 1))
        let w = Parameter(randomTensor([4, 3, 3, 3], seed: 2))
        let y = relu(conv2d(x, weight: tape.variable(for: w), geometry: Conv2dGeometry(padding: 1)))
        #expect(tape.nodeCount == 0)
        #expect(!y.requiresGradient)
        #expect(y.shape == [2, 4, 5, 5])
    }

    @Test func unusedInputsGetZeroGradients() throws {
        let tape = Tape()
        let a = tape.variable(Tensor([1, 2, 3])), b = tape.variable(Tensor([4, 5]))
        let unusedParameter = Parameter(Tensor([7, 8]))
        let loss = sum(a * 2)
        let g = tape.gradients(of: loss)
        #expect(g[a].scalars == [2, 2, 2])
        #expect(g[b].scalars == [0, 0])
        #expect(g[unusedParameter].scalars == [0, 0])
        #expect(!g.contains(unusedParameter))
    }

    @Test func parameterUsedTwiceSharesOneLeaf() throws {
        let tape = Tape()
        let p = Parameter(Tensor([1, -2]))
        let loss = sum(tape.variable(for: p) * 3 + tape.variable(for: p))
        let g = tape.gradients(of: loss)
        #expect(g[p].scalars == [4, 4])
    }

    @Test func backwardIsDeterministic() throws {
        func run() -> [Float] {
            let tape = Tape(generator: Xoshiro256(seed: 5))
            let x = tape.variable(randomTensor([3, 2, 6, 6], seed: 3))
            let w = tape.variable(randomTensor([4, 2, 3, 3], seed: 4))
            let h = maxPool2d(relu(conv2d(x, weight: w, geometry: Conv2dGeometry(padding: 1))), geometry: Pool2dGeometry(kernel: 2))
            let loss = sum(dropout(h, probability: 0.5))
            return tape.gradients(of: loss)[w].scalars
        }
        #expect(run() == run())
    }

    @Test func maxPoolTiesSendGradientToFirstMaximum() throws {
        let tape = Tape()
        let x = tape.variable(Tensor(shape: [1, 1, 2, 2], scalars: [1, 1, 1, 1]))
        let y = maxPool2d(x, geometry: Pool2dGeometry(kernel: 2))
        #expect(tape.gradients(of: sum(y))[x].scalars == [1, 0, 0, 0])
    }

    @Test func reluGradientAtZeroIsZero() throws {
        let tape = Tape()
        let x = tape.variable(Tensor([-1, 0, 2]))
        #expect(tape.gradients(of: sum(relu(x)))[x].scalars == [0, 0, 1])
    }

    @Test func dropoutScalesSurvivorsAndIsSeeded() throws {
        let x = Tensor(shape: [10_000], repeating: 1)
        let a = dropout(Tape(recording: false, generator: Xoshiro256(seed: 1)).constant(x), probability: 0.5).value.scalars
        let b = dropout(Tape(recording: false, generator: Xoshiro256(seed: 1)).constant(x), probability: 0.5).value.scalars
        #expect(a == b)
        #expect(Set(a).isSubset(of: [0, 2]))
        let kept = a.filter { $0 != 0 }.count
        #expect(abs(kept - 5_000) < 300, "kept \(kept) of 10000 at p = 0.5")
    }

    @Test func crossEntropyRejectsBadTargets() throws {
        let tape = Tape()
        let z = tape.variable(Tensor(shape: [2, 3], repeating: 0))
        #expect(throws: AutogradError.targetOutOfRange(target: 3, row: 1, classes: 3)) {
            _ = try softmaxCrossEntropy(z, targets: [0, 3])
        }
        #expect(throws: AutogradError.targetCountMismatch(targets: 1, rows: 2)) {
            _ = try softmaxCrossEntropy(z, targets: [0])
        }
    }

    @Test func crossEntropyIsStableForHugeLogits() throws {
        let tape = Tape()
        let z = tape.variable(Tensor(shape: [1, 3], scalars: [1000, 0, -1000]))
        let loss = try softmaxCrossEntropy(z, targets: [1])
        #expect(abs(loss.value.scalar - 1000) < 1e-3)
        #expect(tape.gradients(of: loss)[z].scalars.allSatisfy { $0.isFinite })
    }

    @Test func sweepReleasesSavedValuesUnlessRetained() throws {
        // A value saved only by a backward rule is freed by the sweep (so an optimiser can update parameters in
        // place afterwards); with retainingGraph: true it stays and a second sweep gives the same gradients.
        for retain in [false, true] {
            let tape = Tape()
            weak var saved: TensorStorage?
            let x = tape.variable(Tensor([1, 2, 3]))
            let loss: Variable
            do {
                let w = Tensor([4, 5, 6])
                saved = w.storage
                loss = sum(x * tape.constant(w))
            }
            #expect(saved != nil)
            let g = tape.gradients(of: loss, retainingGraph: retain)
            #expect(g[x].scalars == [4, 5, 6])
            #expect((saved != nil) == retain, "retainingGraph: \(retain)")
            if retain { #expect(tape.gradients(of: loss)[x].scalars == [4, 5, 6]) }
        }
    }

    @Test func parameterIsUniquelyOwnedAfterTheSweep() throws {
        // SGD updates in place only when nothing else holds the parameter's storage.
        let tape = Tape()
        let p = Parameter(Tensor([1, -2, 3]))
        let x = tape.constant(Tensor([2, 2, 2]))
        let loss = sum(relu(x * tape.variable(for: p)))
        _ = tape.gradients(of: loss)
        weak let storage = p.value.storage
        p.value = Tensor(scalar: 0)
        #expect(storage == nil, "the tape still holds the parameter's value after the sweep")
    }
}
