/// The shape of one network input image, `channels × size × size` (NCHW without the batch): 1 channel for grey
/// data, 3 for RGB; `size` is the side of the square image the network sees after the transforms.
public struct InputShape: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Image channels: 1 (grey) or 3 (RGB).
    public var channels: Int
    /// Side of the square input image, in pixels.
    public var size: Int

    /// An input shape (no checks; see `Architecture.check(_:)`).
    public init(channels: Int, size: Int) {
        self.channels = channels
        self.size = size
    }

    /// "1×28×28".
    public var description: String { "\(channels)×\(size)×\(size)" }

    /// The output side of a convolution or pooling window over a side of `size` (PyTorch's floor rule):
    /// `⌊(size + 2·padding − kernel) / stride⌋ + 1`, or 0 when the window does not fit.
    public static func windowOutput(_ size: Int, kernel: Int, stride: Int = 1, padding: Int = 0) -> Int {
        let span = size + 2 * padding - kernel
        return span < 0 ? 0 : span / stride + 1
    }
}

/// An input shape a network cannot take (too small for its poolings, an unsupported channel count, or a size
/// its fixed-size pooling does not fit).
public struct UnsupportedInputError: Error, CustomStringConvertible, Equatable {
    /// The architecture's name.
    public var architecture: String
    /// The shape asked for.
    public var input: InputShape
    /// Why it does not fit, naming what would.
    public var reason: String

    /// An error.
    public init(architecture: String, input: InputShape, reason: String) {
        self.architecture = architecture; self.input = input; self.reason = reason
    }

    public var description: String { "\(architecture) cannot take \(input) input: \(reason)" }
}
