import CPNG

/// Encodes 8-bit RGB or grey pixels as PNG with libpng's simplified write API (`png_image_write_to_memory`).
public enum PNGEncoder {
    /// PNG bytes of a `width` × `height` interleaved RGB8 image.
    public static func encode(rgb pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try encode(PixelImage(width: width, height: height, channels: 3, pixels: pixels))
    }

    /// PNG bytes of `image`: colour type RGB for 3 channels, grey for 1.
    public static func encode(_ picture: PixelImage) throws -> [UInt8] {
        let pixels = picture.pixels, width = picture.width, height = picture.height
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = picture.channels == 3 ? 2 : 0  // PNG_FORMAT_RGB / PNG_FORMAT_GRAY: 8-bit, no alpha
        var size: png_alloc_size_t = 0
        let stride = Int32(width * picture.channels)
        let sized = pixels.withUnsafeBytes {
            png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, stride, nil)
        }
        guard sized != 0, size > 0 else {
            png_image_free(&image)
            throw DataPipelineError.cannotOpen(path: "<png encoder>", reason: PNGEncoder.message(image))
        }
        var out = [UInt8](repeating: 0, count: Int(size))
        let ok = out.withUnsafeMutableBytes { dst in
            pixels.withUnsafeBytes { png_image_write_to_memory(&image, dst.baseAddress, &size, 0, $0.baseAddress, stride, nil) }
        }
        png_image_free(&image)
        guard ok != 0 else { throw DataPipelineError.cannotOpen(path: "<png encoder>", reason: PNGEncoder.message(image)) }
        return Array(out.prefix(Int(size)))
    }

    private static func message(_ image: png_image) -> String {
        withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
