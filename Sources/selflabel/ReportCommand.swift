import ArgumentParser
import Foundation
import SelfLabelling

/// `selflabel report EXP`: the run's page (charts, warnings, clusters, settings, timings) as one static HTML file.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a static HTML page of a training run: charts of metrics.jsonl, warnings, clusters, settings, timings.",
        discussion: "train writes <exp>/report.html at the end of every run; this command writes it again (for a run "
            + "still going, or one stopped early). The page needs no network, script or font to be viewed.")

    @Argument(help: "The experiment folder (train's --exp).") var experiment: String
    @Option(help: "Where to write the page (default: <experiment>/report.html).") var out: String?

    func run() throws {
        let path = out ?? (experiment as NSString).appendingPathComponent("report.html")
        try RunReport(experiment: experiment).write(to: path)
        print(path)
    }
}
