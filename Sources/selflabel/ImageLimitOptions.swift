import ArgumentParser
import DataPipeline

/// `--max-image-pixels`: the per-image decoding limit, for every command that decodes images.
struct ImageLimitOptions: ParsableArguments {
    @Option(name: .customLong("max-image-pixels"),
            help: "Skip (with a warning) any image whose header claims more pixels than this (decompression-bomb guard; Pillow's default MAX_IMAGE_PIXELS).")
    var maxImagePixels: Int = ImageDecoder.defaultMaximumPixels

    func validate() throws {
        guard maxImagePixels >= 1 else { throw ValidationError("--max-image-pixels must be at least 1, got \(maxImagePixels)") }
    }

    /// Makes the limit the one of every decoder this process creates; call before reading any data.
    func apply() { ImageDecoder.processMaximumPixels = maxImagePixels }
}
