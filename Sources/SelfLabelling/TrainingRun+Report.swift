import Foundation

extension TrainingRun {
    /// Writes `<exp>/report.html` (see `RunReport`). The run's results are already safe on disk, so a page that
    /// cannot be written is a warning, never a failed run.
    func writeReport(_ experiment: String) {
        let path = (experiment as NSString).appendingPathComponent("report.html")
        do {
            try RunReport(experiment: experiment).write(to: path)
            log("run report: \(path)")
        } catch {
            log("warning: could not write the run report \(path): \(error)")
        }
    }
}
