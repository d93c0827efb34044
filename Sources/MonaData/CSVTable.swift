import Foundation
import MonaTensor

/// A CSV (or TSV) table read as strings, RFC 4180 style: fields separated by `separator`, optionally enclosed
/// in double quotes (a quoted field may hold separators, line breaks and `""` for a literal quote). Every row must
/// have as many fields as the first one (the header, when there is one).
public struct CSVTable: Sendable {
    /// A column chosen by header name or by 0-based index.
    public enum Column: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case name(String)
        case index(Int)
        public init(stringLiteral value: String) { self = .name(value) }
        public init(integerLiteral value: Int) { self = .index(value) }
    }

    /// The file the table came from (for error messages).
    public let file: String
    /// Column names, when the file has a header row.
    public let header: [String]?
    /// Data rows (header excluded), each with `columnCount` fields.
    public let rows: [[String]]
    /// 1-based line on which each data row starts.
    public let rowLines: [Int]

    public var columnCount: Int { header?.count ?? rows.first?.count ?? 0 }

    /// Reads a table. `skipLines` lines are dropped before anything else (e.g. a scikit-learn style
    /// `n_samples,n_features,…` line); `hasHeader` makes the next row the column names. Fields are trimmed of
    /// surrounding spaces unless quoted.
    public static func read(_ url: URL, separator: Character = ",", hasHeader: Bool = true,
                            skipLines: Int = 0) throws -> CSVTable {
        try read(bytes: readBytes(url), file: url.path, separator: separator, hasHeader: hasHeader, skipLines: skipLines)
    }

    public static func read(bytes: [UInt8], file: String, separator: Character = ",", hasHeader: Bool = true,
                            skipLines: Int = 0) throws -> CSVTable {
        guard separator != "\"", separator != "\n", separator != "\r" else {
            throw DataError(file: file, "invalid CSV separator \(quoted(String(separator)))")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var records: [([String], Int)] = []
        var field = ""
        var record: [String] = []
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var wasQuoted = false
        var skipped = 0
        var it = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return it.next()
        }
        let sep = separator.unicodeScalars.first!
        func endField() {
            record.append(wasQuoted ? field : String(Substring(field).trimmed))
            field = ""
            wasQuoted = false
        }
        func endRecord() {
            endField()
            if skipped < skipLines {
                skipped += 1
            } else if !(record.count == 1 && record[0].isEmpty) {
                records.append((record, recordLine))
            }
            record = []
        }
        while let c = next() {
            if inQuotes {
                if c == "\"" {
                    if let d = next() {
                        if d == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; pending = d }
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard Substring(field).trimmed.isEmpty else {
                    throw DataError(file: file, line: line, "quote inside an unquoted field")
                }
                field = ""
                inQuotes = true
                wasQuoted = true
            case sep:
                endField()
            case "\r":
                continue
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default:
                if wasQuoted && c != " " && c != "\t" {
                    throw DataError(file: file, line: line, "text after a closing quote")
                }
                if !wasQuoted { field.unicodeScalars.append(c) }
            }
        }
        if inQuotes { throw DataError(file: file, line: recordLine, "unterminated quoted field") }
        if !field.isEmpty || !record.isEmpty || wasQuoted { endRecord() }

        var header: [String]?
        if hasHeader {
            guard !records.isEmpty else { throw DataError(file: file, "empty file: no header row") }
            header = records.removeFirst().0
        }
        let width = header?.count ?? records.first?.0.count ?? 0
        for (r, l) in records where r.count != width {
            throw DataError(file: file, line: l, "row has \(r.count) fields, expected \(width)")
        }
        return CSVTable(file: file, header: header, rows: records.map(\.0), rowLines: records.map(\.1))
    }

    /// The 0-based position of `column`, or an error naming the known columns.
    public func position(of column: Column) throws -> Int {
        switch column {
        case .index(let i):
            guard i >= 0 && i < columnCount else {
                throw DataError(file: file, "column index \(i) out of range: the table has \(columnCount) columns")
            }
            return i
        case .name(let name):
            guard let header else { throw DataError(file: file, "column \(quoted(name)) requested but the table has no header") }
            guard let i = header.firstIndex(of: name) else {
                throw DataError(file: file, "no column named \(quoted(name)); columns: \(header)")
            }
            return i
        }
    }

    /// All values of one column.
    public func values(of column: Column) throws -> [String] {
        let p = try position(of: column)
        return rows.map { $0[p] }
    }

    /// Class indices for a label column: names are `classNames` when given (unknown labels are then an error),
    /// else the distinct labels sorted (numerically when all are numbers).
    public func classLabels(of column: Column, classNames: [String]? = nil) throws -> (labels: [Int], names: [String]) {
        let p = try position(of: column)
        let raw = rows.map { canonicalLabel(Substring($0[p])) }
        for (i, s) in raw.enumerated() where s.isEmpty {
            throw DataError(file: file, line: rowLines[i], "empty class label")
        }
        let names = classNames ?? sortedClassNames(Set(raw))
        var index: [String: Int] = [:]
        for (k, s) in names.enumerated() where index[s] == nil { index[s] = k }
        let labels = try raw.enumerated().map { i, s in
            guard let k = index[s] else {
                throw DataError(file: file, line: rowLines[i], "unknown class label \(quoted(s)); known classes \(names)")
            }
            return k
        }
        return (labels, names)
    }

    /// A numeric dataset: the `features` columns (default: every column but the label) become series inputs
    /// [N, 1, F]; the label column becomes class targets (`regression: false`) or regression targets.
    /// Missing numbers (`?`, `NaN`, empty) are an error.
    public func dataset(label: Column, features: [Column]? = nil, regression: Bool = false,
                        classNames: [String]? = nil, name: String? = nil) throws -> LabeledDataset {
        let lp = try position(of: label)
        let fp = try features.map { try $0.map { try position(of: $0) } } ?? (0..<columnCount).filter { $0 != lp }
        guard !fp.isEmpty else { throw DataError(file: file, "no feature columns") }
        var flat: [Float] = []
        flat.reserveCapacity(rows.count * fp.count)
        for (i, row) in rows.enumerated() {
            for p in fp {
                guard let v = parseNumber(Substring(row[p])), !v.isNaN else {
                    let col = header.map { quoted($0[p]) } ?? "\(p)"
                    throw DataError(file: file, line: rowLines[i], "column \(col): \(quoted(row[p])) is not a number")
                }
                flat.append(v)
            }
        }
        let x = Tensor(flat, shape: [rows.count, 1, fp.count])
        let y: LabeledDataset.Targets
        if regression {
            let t = try rows.enumerated().map { i, row -> Float in
                guard let v = parseNumber(Substring(row[lp])), !v.isNaN else {
                    throw DataError(file: file, line: rowLines[i], "target \(quoted(row[lp])) is not a number")
                }
                return v
            }
            y = .regression(Tensor(t))
        } else {
            let (labels, names) = try classLabels(of: label, classNames: classNames)
            y = .classes(labels, names: names)
        }
        return try LabeledDataset(name: name ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent,
                                  inputs: .series(x), targets: y)
    }
}
