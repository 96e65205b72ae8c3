import Foundation
import Interop
import SelfLabelling
import TestSupport
import Testing

@Suite struct RunReportTests {
    /// An experiment folder with the given metrics lines and (optionally) one checkpoint.
    static func experiment(_ tag: String, lines: [String], configuration: TrainingConfiguration? = nil) throws -> String {
        let exp = try temporaryFolder(tag)
        try (lines.joined(separator: "\n") + "\n").write(toFile: exp + "/metrics.jsonl", atomically: true, encoding: .utf8)
        if let configuration {
            var progress = TrainingProgress(schedule: LabelSchedule(remaining: [1.5]))
            progress.epoch = 1; progress.iteration = 40; progress.labelOptimisations = 2
            let checkpoint = TrainingCheckpoint(
                state: .init(progress: progress, configuration: configuration, reason: "epoch"), modelState: [], momentum: [],
                labels: PseudoLabels(clusters: [3], count: 4, values: [0, 1, 2, 0]), warmStarts: [nil])
            let folder = CheckpointFolder(experiment: exp)
            try folder.create()
            try checkpoint.write(to: folder.regularPath(epoch: 1, batch: 0))
        }
        return exp
    }

    static func labels(_ optimisation: Int, head: Int, iterations: Int, converged: Bool, empty: Int = 0, changed: Double) -> String {
        "{\"kind\": \"labels\", \"optimisation\": \(optimisation), \"epoch\": 0, \"iteration\": \(optimisation * 20), \"head\": \(head), "
            + "\"sk_iterations\": \(iterations), \"converged\": \(converged), \"final_error\": \(converged ? 0.01 : 4.5), "
            + "\"seconds\": 0.25, \"network_pass_seconds\": 2.0, \"empty_clusters\": \(empty), \"changed_fraction\": \(changed), "
            + "\"nmi_previous\": 0.5}"
    }

    @Test("the checkpoint's state is read from the header alone and equals the full read")
    func headerOnlyState() throws {
        var c = TrainingConfiguration()
        c.epochs = 7; c.skTol = 0.05
        let exp = try Self.experiment("report-state", lines: [], configuration: c)
        let path = CheckpointFolder(experiment: exp).latest!
        #expect(try TrainingCheckpoint.state(atPath: path) == TrainingCheckpoint(contentsOf: path).state)
        #expect { try TrainingCheckpoint.state(atPath: exp + "/metrics.jsonl") } throws: { "\($0)".contains("metrics.jsonl") }
    }

    @Test("warnings count unconverged and empty-cluster head solves and unreadable lines; charts get the records' values")
    func warningsAndCharts() throws {
        var c = TrainingConfiguration()
        c.skTol = 0.05; c.skMaxIters = 300
        let lines = [
            "{\"kind\": \"train\", \"epoch\": 0, \"iteration\": 0, \"loss\": 4.5, \"loss_mean\": 4.5, \"lr\": 0.05, \"images_per_second\": 100}",
            "{\"kind\": \"train\", \"epoch\": 0, \"iteration\": 10, \"loss\": 3.5, \"loss_mean\": 4.0, \"lr\": 0.05, \"images_per_second\": 300}",
            Self.labels(0, head: 0, iterations: 50, converged: true, changed: 1.0),
            Self.labels(0, head: 1, iterations: 70, converged: true, changed: 0.8),
            Self.labels(1, head: 0, iterations: 300, converged: false, empty: 2, changed: 0.5),
            Self.labels(1, head: 1, iterations: 120, converged: true, changed: 0.3),
            "{\"kind\": \"epoch\", \"epoch\": 0, \"loss_mean\": 4.0, \"lr\": 0.05}",
            "{\"kind\": \"train\", \"epoch\": 1, \"iter",
        ]
        let exp = try Self.experiment("report-warnings", lines: lines, configuration: c)
        let report = try RunReport(experiment: exp)
        #expect(report.records.count == 7 && report.unreadableLines == 1)
        let warnings = report.warnings
        #expect(warnings.count == 3, "\(warnings)")
        #expect(warnings.contains { $0.hasPrefix("1 of 4 head solves (in 1 label optimisations) stopped at the Sinkhorn-Knopp iteration cap")
            && $0.contains("largest error 4.5") && $0.contains("tolerance 0.05") })
        #expect(warnings.contains { $0.contains("1 head solves left empty clusters (up to 2") })
        let steps = report.labelSteps
        #expect(steps.map(\.optimisation) == [0, 1] && steps.map(\.iteration) == [0, 20])
        #expect(steps[0].mean("changed_fraction") == 0.9 && steps[1].maximum("sk_iterations") == 300)
        let iterations = try #require(report.charts.first { $0.title.hasPrefix("Sinkhorn-Knopp") })
        #expect(iterations.series.map(\.name) == ["most (over heads)", "mean", "cap"])
        #expect(iterations.series[2].points.map(\.y) == [300, 300])
        // The automatic cap (0) draws no cap line.
        var automatic = c
        automatic.skMaxIters = 0
        let auto = try RunReport(experiment: try Self.experiment("report-auto-cap", lines: lines, configuration: automatic))
        #expect(try #require(auto.charts.first { $0.title.hasPrefix("Sinkhorn-Knopp") }).series.map(\.name) == ["most (over heads)", "mean"])
        let timings = Dictionary(uniqueKeysWithValues: report.timings)
        #expect(timings["label optimisations"] == "2: network passes 4.0 s, Sinkhorn-Knopp 1.0 s")
        #expect(timings["training throughput"] == "200.0 images/s (mean of 2 logged iterations)")
        let page = report.html(pageFolder: exp)
        #expect(page.components(separatedBy: "<svg").count - 1 == 6)
        #expect(page.contains("<th>skMaxIters</th><td>300</td>"))
        #expect(!page.contains("src=\"http") && !page.contains("href=\"http") && !page.contains("<script"))
    }

    @Test("a folder without checkpoints or gallery still gets a page; a folder without metrics is an error naming it")
    func partialFolders() throws {
        let exp = try Self.experiment("report-bare", lines: [])
        let page = try RunReport(experiment: exp).html(pageFolder: exp)
        #expect(page.contains("No checkpoint could be read") && page.contains("No cluster gallery"))
        #expect(page.contains("no data recorded"))
        let empty = try temporaryFolder("report-empty")
        #expect { try RunReport(experiment: empty) } throws: { "\($0)".contains(empty + "/metrics.jsonl") }
        #expect { try RunReport(experiment: empty + "/missing") } throws: { "\($0)".contains("no such experiment folder") }
    }
}
