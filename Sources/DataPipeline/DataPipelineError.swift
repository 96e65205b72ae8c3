/// Errors the user can cause in the data pipeline (bad paths, corrupt files, inconsistent datasets). Each case
/// carries the offending path or value; `description` is one line suitable for the CLI.
public enum DataPipelineError: Error, CustomStringConvertible, Equatable {
    /// A file or folder that does not exist or cannot be opened (`reason` is the system's message).
    case cannotOpen(path: String, reason: String)
    /// A folder that was expected to contain images but holds none with a supported extension.
    case noImages(path: String)
    /// A dataset root without any of the expected split folders.
    case missingSplit(root: String, tried: [String])
    /// An image file that could not be decoded (truncated, corrupt, or not an image despite its name).
    case corruptImage(path: String, reason: String)
    /// An image whose header claims more pixels than the decoder's limit (a possible decompression bomb).
    case imageTooLarge(path: String, width: Int, height: Int, limit: Int)
    /// A dataset file (CIFAR binary, IDX, pack file) whose structure is wrong.
    case malformedFile(path: String, reason: String)
    /// Two samples in one batch whose transformed sizes differ (a pipeline without a fixed-size crop).
    case inconsistentSampleShape(index: Int, expected: [Int], got: [Int])
    /// A resource missing from the DataPipeline bundle.
    case missingResource(name: String)
    /// `--data` names a folder in no format SelfLabel recognises; `lookedFor` lists what was checked.
    case unrecognisedDataset(path: String, lookedFor: [String])

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open \(path): \(reason)"
        case let .noImages(path): return "no .jpg/.jpeg/.png images found under \(path)"
        case let .missingSplit(root, tried):
            return "dataset root \(root) has none of the split folders \(tried.joined(separator: ", "))"
        case let .corruptImage(path, reason): return "corrupt image \(path): \(reason)"
        case let .imageTooLarge(path, width, height, limit):
            return "image \(path) claims \(width)×\(height) pixels, over the limit of \(limit) per image "
                + "(a decompression bomb?); raise the limit to read it"
        case let .malformedFile(path, reason): return "malformed dataset file \(path): \(reason)"
        case let .inconsistentSampleShape(index, expected, got):
            return "sample \(index) has shape \(got) after transforms, but the batch has \(expected) "
                + "(add a fixed-size crop to the pipeline)"
        case let .missingResource(name): return "DataPipeline resource \(name) is missing from the bundle"
        case let .unrecognisedDataset(path, lookedFor):
            return "\(path): no data set recognised; looked for " + lookedFor.joined(separator: "; ")
        }
    }
}
