import CTurboJPEG

extension ImageDecoder {
    /// What an encoded file's header says, without decoding its pixels.
    public struct Header: Sendable, Equatable {
        /// Size in pixels.
        public var width: Int, height: Int
        /// True for a grey file: a JPEG in the grey colour space, a PNG of colour type grey or grey + alpha (PIL
        /// opens both as mode "L"/"LA"); false for colour, palette and CMYK files.
        public var isGrey: Bool
    }

    /// Reads the header of a JPEG or PNG held in `bytes`; `name` is used in messages. Throws
    /// `DataPipelineError.corruptImage` when the bytes are neither or the header is unreadable.
    public static func header(_ bytes: [UInt8], name: String) throws -> Header {
        if bytes.count >= 24, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47,
           Array(bytes[12..<16]) == Array("IHDR".utf8), bytes.count >= 26 {
            func be32(_ at: Int) -> Int { (at..<(at + 4)).reduce(0) { $0 << 8 | Int(bytes[$1]) } }
            let colorType = bytes[25]
            return Header(width: be32(16), height: be32(20), isGrey: colorType == 0 || colorType == 4)
        }
        guard bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF else {
            throw DataPipelineError.corruptImage(path: name, reason: "neither a JPEG nor a PNG file (\(bytes.count) bytes)")
        }
        guard let h = tjInitDecompress() else {
            throw DataPipelineError.corruptImage(path: name, reason: "TurboJPEG could not create a decoder")
        }
        defer { tjDestroy(h) }
        var w: Int32 = 0, hgt: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
        let rc = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(h, $0.baseAddress, UInt($0.count), &w, &hgt, &subsamp, &colorspace)
        }
        if rc != 0 { throw DataPipelineError.corruptImage(path: name, reason: String(cString: tjGetErrorStr2(h))) }
        return Header(width: Int(w), height: Int(hgt), isGrey: colorspace == Int32(TJCS_GRAY.rawValue))
    }
}
