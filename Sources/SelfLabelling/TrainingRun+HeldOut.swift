import DataPipeline
import Foundation

extension TrainingRun {
    /// The held-out split for `--knn-every` (the embedded test images, or the data folder's evaluation split);
    /// nil when not asked for. Both splits need true classes: a data set without them is refused before training.
    func heldOutSplit(_ configuration: TrainingConfiguration, train: any Dataset) throws -> (any Dataset)? {
        guard let every = configuration.knnEvery, every > 0 else { return nil }
        let test: any Dataset
        if let data = configuration.data {
            do { test = try DatasetLocator.open(data, split: .evaluation) } catch {
                throw TrainingConfigurationError(option: "--knn-every", value: "\(every)",
                                                 rule: "needs a held-out split (val/ or test/) in \(data): \(error)")
            }
        } else {
            test = try EmbeddedCIFAR10.test
        }
        guard train.targets != nil, test.targets != nil, test.count > 0 else {
            throw TrainingConfigurationError(option: "--knn-every", value: "\(every)",
                                             rule: "needs true classes for the training and held-out images; \(configuration.data ?? "the data") has none")
        }
        return test
    }
}
