import DataPipeline
import Foundation

extension TrainingRun {
    /// For `--labels FILE` (retraining on fixed pseudo-labels): reads the file against the training set (CSV
    /// rows matched by file name, `.npy` by order and length), checks every label, and sets `configuration.hc`
    /// to the file's heads and `ncl` to its largest label + 1 (a larger `--ncl` given explicitly is kept: the
    /// official released labels may leave clusters unused). Returns nil without `--labels`.
    func readFixedLabels(into configuration: inout TrainingConfiguration, dataset: any Dataset) throws -> PseudoLabels? {
        guard let path = configuration.labels else { return nil }
        let file = try LabelFile.read(path, matching: dataset)
        if let (i, v) = file.values.enumerated().first(where: { $0.element < 0 }) {
            throw LabelFileError(path: path, reason: "label \(v) (head \(i / file.count), image \(i % file.count)) is negative")
        }
        let largest = file.values.max() ?? 0
        guard largest < Int(Int32.max) else { throw LabelFileError(path: path, reason: "label \(largest) is too large") }
        if typedSettings.contains("hc"), configuration.hc != file.heads {
            throw LabelFileError(path: path, reason: "has \(file.heads) head(s) but --hc \(configuration.hc) was given")
        }
        if typedSettings.contains("ncl"), configuration.ncl <= largest {
            throw LabelFileError(path: path, reason: "has label \(largest), which --ncl \(configuration.ncl) cannot hold")
        }
        configuration.hc = file.heads
        configuration.ncl = typedSettings.contains("ncl") ? configuration.ncl : max(largest + 1, 2)
        if file.unmatchedRows > 0 {
            log("\(path): \(file.unmatchedRows) row(s) name no image of the data set and were skipped")
        }
        log("training on the fixed labels of \(path): \(file.heads) head(s) × \(configuration.ncl) clusters, no label optimisation")
        return PseudoLabels(clusters: Array(repeating: configuration.ncl, count: file.heads), count: file.count,
                            values: file.values.map { Int32($0) })
    }
}
