import CZlib

/// gzip decompression through zlib (`inflate` with gzip header detection).
public enum Gzip {
    /// True when `bytes` start with the gzip magic number 1f 8b.
    public static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    /// The decompressed contents of a gzip stream (concatenated members included). `name` names the source in
    /// errors (`DataPipelineError.malformedFile`).
    public static func decompress(_ input: [UInt8], name: String) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 32: detect a zlib or gzip header automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataPipelineError.malformedFile(path: name, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: max(input.count * 4, 1 << 16))
        var produced = 0
        try input.withUnsafeBufferPointer { inp in
            stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
            stream.avail_in = UInt32(inp.count)
            while true {
                if produced == output.count { output.append(contentsOf: [UInt8](repeating: 0, count: output.count)) }
                let rc: Int32 = output.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = UInt32(min(out.count - produced, Int(UInt32.max)))
                    let before = stream.avail_out
                    let r = inflate(&stream, Z_NO_FLUSH)
                    produced += Int(before - stream.avail_out)
                    return r
                }
                if rc == Z_STREAM_END {
                    if stream.avail_in == 0 { break }
                    inflateReset(&stream)  // another gzip member follows
                    continue
                }
                if rc != Z_OK && rc != Z_BUF_ERROR {
                    let msg = stream.msg.map { String(cString: $0) } ?? "inflate error \(rc)"
                    throw DataPipelineError.malformedFile(path: name, reason: "gzip: \(msg)")
                }
                if rc == Z_BUF_ERROR && stream.avail_in == 0 {
                    throw DataPipelineError.malformedFile(path: name, reason: "gzip: truncated stream")
                }
            }
        }
        output.removeSubrange(produced...)
        return output
    }
}
