import Foundation

extension ImageDecoder {
    private static let limitLock = NSLock()
    nonisolated(unsafe) private static var limit = ImageDecoder.defaultMaximumPixels

    /// The per-image pixel limit of every decoder created without an explicit `maximumPixels` (the loader's
    /// workers, galleries, probes): `defaultMaximumPixels` unless the program sets it, as the CLI does once from
    /// `--max-image-pixels` before any data is read (like `ComputeThreads.set` for the thread count).
    public static var processMaximumPixels: Int {
        get { limitLock.lock(); defer { limitLock.unlock() }; return limit }
        set {
            precondition(newValue >= 1, "ImageDecoder.processMaximumPixels must be >= 1, got \(newValue)")
            limitLock.lock(); limit = newValue; limitLock.unlock()
        }
    }
}
