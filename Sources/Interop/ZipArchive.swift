import CZlib

/// A read-only view of a ZIP archive (PKWARE APPNOTE 6.3): the central directory, ZIP64 included, and its
/// entries, stored (method 0) or deflated (method 8). `torch.save` writes its zip format with it.
///
/// Every size and offset read from the file is checked, with overflow-safe arithmetic, against the real
/// length before anything is read or allocated; each entry's CRC-32 is verified when it is extracted.
struct ZipArchive {
    /// One file in the archive, as the central directory describes it.
    struct Entry {
        var name: String
        var method: UInt16
        var flags: UInt16
        var crc32: UInt32
        var compressedSize: Int
        var size: Int
        var localHeaderOffset: Int
    }

    let bytes: UnsafeRawBufferPointer
    let path: String
    /// Entries in central-directory order.
    private(set) var entries: [Entry] = []
    private var byName: [String: Int] = [:]

    /// Parses the end-of-central-directory record (and its ZIP64 form) and every central-directory header.
    init(bytes: UnsafeRawBufferPointer, path: String) throws(TorchFileError) {
        self.bytes = bytes
        self.path = path
        let eocd = try Self.findEndOfCentralDirectory(bytes, path: path)
        var c = ByteCursor(bytes, position: eocd + 4, path: path, what: "zip end record")
        _ = try c.littleEndian(UInt16.self); _ = try c.littleEndian(UInt16.self)
        _ = try c.littleEndian(UInt16.self)
        var count = Int(try c.littleEndian(UInt16.self))
        var directorySize = Int(try c.littleEndian(UInt32.self))
        var directoryOffset = Int(try c.littleEndian(UInt32.self))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            (count, directorySize, directoryOffset) = try Self.zip64Directory(bytes, endRecord: eocd, path: path)
        }
        guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset else {
            throw .malformed(path: path, reason: "zip central directory (\(directorySize) bytes at \(directoryOffset)) lies outside the \(bytes.count)-byte file")
        }
        guard count <= directorySize / 46 else {
            throw .malformed(path: path, reason: "zip central directory claims \(count) entries in \(directorySize) bytes")
        }
        var d = ByteCursor(UnsafeRawBufferPointer(rebasing: bytes[directoryOffset..<(directoryOffset + directorySize)]),
                           path: path, what: "zip central directory")
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let entry = try Self.centralHeader(&d, fileSize: bytes.count)
            if byName[entry.name] == nil { byName[entry.name] = entries.count }
            entries.append(entry)
        }
    }

    /// The entry called `name`, if any.
    func entry(_ name: String) -> Entry? { byName[name].map { entries[$0] } }

    /// The uncompressed contents of `entry`, CRC-checked.
    func contents(of entry: Entry) throws(TorchFileError) -> [UInt8] {
        var c = ByteCursor(bytes, position: entry.localHeaderOffset, path: path, what: "zip entry '\(entry.name)'")
        guard try c.littleEndian(UInt32.self) == 0x0403_4B50 else { throw c.fail("no local header signature") }
        try c.need(22)
        c.position += 22
        let nameLength = Int(try c.littleEndian(UInt16.self))
        let extraLength = Int(try c.littleEndian(UInt16.self))
        try c.need(nameLength + extraLength)
        c.position += nameLength + extraLength
        let raw = try c.take(entry.compressedSize)
        var out: [UInt8]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.size else {
                throw c.fail("stored entry with compressed size \(entry.compressedSize) ≠ size \(entry.size)")
            }
            out = [UInt8](raw)
        case 8:
            out = try Self.inflateRaw(raw, size: entry.size, fail: c.fail)
        default:
            throw .unsupported(path: path, reason: "zip entry '\(entry.name)' uses compression method \(entry.method) (only stored and deflate are read)")
        }
        let crc = out.withUnsafeBytes { b in
            UInt32(truncatingIfNeeded: CZlib.crc32(0, b.bindMemory(to: Bytef.self).baseAddress, uInt(b.count)))
        }
        guard crc == entry.crc32 else {
            throw c.fail(String(format: "CRC-32 %08x does not match the recorded %08x (corrupt file)", crc, entry.crc32))
        }
        return out
    }

    // MARK: Parsing helpers

    private static func findEndOfCentralDirectory(_ bytes: UnsafeRawBufferPointer, path: String) throws(TorchFileError) -> Int {
        guard bytes.count >= 22 else { throw .malformed(path: path, reason: "\(bytes.count) bytes is too short for a zip archive") }
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        var p = bytes.count - 22
        while p >= lowest {
            if bytes[p] == 0x50 && bytes[p + 1] == 0x4B && bytes[p + 2] == 0x05 && bytes[p + 3] == 0x06 { return p }
            p -= 1
        }
        throw .malformed(path: path, reason: "no zip end-of-central-directory record (truncated?)")
    }

    private static func zip64Directory(_ bytes: UnsafeRawBufferPointer, endRecord: Int,
                                       path: String) throws(TorchFileError) -> (Int, Int, Int) {
        guard endRecord >= 20 else { throw .malformed(path: path, reason: "zip64 locator missing") }
        var l = ByteCursor(bytes, position: endRecord - 20, path: path, what: "zip64 locator")
        guard try l.littleEndian(UInt32.self) == 0x0706_4B50 else { throw l.fail("missing signature") }
        _ = try l.littleEndian(UInt32.self)
        let recordOffset = try l.littleEndian(UInt64.self)
        guard let offset = Int(exactly: recordOffset), offset <= bytes.count else { throw l.fail("record offset \(recordOffset) outside the file") }
        var r = ByteCursor(bytes, position: offset, path: path, what: "zip64 end record")
        guard try r.littleEndian(UInt32.self) == 0x0606_4B50 else { throw r.fail("missing signature") }
        try r.need(28)
        r.position += 28
        let count = try r.littleEndian(UInt64.self)
        let size = try r.littleEndian(UInt64.self)
        let start = try r.littleEndian(UInt64.self)
        guard let n = Int(exactly: count), let s = Int(exactly: size), let o = Int(exactly: start) else {
            throw r.fail("sizes out of range")
        }
        return (n, s, o)
    }

    private static func centralHeader(_ d: inout ByteCursor, fileSize: Int) throws(TorchFileError) -> Entry {
        guard try d.littleEndian(UInt32.self) == 0x0201_4B50 else { throw d.fail("bad header signature at offset \(d.position - 4)") }
        _ = try d.littleEndian(UInt16.self); _ = try d.littleEndian(UInt16.self)
        let flags = try d.littleEndian(UInt16.self)
        let method = try d.littleEndian(UInt16.self)
        _ = try d.littleEndian(UInt32.self)
        let crc = try d.littleEndian(UInt32.self)
        var compressed = UInt64(try d.littleEndian(UInt32.self))
        var size = UInt64(try d.littleEndian(UInt32.self))
        let nameLength = Int(try d.littleEndian(UInt16.self))
        let extraLength = Int(try d.littleEndian(UInt16.self))
        let commentLength = Int(try d.littleEndian(UInt16.self))
        try d.need(8)
        d.position += 8
        var offset = UInt64(try d.littleEndian(UInt32.self))
        let name = String(decoding: try d.take(nameLength), as: UTF8.self)
        var extra = ByteCursor(try d.take(extraLength), path: d.path, what: "zip extra field of '\(name)'")
        _ = try d.take(commentLength)
        while extra.remaining >= 4 {
            let id = try extra.littleEndian(UInt16.self)
            let length = Int(try extra.littleEndian(UInt16.self))
            var field = ByteCursor(try extra.take(length), path: d.path, what: "zip64 field of '\(name)'")
            guard id == 0x0001 else { continue }
            if size == 0xFFFF_FFFF { size = try field.littleEndian(UInt64.self) }
            if compressed == 0xFFFF_FFFF { compressed = try field.littleEndian(UInt64.self) }
            if offset == 0xFFFF_FFFF { offset = try field.littleEndian(UInt64.self) }
        }
        guard let c = Int(exactly: compressed), let s = Int(exactly: size), let o = Int(exactly: offset),
              o <= fileSize, c <= fileSize - o else {
            throw d.fail("entry '\(name)' (\(compressed) bytes at offset \(offset)) lies outside the \(fileSize)-byte file")
        }
        return Entry(name: name, method: method, flags: flags, crc32: crc, compressedSize: c, size: s, localHeaderOffset: o)
    }

    /// Raw deflate (no zlib header) of `input` into exactly `size` bytes.
    private static func inflateRaw(_ input: UnsafeRawBufferPointer, size: Int,
                                   fail: (String) -> TorchFileError) throws(TorchFileError) -> [UInt8] {
        // Deflate expands at most ~1032:1; a larger claim is a lie and must not drive an allocation.
        let (bound, overflow) = input.count.multipliedReportingOverflow(by: 1032)
        guard overflow || size <= bound + 64 else { throw fail("declared size \(size) impossible for \(input.count) compressed bytes") }
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: size)
        var rc: Int32 = Z_OK
        var produced = 0
        out.withUnsafeMutableBytes { o in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(min(input.count, Int(UInt32.max)))
            stream.next_out = o.bindMemory(to: Bytef.self).baseAddress
            stream.avail_out = uInt(min(size, Int(UInt32.max)))
            rc = inflate(&stream, Z_FINISH)
            produced = size - Int(stream.avail_out)
        }
        guard rc == Z_STREAM_END, produced == size else {
            throw fail("deflate stream gives \(produced) bytes (zlib status \(rc)), the directory says \(size)")
        }
        return out
    }
}
