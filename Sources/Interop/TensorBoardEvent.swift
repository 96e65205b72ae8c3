/// One TensorBoard `Event` protobuf (tensorflow/core/util/event.proto) restricted to what SelfLabel writes:
/// the file-version header or a `Summary` of scalar `simple_value`s.
///
/// Wire format (hand-encoded, proto3): `wall_time` field 1 (double, fixed64), `step` field 2 (int64 varint,
/// omitted when 0), `file_version` field 3 (string), `summary` field 5 (message `Summary { repeated Value
/// value = 1 }`, `Value { string tag = 1; float simple_value = 2 }`).
public struct TensorBoardEvent: Sendable, Equatable {
    /// Seconds since 1970 (Unix time) when the event was recorded.
    public var wallTime: Double
    /// Global step (training iteration).
    public var step: Int64
    /// Set only in a file's first event, e.g. "brain.Event:2".
    public var fileVersion: String?
    /// The scalars of the event's summary (tag, value); values other than `simple_value` read back as nil.
    public var values: [Value]

    /// One `Summary.Value`.
    public struct Value: Sendable, Equatable {
        /// The scalar's name, e.g. "train/loss".
        public var tag: String
        /// The `simple_value`; nil when the value has another kind (image, histogram, tensor).
        public var simpleValue: Float?
        /// A summary value.
        public init(tag: String, simpleValue: Float?) { self.tag = tag; self.simpleValue = simpleValue }
    }

    /// An event; `fileVersion` only for a file's first event.
    public init(wallTime: Double, step: Int64 = 0, fileVersion: String? = nil, values: [Value] = []) {
        self.wallTime = wallTime
        self.step = step
        self.fileVersion = fileVersion
        self.values = values
    }

    /// The protobuf encoding.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        ProtobufWire.appendTag(1, wireType: 1, to: &out)
        ProtobufWire.appendFixed64(wallTime.bitPattern, to: &out)
        if step != 0 {
            ProtobufWire.appendTag(2, wireType: 0, to: &out)
            ProtobufWire.appendVarint(UInt64(bitPattern: step), to: &out)
        }
        if let fileVersion {
            ProtobufWire.appendTag(3, wireType: 2, to: &out)
            ProtobufWire.appendBytes(Array(fileVersion.utf8), to: &out)
        }
        if !values.isEmpty {
            var summary: [UInt8] = []
            for v in values {
                var value: [UInt8] = []
                ProtobufWire.appendTag(1, wireType: 2, to: &value)
                ProtobufWire.appendBytes(Array(v.tag.utf8), to: &value)
                if let s = v.simpleValue {
                    ProtobufWire.appendTag(2, wireType: 5, to: &value)
                    ProtobufWire.appendFixed32(s.bitPattern, to: &value)
                }
                ProtobufWire.appendTag(1, wireType: 2, to: &summary)
                ProtobufWire.appendBytes(value, to: &summary)
            }
            ProtobufWire.appendTag(5, wireType: 2, to: &out)
            ProtobufWire.appendBytes(summary, to: &out)
        }
        return out
    }

    /// Decodes an `Event`; unknown fields (graph defs, tensors, plugin metadata, …) are skipped.
    /// - Throws: `ProtobufWire.DecodingError` for malformed bytes.
    public init(decoding bytes: [UInt8]) throws {
        self.init(wallTime: 0)
        var r = ProtobufWire.Reader(bytes[...])
        while let (field, wire) = try r.nextTag() {
            switch (field, wire) {
            case (1, 1): wallTime = Double(bitPattern: try r.fixed64())
            case (2, 0): step = Int64(bitPattern: try r.varint())
            case (3, 2): fileVersion = String(decoding: try r.lengthDelimited(), as: UTF8.self)
            case (5, 2):
                var s = ProtobufWire.Reader(try r.lengthDelimited())
                while let (sf, sw) = try s.nextTag() {
                    guard sf == 1 && sw == 2 else { try s.skip(wireType: sw); continue }
                    var v = ProtobufWire.Reader(try s.lengthDelimited())
                    var value = Value(tag: "", simpleValue: nil)
                    while let (vf, vw) = try v.nextTag() {
                        switch (vf, vw) {
                        case (1, 2): value.tag = String(decoding: try v.lengthDelimited(), as: UTF8.self)
                        case (2, 5): value.simpleValue = Float(bitPattern: try v.fixed32())
                        default: try v.skip(wireType: vw)
                        }
                    }
                    values.append(value)
                }
            default: try r.skip(wireType: wire)
            }
        }
    }
}

/// Minimal protocol-buffer wire encoding and decoding (varints, fixed32/64, length-delimited fields).
public enum ProtobufWire {
    /// Malformed protobuf bytes: what was wrong and at which byte of the message.
    public struct DecodingError: Error, Equatable, CustomStringConvertible {
        /// What was wrong.
        public let reason: String
        /// Byte offset in the message.
        public let offset: Int
        /// One line for users.
        public var description: String { "malformed protobuf at byte \(offset): \(reason)" }
    }

    static func appendVarint(_ v: UInt64, to out: inout [UInt8]) {
        var v = v
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }
    static func appendTag(_ field: Int, wireType: Int, to out: inout [UInt8]) {
        appendVarint(UInt64(field << 3 | wireType), to: &out)
    }
    static func appendFixed64(_ v: UInt64, to out: inout [UInt8]) {
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
    }
    static func appendFixed32(_ v: UInt32, to out: inout [UInt8]) {
        for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) }
    }
    static func appendBytes(_ b: [UInt8], to out: inout [UInt8]) {
        appendVarint(UInt64(b.count), to: &out)
        out += b
    }

    /// A cursor over one message's bytes.
    struct Reader {
        var bytes: ArraySlice<UInt8>
        var at: Int
        init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes; at = bytes.startIndex }

        mutating func nextTag() throws -> (Int, Int)? {
            if at == bytes.endIndex { return nil }
            let key = try varint()
            let field = Int(key >> 3), wire = Int(key & 7)
            if field == 0 { throw DecodingError(reason: "field number 0", offset: at - bytes.startIndex) }
            return (field, wire)
        }
        mutating func varint() throws -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard at < bytes.endIndex else { throw DecodingError(reason: "truncated varint", offset: at - bytes.startIndex) }
                guard shift < 64 else { throw DecodingError(reason: "varint longer than 10 bytes", offset: at - bytes.startIndex) }
                let b = bytes[at]
                at += 1
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
        }
        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, bytes.endIndex - at >= n else {
                throw DecodingError(reason: "field of \(n) bytes runs past the end", offset: at - bytes.startIndex)
            }
            defer { at += n }
            return bytes[at..<(at + n)]
        }
        mutating func fixed64() throws -> UInt64 {
            try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        mutating func fixed32() throws -> UInt32 {
            try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }
        mutating func lengthDelimited() throws -> ArraySlice<UInt8> {
            let n = try varint()
            guard n <= UInt64(Int.max) else { throw DecodingError(reason: "length \(n)", offset: at - bytes.startIndex) }
            return try take(Int(n))
        }
        mutating func skip(wireType: Int) throws {
            switch wireType {
            case 0: _ = try varint()
            case 1: _ = try take(8)
            case 2: _ = try lengthDelimited()
            case 5: _ = try take(4)
            default: throw DecodingError(reason: "unsupported wire type \(wireType)", offset: at - bytes.startIndex)
            }
        }
    }
}
