import Evaluation
import Testing

/// One labelling pair with scikit-learn / SciPy values (Fixtures/clustering_metrics.json).
struct ClusteringCase: Decodable, CustomTestStringConvertible, Sendable {
    let name: String
    let predicted: [Int], truth: [Int]
    let nmi: Double, ami: Double, ari: Double, mi: Double, emi: Double
    let matched_accuracy: Double, majority_accuracy: Double
    let clusters: Int, classes: Int
    var testDescription: String { name }
}

struct ClusteringFixture: Decodable { let cases: [ClusteringCase] }

let clusteringCases: [ClusteringCase] = (try? loadFixture("clustering_metrics.json", as: ClusteringFixture.self).cases) ?? []

@Suite struct ClusteringMetricsTests {
    @Test func fixtureLoaded() { #expect(clusteringCases.count >= 12) }

    @Test(arguments: clusteringCases)
    func matchesScikitLearn(_ c: ClusteringCase) throws {
        let t = try ContingencyTable(predicted: c.predicted, truth: c.truth)
        #expect(t.clusters.count == c.clusters && t.classes.count == c.classes, "\(c.name)")
        let tol = 1e-9
        let mi = ClusteringMetrics.mutualInformation(t)
        #expect(abs(mi - c.mi) <= tol, "\(c.name): MI \(mi) vs sklearn \(c.mi)")
        let emi = ClusteringMetrics.expectedMutualInformation(t)
        #expect(abs(emi - c.emi) <= tol, "\(c.name): EMI \(emi) vs sklearn \(c.emi)")
        let report = try ClusteringReport(predicted: c.predicted, truth: c.truth)
        #expect(abs(report.nmi - c.nmi) <= tol, "\(c.name): NMI \(report.nmi) vs sklearn \(c.nmi)")
        #expect(abs(report.ami - c.ami) <= tol, "\(c.name): AMI \(report.ami) vs sklearn \(c.ami)")
        #expect(abs(report.ari - c.ari) <= tol, "\(c.name): ARI \(report.ari) vs sklearn \(c.ari)")
        #expect(abs(report.oneToOneAccuracy - c.matched_accuracy) <= tol,
                "\(c.name): matched accuracy \(report.oneToOneAccuracy) vs scipy \(c.matched_accuracy)")
        #expect(abs(report.majorityAccuracy - c.majority_accuracy) <= tol,
                "\(c.name): majority accuracy \(report.majorityAccuracy) vs numpy \(c.majority_accuracy)")
        if c.clusters == c.classes {
            #expect(report.hungarianAccuracy == report.oneToOneAccuracy, "\(c.name)")
        } else {
            #expect(report.hungarianAccuracy == nil, "\(c.name): Hungarian accuracy only for equal counts")
        }
    }

    @Test func symmetricScoresDoNotDependOnArgumentOrder() throws {
        let c = clusteringCases.first { $0.name == "random_20_clusters_10_classes" }!
        let a = try ClusteringReport(predicted: c.predicted, truth: c.truth)
        let b = try ClusteringReport(predicted: c.truth, truth: c.predicted)
        #expect(abs(a.nmi - b.nmi) < 1e-12 && abs(a.ami - b.ami) < 1e-12 && abs(a.ari - b.ari) < 1e-12)
    }

    @Test func convenienceOverloadsAgreeWithTheTable() throws {
        let c = clusteringCases.first { $0.name == "noisy_permuted_80pct" }!
        #expect(abs(try ClusteringMetrics.normalizedMutualInformation(c.predicted, c.truth) - c.nmi) <= 1e-9)
        let a32 = c.predicted.map(Int32.init), b32 = c.truth.map(Int32.init)
        #expect(abs(try ClusteringMetrics.normalizedMutualInformation(a32, b32) - c.nmi) <= 1e-9)
    }

    @Test func contingencyTableCountsByHand() throws {
        let t = try ContingencyTable(predicted: [5, 5, 1, 1, 1, 9], truth: [0, 1, 1, 1, 0, 0])
        #expect(t.clusters == [1, 5, 9] && t.classes == [0, 1])
        #expect(t.counts == [1, 2, 1, 1, 1, 0])
        #expect(t.clusterSizes == [3, 2, 1] && t.classSizes == [3, 3] && t.sampleCount == 6)
    }

    @Test func lengthMismatchIsAnError() {
        #expect(throws: EvaluationError.lengthMismatch(predicted: 2, truth: 3)) {
            try ContingencyTable(predicted: [0, 1], truth: [0, 1, 2])
        }
        #expect(throws: EvaluationError.empty(what: "label array")) { try ClusteringReport(predicted: [], truth: []) }
    }

    @Test func clusterSizeSummaryCountsEmptyClusters() throws {
        // 10 clusters declared, 4 used with sizes 4, 3, 2, 1.
        let pred = [0, 0, 0, 0, 1, 1, 1, 2, 2, 7]
        let report = try ClusteringReport(predicted: pred, truth: [Int](repeating: 0, count: 10), clusterCount: 10)
        let s = report.sizes
        #expect(s.clusterCount == 10 && s.emptyClusters == 6 && s.min == 0 && s.max == 4)
        #expect(s.sortedSizes == [4, 3, 2, 1, 0, 0, 0, 0, 0, 0] && s.median == 0 && s.mean == 1)
        let equal = try ClusteringReport(predicted: [0, 1, 2, 0, 1, 2], truth: [0, 0, 0, 1, 1, 1])
        #expect(abs(equal.sizes.normalizedEntropy - 1) < 1e-12 && equal.sizes.standardDeviation == 0)
    }

    @Test func purityPerClusterByHand() throws {
        let t = try ContingencyTable(predicted: [0, 0, 0, 1, 1], truth: [2, 2, 3, 3, 2])
        let p = ClusteringMetrics.clusterPurities(t)
        #expect(p.majorityClass == [0, 0] && p.majorityCounts == [2, 1])
        #expect(abs(p.purity[0] - 2.0 / 3) < 1e-15 && p.purity[1] == 0.5)
        #expect(abs(ClusteringMetrics.majorityAccuracy(t) - 0.6) < 1e-15)
    }
}
