import Foundation

/// One JSON object printed on one line, keys in the order given (benchmarks and reports).
struct JSONLine {
    private var fields: [(String, Any)] = []

    init(_ fields: KeyValuePairs<String, Any>) { self.fields = fields.map { ($0.key, $0.value) } }

    mutating func append(_ key: String, _ value: Any) { fields.append((key, value)) }

    var text: String {
        "{" + fields.map { "\(JSONLine.encode($0.0)): \(JSONLine.encode($0.1))" }.joined(separator: ", ") + "}"
    }

    static func encode(_ value: Any) -> String {
        switch value {
        case let s as String:
            let data = try! JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed])
            let text = String(decoding: data, as: UTF8.self)
            return String(text.dropFirst().dropLast())
        case let b as Bool: return b ? "true" : "false"
        case let i as Int: return String(i)
        case let d as Double: return d.isFinite ? String(d) : "null"
        case let f as Float: return f.isFinite ? String(f) : "null"
        case let a as [Any]: return "[" + a.map(encode).joined(separator: ", ") + "]"
        case let line as JSONLine: return line.text
        default: return encode(String(describing: value))
        }
    }
}
