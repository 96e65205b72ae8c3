/// What a data set's images are like, known before training: the channel count the network should take and
/// their common size, if they share one.
public struct ImageInfo: Sendable, Equatable {
    /// 1 when the images are grey, 3 when any is in colour.
    public var channels: Int
    /// The common width and height of the images, or nil when they differ.
    public var width: Int?, height: Int?
    /// How many images the answer is based on.
    public var inspected: Int

    /// Facts about a data set's images.
    public init(channels: Int, width: Int?, height: Int?, inspected: Int) {
        self.channels = channels; self.width = width; self.height = height; self.inspected = inspected
    }

    /// The shorter side of the common size, when there is one.
    public var commonShorterSide: Int? {
        guard let width, let height else { return nil }
        return min(width, height)
    }

    /// The most images `inspecting(count:header:)` reads.
    public static let inspectionLimit = 1000

    /// The rule for files whose header says grey or colour (image folders, packs): the images at up to
    /// `inspectionLimit` positions spread evenly over `0..<count` (all when there are fewer; always the first and
    /// the last) are inspected by header only. The set is grey (1 channel) when every inspected image is grey,
    /// otherwise RGB (3): a mixed folder is RGB, its grey images replicated to three channels as torchvision's
    /// loader does (`convert("RGB")`), and a colour image the inspection did not reach in a folder found grey
    /// is converted to its luma (`convert("L")`). The size is common when all inspected images have it. Files
    /// whose header cannot be read are left out (`inspected` counts the others); with none readable the set is RGB
    /// with no common size.
    public static func inspecting(count: Int, header: (Int) throws -> ImageDecoder.Header) -> ImageInfo {
        let positions = evenlySpaced(count: count, limit: inspectionLimit)
        var grey = true
        var size: (Int, Int)?
        var uniform = true
        var read = 0
        for i in positions {
            // An unreadable file is left out here as the loader leaves it out of training (with its warning).
            guard let h = try? header(i) else { continue }
            read += 1
            grey = grey && h.isGrey
            if let s = size { uniform = uniform && s == (h.width, h.height) } else { size = (h.width, h.height) }
        }
        return ImageInfo(channels: grey && read > 0 ? 1 : 3, width: uniform ? size?.0 : nil,
                         height: uniform ? size?.1 : nil, inspected: read)
    }

    /// Up to `limit` indices spread evenly over `0..<count`, first and last included, increasing.
    public static func evenlySpaced(count: Int, limit: Int) -> [Int] {
        guard count > limit, limit >= 2 else { return Array(0..<count) }
        return (0..<limit).map { $0 * (count - 1) / (limit - 1) }
    }
}

extension Dataset {
    /// Default: the channels and size of the first of the first ten samples that decodes (RGB with no common
    /// size when none does).
    public func imageInfo() throws -> ImageInfo {
        for i in 0..<min(count, 10) {
            guard let image = try? sample(at: i).image else { continue }
            return ImageInfo(channels: image.channels, width: image.width, height: image.height, inspected: 1)
        }
        return ImageInfo(channels: 3, width: nil, height: nil, inspected: 0)
    }
}

extension ImageFolderDataset {
    /// The image folder rule of `ImageInfo.inspecting(count:header:)` (headers of up to 1,000 evenly spaced
    /// files).
    public func imageInfo() throws -> ImageInfo {
        ImageInfo.inspecting(count: count) { try ImageDecoder.header(try FileBytes.read(paths[$0]), name: paths[$0]) }
    }
}

extension PackedImageDataset {
    /// The rule of `ImageInfo.inspecting(count:header:)` on the stored files (the embedded CIFAR-10 subset:
    /// 3 channels, 32×32).
    public func imageInfo() throws -> ImageInfo {
        ImageInfo.inspecting(count: count) { try ImageDecoder.header(encodedBytes(at: $0), name: describeSample($0)) }
    }
}

extension IDXDataset {
    /// Grey, `columns`×`rows`.
    public func imageInfo() throws -> ImageInfo {
        ImageInfo(channels: 1, width: columns, height: rows, inspected: count)
    }
}

extension CIFARDataset {
    /// RGB, 32×32.
    public func imageInfo() throws -> ImageInfo { ImageInfo(channels: 3, width: 32, height: 32, inspected: count) }
}

extension SubsetDataset {
    /// The base data set's.
    public func imageInfo() throws -> ImageInfo { try base.imageInfo() }
}
