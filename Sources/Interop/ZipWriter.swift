import CZlib

/// Builds a ZIP archive of stored (uncompressed) entries in memory, each entry's data aligned to 64 bytes
/// with padding in the local header's extra field — the layout `torch.save` writes, so PyTorch can also
/// memory-map the storages. Sizes are limited to 4 GiB per entry and per archive (no ZIP64).
struct ZipWriter {
    private(set) var bytes: [UInt8] = []
    private var central: [UInt8] = []
    private var count = 0
    let path: String

    init(path: String) { self.path = path }

    private static func put16(_ v: Int, _ out: inout [UInt8]) { out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    private static func put32(_ v: UInt32, _ out: inout [UInt8]) { for i in 0..<4 { out.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }

    /// Appends the entry `name` holding `data`.
    mutating func add(_ name: String, _ data: [UInt8]) throws(TorchFileError) {
        let offset = bytes.count
        guard data.count < Int(UInt32.max), offset < Int(UInt32.max) - data.count - 1024 else {
            throw .unsupported(path: path, reason: "writing more than 4 GiB needs ZIP64, which this writer does not produce")
        }
        let nameBytes = Array(name.utf8)
        let crc = data.withUnsafeBytes { b in
            UInt32(truncatingIfNeeded: CZlib.crc32(0, b.bindMemory(to: Bytef.self).baseAddress, uInt(b.count)))
        }
        // Pad so that the data starts on a 64-byte boundary: extra field id 'FB' + length + zeros.
        let headerEnd = offset + 30 + nameBytes.count
        var pad = (64 - (headerEnd + 4) % 64) % 64
        let extraLength = pad + 4
        var local: [UInt8] = []
        Self.put32(0x0403_4B50, &local)
        Self.put16(20, &local); Self.put16(0, &local); Self.put16(0, &local)  // version, flags, stored
        Self.put16(0, &local); Self.put16(0x21, &local)  // time, date (1980-01-01)
        Self.put32(crc, &local); Self.put32(UInt32(data.count), &local); Self.put32(UInt32(data.count), &local)
        Self.put16(nameBytes.count, &local); Self.put16(extraLength, &local)
        local += nameBytes
        Self.put16(0x4246, &local); Self.put16(pad, &local)
        while pad > 0 { local.append(0); pad -= 1 }
        bytes += local
        bytes += data

        Self.put32(0x0201_4B50, &central)
        Self.put16(20, &central); Self.put16(20, &central); Self.put16(0, &central); Self.put16(0, &central)
        Self.put16(0, &central); Self.put16(0x21, &central)
        Self.put32(crc, &central); Self.put32(UInt32(data.count), &central); Self.put32(UInt32(data.count), &central)
        Self.put16(nameBytes.count, &central); Self.put16(0, &central); Self.put16(0, &central)
        Self.put16(0, &central); Self.put16(0, &central); Self.put32(0, &central)
        Self.put32(UInt32(offset), &central)
        central += nameBytes
        count += 1
    }

    /// The finished archive (central directory and end record appended).
    mutating func finish() throws(TorchFileError) -> [UInt8] {
        let directoryOffset = bytes.count
        guard count < 0xFFFF, directoryOffset + central.count < Int(UInt32.max) else {
            throw .unsupported(path: path, reason: "archive too large without ZIP64")
        }
        bytes += central
        Self.put32(0x0605_4B50, &bytes)
        Self.put16(0, &bytes); Self.put16(0, &bytes); Self.put16(count, &bytes); Self.put16(count, &bytes)
        Self.put32(UInt32(central.count), &bytes); Self.put32(UInt32(directoryOffset), &bytes)
        Self.put16(0, &bytes)
        return bytes
    }
}
