import DataPipeline
import Foundation
import Interop

/// Why a labels file could not be used.
public struct LabelFileError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// A labels matrix (heads × N, one cluster label per image per head) read from the released formats:
/// - `.npy` of integers, shape (N,) or (heads, N), in data-set order (as `selflabel export-labels` and the
///   official `L` write it);
/// - CSV with one row per image: an image path, then one integer label per head. A header row is optional
///   (recognised when a label column is not an integer); a leading `index` column is skipped; fields may be
///   quoted (RFC 4180). This reads SelfLabel's `export-labels` (`path,head0,…`) and `labels.csv`
///   (`index,path,head0,…`) files and path-first CSVs such as the official release's. Rows are matched to the
///   data set's images by file name (the last path component, or the last two when file names repeat across
///   class folders), never by position; rows for images the data set does not have are counted and skipped.
public struct LabelFile: Sendable {
    public let heads: Int
    public let count: Int
    /// Row-major (heads, count).
    public let values: [Int]
    /// CSV rows that matched no image of the data set.
    public let unmatchedRows: Int

    /// The labels of head `h`.
    public func head(_ h: Int) -> [Int] { Array(values[(h * count)..<((h + 1) * count)]) }

    /// Reads `path` (`.csv` by extension, otherwise `.npy`); a CSV needs `dataset` to match rows by file name.
    public static func read(_ path: String, matching dataset: (any Dataset)?) throws -> LabelFile {
        if path.lowercased().hasSuffix(".csv") {
            guard let dataset else { throw LabelFileError(path: path, reason: "CSV labels are matched by file name and need the data folder (--data)") }
            return try readCSV(path, dataset: dataset)
        }
        let array = try NpyArray(contentsOf: path)
        try array.require(rank: 1, 2)
        let values = try array.int64s().map { Int($0) }
        let n = array.shape.last!, heads = array.shape.count == 2 ? array.shape[0] : 1
        if let dataset, dataset.count != n {
            throw LabelFileError(path: path, reason: "\(n) labels per head for a data set of \(dataset.count) images")
        }
        return LabelFile(heads: heads, count: n, values: values, unmatchedRows: 0)
    }

    static func readCSV(_ path: String, dataset: any Dataset) throws -> LabelFile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw LabelFileError(path: path, reason: "cannot be read as UTF-8 text")
        }
        var rows = parseCSV(text)
        // A header row ends in a non-integer (data rows end in a label).
        if let last = rows.first?.last, Int(last) == nil { rows.removeFirst() }
        guard let first = rows.first else { throw LabelFileError(path: path, reason: "has no data rows") }
        // The path column: the first field that is not an integer (a leading index column is skipped).
        guard let pathColumn = first.firstIndex(where: { Int($0) == nil }) else {
            throw LabelFileError(path: path, reason: "no image path column in the first row")
        }
        let heads = (rows.first?.count ?? 0) - pathColumn - 1
        guard heads >= 1 else { throw LabelFileError(path: path, reason: "no label columns after the path column") }
        let keyOf = try matchKey(for: dataset, path: path)
        var byKey: [String: (line: Int, labels: [Int])] = [:]
        for (i, row) in rows.enumerated() {
            guard row.count == pathColumn + 1 + heads, let labels = Optional(row[(pathColumn + 1)...].compactMap { Int($0) }),
                  labels.count == heads else {
                throw LabelFileError(path: path, reason: "row \(i + 1) has \(row.count) fields or a non-integer label; expected a path and \(heads) integer labels")
            }
            let key = keyOf(row[pathColumn])
            if let earlier = byKey[key] {
                throw LabelFileError(path: path, reason: "rows \(earlier.line) and \(i + 1) both name '\(key)'")
            }
            byKey[key] = (i + 1, labels)
        }
        var values = [Int](repeating: 0, count: heads * dataset.count)
        var missing: [String] = []
        for n in 0..<dataset.count {
            let key = keyOf(dataset.describeSample(n))
            guard let row = byKey[key] else { missing.append(key); continue }
            for h in 0..<heads { values[h * dataset.count + n] = row.labels[h] }
        }
        guard missing.isEmpty else {
            throw LabelFileError(path: path, reason: "no row for \(missing.count) of the \(dataset.count) images (first: \(missing[0]))")
        }
        return LabelFile(heads: heads, count: dataset.count, values: values, unmatchedRows: rows.count - dataset.count)
    }

    /// The key that identifies an image: its file name, or `class/file` when file names repeat in the data set.
    static func matchKey(for dataset: any Dataset, path: String) throws -> (String) -> String {
        func components(_ p: String, _ k: Int) -> String {
            p.split(separator: "/", omittingEmptySubsequences: true).suffix(k).joined(separator: "/")
        }
        for k in 1...2 {
            let keys = (0..<dataset.count).map { components(dataset.describeSample($0), k) }
            if Set(keys).count == keys.count { return { components($0, k) } }
        }
        throw LabelFileError(path: path, reason: "the data set's image names are not unique, so CSV rows cannot be matched by name")
    }

    /// Fields of each non-empty line (RFC 4180: quoted fields may hold commas, quotes and newlines).
    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false, iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar?
        func endRow() {
            row.append(field); field = ""
            if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }
            row = []
        }
        while let c = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else { field.unicodeScalars.append(c) }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\n" {
                endRow()
            } else if c != "\r" {
                field.unicodeScalars.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { endRow() }
        return rows
    }
}
