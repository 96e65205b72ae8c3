/// CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), as used by TFRecord framing, iSCSI
/// (RFC 3720) and ext4. Table-driven, slicing by 8 bytes.
public enum CRC32C {
    /// Slicing-by-8 tables: `tables[k][b]` is the CRC of byte b followed by k zero bytes.
    private static let tables: [[UInt32]] = {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for b in 0..<256 {
            var c = UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[0][b] = c
        }
        for b in 0..<256 {
            for k in 1..<8 { t[k][b] = (t[k - 1][b] >> 8) ^ t[0][Int(t[k - 1][b] & 0xFF)] }
        }
        return t
    }()

    /// The CRC-32C of `bytes` (initial value and final xor 0xFFFFFFFF); `checksum("123456789") == 0xE3069283`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let t = tables
        var crc: UInt32 = 0xFFFF_FFFF
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            let lo = crc ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
            crc = t[7][Int(lo & 0xFF)] ^ t[6][Int((lo >> 8) & 0xFF)] ^ t[5][Int((lo >> 16) & 0xFF)] ^ t[4][Int(lo >> 24)]
                ^ t[3][Int(bytes[i + 4])] ^ t[2][Int(bytes[i + 5])] ^ t[1][Int(bytes[i + 6])] ^ t[0][Int(bytes[i + 7])]
            i += 8
        }
        while i < n {
            crc = (crc >> 8) ^ t[0][Int((crc ^ UInt32(bytes[i])) & 0xFF)]
            i += 1
        }
        return ~crc
    }

    /// The CRC-32C of a byte array.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }

    /// TensorFlow's masked CRC (`crc32c::Mask`): `((crc >> 15) | (crc << 17)) + 0xA282EAD8` (mod 2³²), so that
    /// a CRC stored inside CRC-protected data does not confuse the check.
    public static func masked(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8 }

    /// `masked(checksum(bytes))`.
    public static func maskedChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { masked(checksum(bytes)) }
}
