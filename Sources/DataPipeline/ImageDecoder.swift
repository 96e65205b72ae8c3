import CTurboJPEG
import CPNG

/// Decodes JPEG (libjpeg-turbo, TurboJPEG API) and PNG (libpng) files to 8-bit RGB `PixelImage`s.
///
/// Not thread-safe: each loader worker owns one decoder (it keeps a TurboJPEG handle, so that small images
/// such as CIFAR's do not pay for creating one per file).
///
/// - JPEG: accurate integer DCT with fancy upsampling (libjpeg's defaults, as in PIL). Greyscale files are
///   expanded to RGB by libjpeg-turbo; CMYK/YCCK files are decoded to CMYK and converted like PIL's
///   `convert("RGB")` (Adobe-inverted CMYK, `R = C·K/255`). When `minimumShorterSide` is set and the image is
///   at least twice that size, decoding uses DCT-domain scaling by 1/2, 1/4 or 1/8 (the strongest that keeps
///   the shorter side ≥ `minimumShorterSide`), which is several times faster for large photos.
/// - PNG: 8- and 16-bit (16-bit keeps the high byte, like PIL), palette, grey and grey+alpha; alpha is dropped
///   (not composited), as PIL's `convert("RGB")` does.
/// - A truncated or corrupt file, a file that ends before its image data, or a file that is neither JPEG nor PNG
///   throws `DataPipelineError.corruptImage`. A failure never affects the next file: after any JPEG error the
///   TurboJPEG handle (whose libjpeg state is then undefined) is destroyed and a fresh one made for the next file.
/// - An image whose header claims more than `maximumPixels` pixels throws `DataPipelineError.imageTooLarge`
///   before anything is allocated (a decompression bomb: a few hundred bytes claiming 65000×65000).
public final class ImageDecoder {
    private var handle: tjhandle?

    /// Pillow's default `Image.MAX_IMAGE_PIXELS` (1024³ / 4 / 3 = 89,478,485, about 90 megapixels): the default
    /// per-image limit.
    public static let defaultMaximumPixels = 89_478_485

    /// When set, JPEG decoding may shrink the image in the DCT domain as long as its shorter side stays at
    /// least this many pixels. `nil` (default) always decodes at full size.
    public var minimumShorterSide: Int?

    /// Largest width × height (as stored in the file's header, before any DCT scaling) that is decoded.
    public var maximumPixels: Int

    /// A decoder; `minimumShorterSide` as described on the type; `maximumPixels` (≥ 1) defaults to
    /// `ImageDecoder.processMaximumPixels`.
    public init(minimumShorterSide: Int? = nil, maximumPixels: Int? = nil) {
        let limit = maximumPixels ?? ImageDecoder.processMaximumPixels
        precondition(limit >= 1, "ImageDecoder: maximumPixels must be >= 1, got \(limit)")
        self.minimumShorterSide = minimumShorterSide
        self.maximumPixels = limit
    }

    deinit { if let h = handle { tjDestroy(h) } }

    /// Throws `imageTooLarge` when a `width` × `height` header exceeds `maximumPixels`.
    private func checkSize(width: Int, height: Int, name: String) throws {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > maximumPixels {
            throw DataPipelineError.imageTooLarge(path: name, width: width, height: height, limit: maximumPixels)
        }
    }

    /// Reads and decodes the file at `path`.
    public func decodeFile(_ path: String) throws -> PixelImage {
        try decode(try FileBytes.read(path), name: path)
    }

    /// Decodes encoded bytes; `name` is used in error messages.
    public func decode(_ bytes: [UInt8], name: String) throws -> PixelImage {
        try bytes.withUnsafeBufferPointer { try decode(UnsafeRawBufferPointer($0), name: name) }
    }

    /// Decodes encoded bytes; `name` is used in error messages.
    public func decode(_ bytes: UnsafeRawBufferPointer, name: String) throws -> PixelImage {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF {
            return try decodeJPEG(bytes, name: name)
        }
        if bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 {
            return try decodePNG(bytes, name: name)
        }
        throw DataPipelineError.corruptImage(path: name, reason: "neither a JPEG nor a PNG file (\(bytes.count) bytes)")
    }

    /// The DCT scaling denominator (1, 2, 4 or 8) for an image of the given size.
    public static func jpegScaleDenominator(width: Int, height: Int, minimumShorterSide: Int?) -> Int {
        guard let need = minimumShorterSide, need > 0 else { return 1 }
        let shorter = min(width, height)
        var best = 1
        for d in [2, 4, 8] where (shorter + d - 1) / d >= need { best = d }
        return best
    }

    private func decodeJPEG(_ bytes: UnsafeRawBufferPointer, name: String) throws -> PixelImage {
        if handle == nil { handle = tjInitDecompress() }
        guard let h = handle else {
            throw DataPipelineError.corruptImage(path: name, reason: "TurboJPEG could not create a decoder")
        }
        do {
            return try decodeJPEG(bytes, name: name, handle: h)
        } catch {
            // libjpeg's state after an error is undefined (a header failure left later good files failing with
            // "Bogus Huffman table definition"): never reuse the handle.
            tjDestroy(h)
            handle = nil
            throw error
        }
    }

    private func decodeJPEG(_ bytes: UnsafeRawBufferPointer, name: String, handle h: tjhandle) throws -> PixelImage {
        let src = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var w: Int32 = 0, hgt: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
        if tjDecompressHeader3(h, src, UInt(bytes.count), &w, &hgt, &subsamp, &colorspace) != 0 {
            throw DataPipelineError.corruptImage(path: name, reason: String(cString: tjGetErrorStr2(h)))
        }
        guard w > 0, hgt > 0 else {
            throw DataPipelineError.corruptImage(path: name, reason: "the file ends before its image data (header reports \(w)×\(hgt))")
        }
        try checkSize(width: Int(w), height: Int(hgt), name: name)
        let d = ImageDecoder.jpegScaleDenominator(width: Int(w), height: Int(hgt),
                                                  minimumShorterSide: minimumShorterSide)
        let sw = (Int(w) + d - 1) / d, sh = (Int(hgt) + d - 1) / d
        let isCMYK = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        let bpp = isCMYK ? 4 : 3
        let format = isCMYK ? Int32(TJPF_CMYK.rawValue) : Int32(TJPF_RGB.rawValue)
        var out = [UInt8](repeating: 0, count: sw * sh * bpp)
        let rc = out.withUnsafeMutableBufferPointer { dst in
            tjDecompress2(h, src, UInt(bytes.count), dst.baseAddress, Int32(sw), 0, Int32(sh), format, 0)
        }
        if rc != 0 {
            let message = String(cString: tjGetErrorStr2(h))
            // Warnings (e.g. extraneous bytes) leave a complete image, and PIL accepts them; a premature end of
            // data is a truncated file, which PIL rejects too.
            if tjGetErrorCode(h) != Int32(TJERR_WARNING.rawValue) || message.contains("Premature end") {
                throw DataPipelineError.corruptImage(path: name, reason: message)
            }
        }
        if isCMYK {
            var rgb = [UInt8](repeating: 0, count: sw * sh * 3)
            out.withUnsafeBufferPointer { c in
                rgb.withUnsafeMutableBufferPointer { o in
                    // Adobe files store inverted CMYK; PIL un-inverts ("CMYK;I") and then computes
                    // R = (255 - K) - MULDIV255(C, 255 - K), MULDIV255(a, b) = (t + (t >> 8)) >> 8, t = a·b + 128.
                    for i in 0..<(sw * sh) {
                        let nk = Int(c[4 * i + 3])
                        for j in 0..<3 {
                            let t = (255 - Int(c[4 * i + j])) * nk + 128
                            o[3 * i + j] = UInt8(clamping: nk - ((t + (t >> 8)) >> 8))
                        }
                    }
                }
            }
            return PixelImage(width: sw, height: sh, channels: 3, pixels: rgb)
        }
        return PixelImage(width: sw, height: sh, channels: 3, pixels: out)
    }

    private func decodePNG(_ bytes: UnsafeRawBufferPointer, name: String) throws -> PixelImage {
        // The IHDR chunk comes first (signature, length, "IHDR", width and height big-endian): check the size
        // before libpng allocates anything. A file without it is left for libpng to reject.
        if bytes.count >= 24, Array(bytes[12..<16]) == Array("IHDR".utf8) {
            func be32(_ at: Int) -> Int { (at..<(at + 4)).reduce(0) { $0 << 8 | Int(bytes[$1]) } }
            try checkSize(width: be32(16), height: be32(20), name: name)
        }
        var out: UnsafeMutablePointer<UInt8>?
        var w: Int32 = 0, h: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let rc = message.withUnsafeMutableBufferPointer { m in
            cpng_decode_rgb8(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count,
                             &out, &w, &h, m.baseAddress, m.count)
        }
        guard rc == 0, let p = out else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw DataPipelineError.corruptImage(path: name, reason: reason.isEmpty ? "libpng error" : reason)
        }
        defer { free(p) }
        let n = Int(w) * Int(h) * 3
        return PixelImage(width: Int(w), height: Int(h), channels: 3,
                          pixels: Array(UnsafeBufferPointer(start: p, count: n)))
    }
}
