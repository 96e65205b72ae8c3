/// Parsing and writing of the `.npy` header dictionary, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` (NEP 1, numpy/lib/format.py).
enum NpyHeader {
    static func parse(_ header: String, path: String) throws -> (dtype: NpyDType, shape: [Int]) {
        let malformed = NpyError.malformedHeader(path: path, header: header)
        guard header.hasPrefix("{"), header.hasSuffix("}") else { throw malformed }
        guard let descr = value(of: "descr", in: header), let fortran = value(of: "fortran_order", in: header),
              let shapeText = value(of: "shape", in: header) else { throw malformed }
        // descr
        guard descr.count >= 2, descr.first == "'" || descr.first == "\"", descr.last == descr.first else {
            if descr.hasPrefix("[") { throw NpyError.unsupportedDType(path: path, descr: descr, header: header) }
            throw malformed
        }
        let d = String(descr.dropFirst().dropLast())
        if d == "|O" || d.hasSuffix("O") || d.hasSuffix("O8") {
            throw NpyError.objectArray(path: path, header: header)
        }
        if d.hasPrefix(">") { throw NpyError.bigEndian(path: path, header: header) }
        let normalised: String
        switch d {
        case "<f4", "<f8", "<i8", "<i4", "|u1", "|b1": normalised = d
        case "u1", "<u1": normalised = "|u1"
        case "b1", "<b1", "?", "|?": normalised = "|b1"
        default: throw NpyError.unsupportedDType(path: path, descr: d, header: header)
        }
        let dtype = NpyDType(rawValue: normalised)!
        // fortran_order
        switch fortran {
        case "False": break
        case "True": throw NpyError.fortranOrder(path: path, header: header)
        default: throw malformed
        }
        // shape
        guard shapeText.hasPrefix("("), shapeText.hasSuffix(")") else { throw malformed }
        let inner = shapeText.dropFirst().dropLast()
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: " ")
            if t.isEmpty { continue }
            guard let v = Int(t.hasSuffix("L") ? String(t.dropLast()) : t), v >= 0 else { throw malformed }
            shape.append(v)
        }
        return (dtype, shape)
    }

    /// The text of the value for `key` in a Python dict literal (up to the next top-level comma or brace).
    private static func value(of key: String, in header: String) -> String? {
        let chars = Array(header)
        for quote in ["'", "\""] {
            let pattern = Array(quote + key + quote)
            guard let start = find(pattern, in: chars) else { continue }
            var i = start + pattern.count
            while i < chars.count, chars[i] == " " { i += 1 }
            guard i < chars.count, chars[i] == ":" else { return nil }
            i += 1
            while i < chars.count, chars[i] == " " { i += 1 }
            var depth = 0
            var j = i
            var inString: Character? = nil
            while j < chars.count {
                let c = chars[j]
                if let q = inString {
                    if c == q { inString = nil }
                } else if c == "'" || c == "\"" {
                    inString = c
                } else if c == "(" || c == "[" {
                    depth += 1
                } else if c == ")" || c == "]" {
                    depth -= 1
                } else if (c == "," || c == "}") && depth == 0 {
                    break
                }
                j += 1
            }
            return String(chars[i..<j]).trimmingCharacters(in: " ")
        }
        return nil
    }

    private static func find(_ pattern: [Character], in chars: [Character]) -> Int? {
        guard pattern.count <= chars.count else { return nil }
        for i in 0...(chars.count - pattern.count) where Array(chars[i..<i + pattern.count]) == pattern {
            return i
        }
        return nil
    }

    /// The full header block (magic, version, length, dict padded with spaces and a newline so the data
    /// starts on a 64-byte boundary). Version 1.0 unless the dict needs more than 65535 bytes (then 2.0).
    static func encode(dtype: NpyDType, shape: [Int]) -> [UInt8] {
        let shapeText = shape.isEmpty ? "()" : shape.count == 1 ? "(\(shape[0]),)"
            : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        let dict = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        var prefixLength = 10
        var dictBytes = Array(dict.utf8)
        if dictBytes.count + 1 + 10 > 65535 { prefixLength = 12 }
        let total = prefixLength + dictBytes.count + 1
        let padded = (total + 63) / 64 * 64
        dictBytes += [UInt8](repeating: 0x20, count: padded - total) + [0x0A]
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, prefixLength == 10 ? 1 : 2, 0]
        let n = dictBytes.count
        if prefixLength == 10 {
            out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        } else {
            out += [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
        }
        return out + dictBytes
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        var s = self
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String { Substring(self).trimmingCharacters(in: set) }
}
