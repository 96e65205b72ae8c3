import DataPipeline
import Foundation
import NeuralNetworks
import SelfLabelling
import Tensors
import TestSupport
import Testing

/// `--label-heads cycle` (cifar.py's `nh = epoch % args.hc`): one head re-solved per label step.
@Suite(.serialized) struct LabelHeadSelectionTests {
    @Test("all is every head; cycle is head epoch mod hc (one head: always head 0)")
    func selection() throws {
        #expect(LabelHeadSelection.all.heads(epoch: 5, of: 3) == [0, 1, 2])
        #expect((0..<7).map { LabelHeadSelection.cycle.heads(epoch: $0, of: 3) } == [[0], [1], [2], [0], [1], [2], [0]])
        #expect(LabelHeadSelection.cycle.heads(epoch: 9, of: 1) == [0])
        #expect(TrainingConfiguration().labelHeadSelection == .all && TrainingConfiguration().labelHeads == nil)
        // An unset optional choice still checks the name it is given.
        #expect(try TrainingConfiguration().applying(["labelHeads": "cycle"]).labelHeads == .cycle)
        #expect { try TrainingConfiguration().applying(["labelHeads": "some"]) } throws: {
            "\($0)" == "--label-heads some must be all or cycle"
        }
    }

    /// 120 embedded images, convnet_tiny, 3 heads × 8 clusters, 3 epochs of 3 batches (or only `iterations`),
    /// label steps before iterations 0, 4 and 7 (epochs 0, 1 and 2; the other two fall after the end).
    static func run(_ selection: LabelHeadSelection?, exp: String, iterations: Int? = nil) throws
        -> (steps: [[Int]], labels: [PseudoLabels]) {
        var c = TrainingConfiguration()
        c.arch = .convnetTiny; c.hc = 3; c.ncl = 8; c.epochs = 3; c.batchSize = 40; c.lr = 0.05
        c.nopts = 5; c.schedule = .linear; c.lamb = 10; c.dtype = .f32; c.lrSchedule = .cifar
        c.exp = exp; c.workers = 1; c.seed = 3; c.labelHeads = selection
        let data = SubsetDataset(base: try EmbeddedCIFAR10.train, indices: Array(stride(from: 0, to: 4800, by: 40)))
        var rng = Xoshiro256(seed: c.seed, 0x4D4F_4445_4C)
        let net = Architecture.convnetTiny.build(heads: c.networkHeads, generator: &rng)
        let t = c.transforms
        let trainer = try Trainer(configuration: c, network: net, dataset: data, trainTransform: t.train,
                                  pseudoTransform: t.pseudo, kernels: Kernels(named: .cpu))
        let watch = LabelWatch(trainer)
        trainer.observers = [watch]
        trainer.stopAfterIterations = iterations
        _ = try trainer.run()
        return (watch.steps, watch.labels)
    }

    @Test("with cycle each label step re-solves only head epoch mod hc, the others keep their labels; the head it solves gets the labels all would give it")
    func cycleTrainsOneHeadPerStep() throws {
        let cycle = try Self.run(.cycle, exp: try temporaryFolder("label-heads-cycle"))
        #expect(cycle.steps == [[0], [1], [2]])
        for (i, step) in cycle.steps.enumerated() {
            let before = cycle.labels[i], after = cycle.labels[i + 1]
            for h in 0..<3 where !step.contains(h) { #expect(after.head(h) == before.head(h), "step \(i), head \(h)") }
            #expect(after.head(step[0]) != before.head(step[0]), "step \(i)")
        }
        let all = try Self.run(nil, exp: try temporaryFolder("label-heads-all"), iterations: 1)
        #expect(all.steps == [[0, 1, 2]])
        // The first step comes before any SGD step: the same network and scores, so head 0 is solved the same.
        #expect(cycle.labels[1].head(0) == all.labels[1].head(0))
        #expect(cycle.labels[1].head(1) != all.labels[1].head(1))
    }
}

/// The labels before the run and after every label step, and which heads each step solved.
private final class LabelWatch: TrainingObserver {
    weak var trainer: Trainer?
    var steps: [[Int]] = []
    var labels: [PseudoLabels]
    init(_ trainer: Trainer) {
        self.trainer = trainer
        labels = [trainer.pseudoLabels]
    }
    func labelsOptimised(_ r: LabelOptimisationReport) {
        steps.append(r.heads.map(\.head))
        labels.append(trainer!.pseudoLabels)
    }
}
