/// Small JSON text helpers shared by the writers that build JSON by hand (safetensors headers, metrics logs),
/// so their output keeps a fixed key order.
public enum JSONText {
    /// A JSON string literal with the escapes RFC 8259 requires.
    public static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// One JSON object from ordered fields (keys keep their order): values may be String, Bool, Int, Int64,
    /// UInt64, Double or Float (non-finite → null), arrays of these, nested ordered fields `[(String, Any)]`,
    /// or anything `JSONEncodableText`; other values are written as their description string.
    public static func object(_ fields: [(String, Any)]) -> String {
        "{" + fields.map { "\(string($0.0)): \(value($0.1))" }.joined(separator: ", ") + "}"
    }

    /// The JSON text of one value (see `object(_:)` for the types).
    public static func value(_ v: Any) -> String {
        switch v {
        case let s as String: return string(s)
        case let b as Bool: return b ? "true" : "false"
        case let i as Int: return String(i)
        case let i as Int64: return String(i)
        case let i as UInt64: return String(i)
        case let d as Double: return d.isFinite ? "\(d)" : "null"
        case let f as Float: return f.isFinite ? "\(f)" : "null"
        case let a as [Any]: return "[" + a.map(value).joined(separator: ", ") + "]"
        case let o as [(String, Any)]: return object(o)
        case let e as JSONEncodableText: return e.jsonText
        default: return string(String(describing: v))
        }
    }
}

/// A value that writes its own JSON text (for example an ordered object built elsewhere).
public protocol JSONEncodableText {
    var jsonText: String { get }
}
