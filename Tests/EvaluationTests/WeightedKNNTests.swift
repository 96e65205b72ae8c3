import Evaluation
import Tensors
import Testing

/// Fixed features with the NumPy reference of the protocol (Fixtures/knn.json, from make_fixtures.py).
struct KNNFixture: Decodable {
    struct Score: Decodable { let k: Int; let sigma: Double; let top1: Int; let top5: Int }
    let train_features: [Float], train_labels: [Int]
    let test_features: [Float], test_labels: [Int]
    let dimension: Int
    let ks: [Int], sigmas: [Double]
    let plain: [Score]
    let pca_dimensions: Int
    let pca: [Score]
    let pca_explained_variance: [Double]
    let pca_test_projection_normalized: [Double]
    let pca_official: [Score]
    let pca_official_explained_variance: [Double]
    let pca_official_test_projection_normalized: [Double]

    var train: Tensor { Tensor(shape: [train_labels.count, dimension], scalars: train_features) }
    var test: Tensor { Tensor(shape: [test_labels.count, dimension], scalars: test_features) }
}

@Suite struct WeightedKNNTests {
    let f: KNNFixture

    init() throws { f = try loadFixture("knn.json", as: KNNFixture.self) }

    func check(_ result: WeightedKNN.Evaluation, against reference: [KNNFixture.Score], _ label: String) {
        #expect(result.scores.count == reference.count)
        for r in reference {
            guard let s = result.score(k: r.k, sigma: r.sigma) else {
                Issue.record("\(label): no score for k=\(r.k) σ=\(r.sigma)")
                continue
            }
            #expect(s.correctTop1 == r.top1 && s.correctTop5 == r.top5,
                    "\(label) k=\(r.k) σ=\(r.sigma): top1 \(s.correctTop1)/top5 \(s.correctTop5) vs NumPy \(r.top1)/\(r.top5)")
            #expect(s.total == f.test_labels.count)
        }
    }

    @Test func plainMatchesNumPyReference() throws {
        let e = try WeightedKNN.evaluate(trainFeatures: f.train, trainLabels: f.train_labels, testFeatures: f.test,
                                         testLabels: f.test_labels, ks: f.ks, sigmas: f.sigmas)
        check(e, against: f.plain, "plain")
        #expect(e.pca == nil)
    }

    @Test func chunkingDoesNotChangeTheResult() throws {
        // A budget of 7 rows of similarities forces 18 chunks, the last one partial.
        let budget = 7 * f.train_labels.count * 4
        let e = try WeightedKNN.evaluate(trainFeatures: f.train, trainLabels: f.train_labels, testFeatures: f.test,
                                         testLabels: f.test_labels, ks: f.ks, sigmas: f.sigmas,
                                         similarityBudgetBytes: budget)
        check(e, against: f.plain, "chunked")
    }

    @Test("both PCA orders match scikit-learn: scores, eigenvalues and the normalised test projection",
          arguments: [WeightedKNN.PCAOrder.official, .normalizedFirst])
    func pcaVariantMatchesNumPyReference(_ order: WeightedKNN.PCAOrder) throws {
        let e = try WeightedKNN.evaluate(trainFeatures: f.train, trainLabels: f.train_labels, testFeatures: f.test,
                                         testLabels: f.test_labels, ks: f.ks, sigmas: f.sigmas,
                                         pcaDimensions: f.pca_dimensions, pcaOrder: order)
        let official = order == .official
        check(e, against: official ? f.pca_official : f.pca, "pca \(order)")
        let pca = try #require(e.pca)
        for (k, v) in (official ? f.pca_official_explained_variance : f.pca_explained_variance).enumerated() {
            #expect(abs(pca.explainedVariance[k] - v) <= 1e-6 * max(v, 1e-3), "eigenvalue \(k): \(pca.explainedVariance[k]) vs \(v)")
        }
        // Projected, re-normalised test features equal sklearn's up to the sign of each component.
        let input = official ? f.test : try FeatureNormalization.l2Normalized(f.test)
        let projected = try FeatureNormalization.l2Normalized(try pca.transform(input)).scalars
        let reference = official ? f.pca_official_test_projection_normalized : f.pca_test_projection_normalized
        let d = f.pca_dimensions, m = f.test_labels.count
        for k in 0..<d {
            var dot = 0.0
            for i in 0..<m { dot += Double(projected[i * d + k]) * reference[i * d + k] }
            let sign: Double = dot < 0 ? -1 : 1
            var worst = 0.0
            for i in 0..<m { worst = max(worst, abs(sign * Double(projected[i * d + k]) - reference[i * d + k])) }
            #expect(worst < 2e-5, "component \(k): max difference \(worst) from sklearn's projection")
        }
    }

    @Test func invalidOptionsAreErrors() {
        #expect(throws: EvaluationError.invalidKNNOption(name: "k", value: 301)) {
            try WeightedKNN.evaluate(trainFeatures: f.train, trainLabels: f.train_labels, testFeatures: f.test,
                                     testLabels: f.test_labels, ks: [301], sigmas: [0.1])
        }
        #expect(throws: EvaluationError.invalidKNNOption(name: "sigma", value: 0)) {
            try WeightedKNN.evaluate(trainFeatures: f.train, trainLabels: f.train_labels, testFeatures: f.test,
                                     testLabels: f.test_labels, ks: [5], sigmas: [0])
        }
        #expect(throws: EvaluationError.labelCountMismatch(rows: 300, labels: 2, what: "train")) {
            try WeightedKNN.evaluate(trainFeatures: f.train, trainLabels: [0, 1], testFeatures: f.test,
                                     testLabels: f.test_labels, ks: [5], sigmas: [0.1])
        }
        #expect(throws: EvaluationError.invalidPCADimension(requested: 33, maximum: 32)) {
            try WeightedKNN.evaluate(trainFeatures: f.train, trainLabels: f.train_labels, testFeatures: f.test,
                                     testLabels: f.test_labels, ks: [5], sigmas: [0.1], pcaDimensions: 33)
        }
        var bad = f.test
        bad[3, 4] = .nan
        #expect(throws: EvaluationError.self) {
            try WeightedKNN.evaluate(trainFeatures: f.train, trainLabels: f.train_labels, testFeatures: bad,
                                     testLabels: f.test_labels, ks: [5], sigmas: [0.1])
        }
    }

    @Test func eigensolverOnAKnownMatrix() throws {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, −1)/√2 and (1, 1)/√2.
        let (values, vectors) = try SymmetricEigen.decompose([2, 1, 1, 2], n: 2)
        #expect(abs(values[0] - 1) < 1e-14 && abs(values[1] - 3) < 1e-14)
        let r = 0.5.squareRoot()
        #expect(abs(abs(vectors[2]) - r) < 1e-14 && abs(vectors[2] - vectors[3]) < 1e-14)
        #expect(abs(vectors[0] + vectors[1]) < 1e-14)
    }
}
