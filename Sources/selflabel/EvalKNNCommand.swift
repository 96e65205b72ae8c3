import ArgumentParser
import DataPipeline
import Evaluation
import Foundation
import SelfLabelling

/// `selflabel eval knn`: the official weighted kNN protocol on a trained network's features.
struct EvalKNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knn",
        abstract: "Weighted kNN accuracy (official protocol): train features as the memory bank, val images queried.")

    @OptionGroup var common: ModelDataOptions
    @Option(parsing: .upToNextOption, help: "Neighbour counts (one or more).") var k: [Int] = [10]
    @Option(parsing: .upToNextOption, help: "Temperatures σ (one or more).") var sigma: [Double] = [0.1]
    @Option(help: "Reduce to this many dimensions by PCA fitted on the train features (official: 128).") var pca: Int?
    @Option(help: "With --pca: official (PCA on the raw features, then L2 normalisation, as cifar_utils.kNN; default) or normalized-first (normalise, PCA, normalise).")
    var pcaOrder: String = WeightedKNN.PCAOrder.official.rawValue
    @Option(help: "Activation to use (default: the pre-head features).") var layer: String?
    @Flag(help: "Print JSON instead of a table.") var json = false

    func validate() throws {
        guard k.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--k values must be >= 1, got \(k)") }
        guard sigma.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw ValidationError("--sigma values must be > 0, got \(sigma)") }
        if let pca, pca < 1 { throw ValidationError("--pca must be >= 1, got \(pca)") }
        guard WeightedKNN.PCAOrder(rawValue: pcaOrder) != nil else {
            throw ValidationError("--pca-order \(pcaOrder) must be " + WeightedKNN.PCAOrder.allCases.map(\.rawValue).joined(separator: " or "))
        }
    }

    func run() throws {
        let model = try common.loadModel()
        let train = try common.outputs(model, split: .train, tap: layer)
        let test = try common.outputs(model, split: .evaluation, tap: layer)
        guard let trainTargets = train.targets, let testTargets = test.targets else {
            throw ValidationError("kNN needs true classes for both splits; this data set has none")
        }
        let keepTrain = trainTargets.indices.filter { trainTargets[$0] >= 0 }
        let keepTest = testTargets.indices.filter { testTargets[$0] >= 0 }
        let result = try WeightedKNN.evaluate(
            trainFeatures: train.features.rows(keepTrain), trainLabels: keepTrain.map { trainTargets[$0] },
            testFeatures: test.features.rows(keepTest), testLabels: keepTest.map { testTargets[$0] },
            ks: k, sigmas: sigma, pcaDimensions: pca, pcaOrder: WeightedKNN.PCAOrder(rawValue: pcaOrder)!)
        if json {
            let rows = result.scores.map { s in
                "{\"k\": \(s.k), \"sigma\": \(s.sigma), \"top1\": \(s.top1), \"top5\": \(s.top5), \"n\": \(s.total)}"
            }
            print("[" + rows.joined(separator: ", ") + "]")
        } else {
            print("weighted kNN on \(test.features.shape[0]) images (memory bank \(train.features.shape[0])"
                  + (pca.map { ", PCA \($0), \(pcaOrder) order" } ?? "") + ")")
            print("     k   sigma    top-1    top-5")
            for s in result.scores {
                print(String(format: "%6d  %6.3f  %6.2f%%  %6.2f%%", s.k, s.sigma, 100 * s.top1, 100 * s.top5))
            }
        }
    }
}
