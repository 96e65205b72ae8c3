import Interop

/// One JSON object printed on one line, keys in the order given (benchmarks and reports); encoded by
/// `JSONText.object`, so nested `JSONLine`s and arrays work as values.
struct JSONLine: JSONEncodableText {
    private var fields: [(String, Any)] = []

    init(_ fields: KeyValuePairs<String, Any>) { self.fields = fields.map { ($0.key, $0.value) } }

    mutating func append(_ key: String, _ value: Any) { fields.append((key, value)) }

    var text: String { JSONText.object(fields) }
    var jsonText: String { text }
}
