import Foundation
import MonaTensor

/// Reader for Weka ARFF files as used by the UCR/UEA archives.
///
/// Supported: `@relation`, `@attribute NAME numeric|real|integer`, nominal `@attribute NAME {a,b,'c d'}`,
/// relational attributes (`@attribute NAME relational` … `@end NAME`, holding numeric attributes — the UEA
/// multivariate layout, where each case's value is a quoted block of rows separated by `\n`, one row per
/// channel), `%` comments, quoted names and values with backslash escapes, and `?` for missing values.
/// Not supported (clear error): string and date attributes, sparse rows `{i v, …}`, instance weights.
///
/// The class attribute is `classAttribute` (by name) or, by default, the last attribute. A nominal class gives
/// class targets (index k = k-th declared value), a numeric one regression targets. The remaining attributes must
/// be either all numeric (→ series [N, 1, F]) or a single relational attribute (→ series [N, C, L] with L the
/// number of its inner attributes).
public enum ARFFFile {
    public static func load(_ url: URL, classAttribute: String? = nil,
                            options: SeriesLoadOptions = SeriesLoadOptions()) throws -> LabeledDataset {
        try load(bytes: readBytes(url), file: url.path, classAttribute: classAttribute, options: options)
    }

    enum AttributeType: Equatable {
        case numeric
        case nominal([String])
        case relational(innerCount: Int)
    }

    struct Attribute {
        let name: String
        let type: AttributeType
    }

    public static func load(bytes: [UInt8], file: String, classAttribute: String? = nil,
                            options: SeriesLoadOptions = SeriesLoadOptions()) throws -> LabeledDataset {
        let lines = splitLines(bytes)
        var relation: String?
        var attributes: [Attribute] = []
        var openRelational: (name: String, inner: Int, line: Int)?
        var dataStart: Int?
        for (i, line) in lines.enumerated() {
            let t = line.text.trimmed
            if t.isEmpty || t.hasPrefix("%") { continue }
            guard t.hasPrefix("@") else {
                throw DataError(file: file, line: line.number, "expected '@relation', '@attribute' or '@data', found \(quoted(t))")
            }
            let keyword = t.prefix(while: { !$0.isWhitespace }).lowercased()
            let rest = t.dropFirst(keyword.count).trimmed
            switch keyword {
            case "@relation":
                relation = try unquotedName(rest, file: file, line: line.number).name
            case "@attribute":
                let (name, after) = try unquotedName(rest, file: file, line: line.number)
                let typeText = after.trimmed
                let lower = typeText.lowercased()
                if var open = openRelational {
                    guard ["numeric", "real", "integer"].contains(lower) else {
                        throw DataError(file: file, line: line.number,
                                        "attribute \(quoted(name)) inside relational \(quoted(open.name)) must be numeric")
                    }
                    open.inner += 1
                    openRelational = open
                    continue
                }
                if ["numeric", "real", "integer"].contains(lower) {
                    attributes.append(Attribute(name: name, type: .numeric))
                } else if lower == "relational" {
                    openRelational = (name, 0, line.number)
                } else if typeText.hasPrefix("{") {
                    guard typeText.hasSuffix("}") else {
                        throw DataError(file: file, line: line.number, "nominal values of \(quoted(name)) lack a closing '}'")
                    }
                    let inside = typeText.dropFirst().dropLast()
                    let values = try splitFields(inside, file: file, line: line.number).map(\.text)
                    guard !values.isEmpty, !values.contains(where: \.isEmpty) else {
                        throw DataError(file: file, line: line.number, "nominal attribute \(quoted(name)) declares an empty value")
                    }
                    attributes.append(Attribute(name: name, type: .nominal(values)))
                } else if lower.hasPrefix("string") || lower.hasPrefix("date") {
                    throw DataError(file: file, line: line.number,
                                    "attribute \(quoted(name)) has type \(quoted(typeText)): string and date attributes are not supported")
                } else {
                    throw DataError(file: file, line: line.number, "unknown attribute type \(quoted(typeText)) for \(quoted(name))")
                }
            case "@end":
                guard let open = openRelational else {
                    throw DataError(file: file, line: line.number, "@end without an open relational attribute")
                }
                guard open.inner > 0 else {
                    throw DataError(file: file, line: line.number, "relational attribute \(quoted(open.name)) has no attributes")
                }
                attributes.append(Attribute(name: open.name, type: .relational(innerCount: open.inner)))
                openRelational = nil
            case "@data":
                dataStart = i + 1
            default:
                throw DataError(file: file, line: line.number, "unknown keyword \(quoted(keyword))")
            }
            if dataStart != nil { break }
        }
        if let open = openRelational {
            throw DataError(file: file, line: open.line, "relational attribute \(quoted(open.name)) has no matching @end")
        }
        guard let dataStart else { throw DataError(file: file, "no @data line: not an ARFF file, or header is truncated") }
        guard attributes.count >= 2 else {
            throw DataError(file: file, "need at least one feature attribute and a class attribute, found \(attributes.count) attribute(s)")
        }

        let classPosition: Int
        if let classAttribute {
            guard let p = attributes.firstIndex(where: { $0.name == classAttribute }) else {
                throw DataError(file: file, "no attribute named \(quoted(classAttribute)); attributes: \(attributes.map(\.name))")
            }
            classPosition = p
        } else {
            classPosition = attributes.count - 1
        }
        let features = attributes.indices.filter { $0 != classPosition }
        let relationalFeature: Int?
        if features.count == 1, case .relational = attributes[features[0]].type {
            relationalFeature = features[0]
        } else {
            relationalFeature = nil
            for f in features where attributes[f].type != .numeric {
                throw DataError(file: file, "feature attribute \(quoted(attributes[f].name)) is not numeric: features must be all "
                                + "numeric or a single relational attribute")
            }
        }
        var classIndex: [String: Int] = [:]
        if case .nominal(let names) = attributes[classPosition].type {
            for (k, s) in names.enumerated() where classIndex[s] == nil { classIndex[s] = k }
        } else if case .relational = attributes[classPosition].type {
            throw DataError(file: file, "class attribute \(quoted(attributes[classPosition].name)) is relational")
        }

        var assembler = SeriesAssembler(file: file)
        var labels: [Int] = []
        var targets: [Float] = []
        for line in lines[dataStart...] {
            let t = line.text.trimmed
            if t.isEmpty || t.hasPrefix("%") { continue }
            if t.hasPrefix("{") {
                throw DataError(file: file, line: line.number, "sparse ARFF rows are not supported")
            }
            let fields = try splitFields(t, file: file, line: line.number)
            guard fields.count == attributes.count else {
                throw DataError(file: file, line: line.number,
                                "row has \(fields.count) values, the header declares \(attributes.count) attributes")
            }
            let cls = fields[classPosition]
            switch attributes[classPosition].type {
            case .nominal(let names):
                guard let k = classIndex[cls.text] else {
                    throw DataError(file: file, line: line.number, cls.isMissing
                                    ? "missing class value" : "unknown class \(quoted(cls.text)); declared \(names)")
                }
                labels.append(k)
            default:
                guard !cls.isMissing, let v = parseNumber(Substring(cls.text)), !v.isNaN else {
                    throw DataError(file: file, line: line.number, "regression target \(quoted(cls.text)) is not a number")
                }
                targets.append(v)
            }
            if let r = relationalFeature {
                guard case .relational(let inner) = attributes[r].type else { continue }
                let block = fields[r]
                let rows = block.text.split(separator: "\n", omittingEmptySubsequences: true)
                guard !block.isMissing, !rows.isEmpty else {
                    throw DataError(file: file, line: line.number, "relational value of \(quoted(attributes[r].name)) is empty or missing")
                }
                var channels: [[Float]] = []
                for (d, row) in rows.enumerated() {
                    let tokens = row.split(separator: ",", omittingEmptySubsequences: false)
                    guard tokens.count == inner else {
                        throw DataError(file: file, line: line.number,
                                        "channel \(d) has \(tokens.count) values, relational attribute declares \(inner)")
                    }
                    channels.append(try tokens.map { tok in
                        guard let v = parseNumber(tok) else {
                            throw DataError(file: file, line: line.number, "channel \(d): \(quoted(tok.trimmed)) is not a number")
                        }
                        return v
                    })
                }
                try assembler.append(channels, line: line.number)
            } else {
                let values: [Float] = try features.map { f in
                    let field = fields[f]
                    if field.isMissing { return .nan }
                    guard let v = parseNumber(Substring(field.text)) else {
                        throw DataError(file: file, line: line.number,
                                        "attribute \(quoted(attributes[f].name)): \(quoted(field.text)) is not a number")
                    }
                    return v
                }
                try assembler.append([values], line: line.number)
            }
        }
        guard !assembler.cases.isEmpty else { throw DataError(file: file, "no data rows after @data") }
        let x = try assembler.tensor(options: options)
        let y: LabeledDataset.Targets
        if case .nominal(let names) = attributes[classPosition].type {
            y = .classes(labels, names: names)
        } else {
            y = .regression(Tensor(targets))
        }
        return try LabeledDataset(name: relation ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent,
                                  inputs: .series(x), targets: y)
    }

    /// One comma-separated ARFF value: its unquoted, unescaped text, and whether it is the missing marker `?`.
    struct Field {
        let text: String
        let isMissing: Bool
    }

    /// Splits on commas outside quotes; strips whitespace around unquoted values; undoes backslash escapes in
    /// quoted ones (`\n` becomes a newline, `\t` a tab, `\x` is `x`).
    static func splitFields(_ s: Substring, file: String, line: Int) throws -> [Field] {
        var fields: [Field] = []
        var i = s.startIndex
        while true {
            while i < s.endIndex, s[i] == " " || s[i] == "\t" { i = s.index(after: i) }
            if i < s.endIndex, s[i] == "'" || s[i] == "\"" {
                let q = s[i]
                var text = ""
                i = s.index(after: i)
                var closed = false
                while i < s.endIndex {
                    let ch = s[i]
                    if ch == "\\" {
                        i = s.index(after: i)
                        guard i < s.endIndex else { break }
                        switch s[i] {
                        case "n": text.append("\n")
                        case "t": text.append("\t")
                        case "r": text.append("\r")
                        default: text.append(s[i])
                        }
                    } else if ch == q {
                        closed = true
                        i = s.index(after: i)
                        break
                    } else {
                        text.append(ch)
                    }
                    i = s.index(after: i)
                }
                guard closed else { throw DataError(file: file, line: line, "unterminated quoted value") }
                while i < s.endIndex, s[i] == " " || s[i] == "\t" { i = s.index(after: i) }
                fields.append(Field(text: text, isMissing: false))
                if i == s.endIndex { break }
                guard s[i] == "," else {
                    throw DataError(file: file, line: line, "expected ',' after a quoted value, found \(quoted(String(s[i])))")
                }
                i = s.index(after: i)
            } else {
                let end = s[i...].firstIndex(of: ",") ?? s.endIndex
                let text = String(s[i..<end].trimmed)
                fields.append(Field(text: text, isMissing: text == "?"))
                if end == s.endIndex { break }
                i = s.index(after: end)
            }
        }
        return fields
    }

    /// A possibly quoted name at the start of `s`, and the rest of `s` after it.
    static func unquotedName(_ s: Substring, file: String, line: Int) throws -> (name: String, rest: Substring) {
        guard let first = s.first else { throw DataError(file: file, line: line, "missing name") }
        if first == "'" || first == "\"" {
            guard let close = s.dropFirst().firstIndex(of: first) else {
                throw DataError(file: file, line: line, "unterminated quoted name")
            }
            return (String(s[s.index(after: s.startIndex)..<close]), s[s.index(after: close)...])
        }
        let end = s.firstIndex(where: { $0.isWhitespace }) ?? s.endIndex
        return (String(s[..<end]), s[end...])
    }
}
