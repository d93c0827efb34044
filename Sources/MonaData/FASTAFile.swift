import Foundation

/// One FASTA record.
public struct FASTARecord: Sendable, Equatable {
    /// Header text after `>`.
    public let header: String
    /// The sequence with line breaks and spaces removed.
    public let sequence: String
    /// 1-based line of the header.
    public let line: Int
}

/// Major taxonomic ranks, as positions in a `;`-separated lineage starting at the domain
/// (`Bacteria; Firmicutes; Bacilli; …`).
public enum TaxonomicRank: Int, Sendable, CaseIterable {
    case domain = 0, phylum, `class`, order, family, genus, species
}

/// How a class label is read from a FASTA header.
public enum FASTALabelRule: Sendable, Equatable {
    /// The capture group `group` of the first match of a regular expression (Swift `Regex` syntax).
    case regex(String, group: Int = 1)
    /// The `index`-th (0-based) field after splitting the header on `separator` (trimmed of spaces).
    case field(Int, separator: Character)
    /// A rank of the lineage held in the header's last `fieldSeparator`-separated field, whose ranks are
    /// separated by `rankSeparator` — e.g. the 16S "gold" headers, `…<TAB>Bacteria; Firmicutes; …`.
    case lineage(TaxonomicRank, fieldSeparator: Character = "\t", rankSeparator: Character = ";")
}

/// Reader for FASTA files: `>` header lines each followed by one or more sequence lines. Blank lines and
/// `;` comment lines are skipped. Sequence characters must be letters, `-`, `.` or `*`.
public enum FASTAFile {
    public static func read(_ url: URL) throws -> [FASTARecord] {
        try read(bytes: readBytes(url), file: url.path)
    }

    public static func read(bytes: [UInt8], file: String) throws -> [FASTARecord] {
        // Byte-level scan: sequence files are large and ASCII, so Character-level String work would dominate.
        var records: [FASTARecord] = []
        var header: (String, Int)?
        var sequence: [UInt8] = []
        func finish() throws {
            guard let (h, l) = header else { return }
            guard !sequence.isEmpty else { throw DataError(file: file, line: l, "record \(quoted(h)) has no sequence") }
            records.append(FASTARecord(header: h, sequence: String(decoding: sequence, as: UTF8.self), line: l))
            sequence.removeAll(keepingCapacity: true)
        }
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 || b == 11 || b == 12 }
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count && bytes[end] != 10 { end += 1 }
            defer { start = end + 1 }
            var a = start
            while a < end && isSpace(bytes[a]) { a += 1 }
            if a == end || bytes[a] == UInt8(ascii: ";") { continue }
            if bytes[a] == UInt8(ascii: ">") {
                try finish()
                var b = end
                while b > a + 1 && isSpace(bytes[b - 1]) { b -= 1 }
                header = (String(decoding: bytes[(a + 1)..<b], as: UTF8.self), lineNumber)
                continue
            }
            guard header != nil else {
                throw DataError(file: file, line: lineNumber, "sequence data before the first '>' header")
            }
            for k in a..<end {
                let c = bytes[k]
                if isSpace(c) { continue }
                let letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
                guard letter || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "*") else {
                    let shown = c < 128 ? String(UnicodeScalar(c)) : String(format: "byte 0x%02x", c)
                    throw DataError(file: file, line: lineNumber, "invalid sequence character \(quoted(shown))")
                }
                sequence.append(c)
            }
        }
        try finish()
        guard !records.isEmpty else { throw DataError(file: file, "no FASTA records ('>' header lines)") }
        return records
    }

    /// The label of each record under `rule`; a record whose header does not yield a label is an error naming
    /// its line.
    public static func labels(of records: [FASTARecord], rule: FASTALabelRule, file: String) throws -> [String] {
        var regex: Regex<AnyRegexOutput>?
        if case .regex(let pattern, _) = rule {
            do { regex = try Regex(pattern) } catch {
                throw DataError(file: "label rule", "invalid regular expression \(quoted(pattern)): \(error)")
            }
        }
        return try records.map { r in
            let label: String?
            switch rule {
            case .regex(let pattern, let group):
                if let m = r.header.firstMatch(of: regex!), group >= 0, group < m.output.count,
                   let s = m.output[group].substring {
                    label = String(s)
                } else {
                    throw DataError(file: file, line: r.line, "header does not match \(quoted(pattern)) with group \(group)")
                }
            case .field(let k, let sep):
                let fields = r.header.split(separator: sep, omittingEmptySubsequences: false)
                label = k >= 0 && k < fields.count ? String(fields[k].trimmed) : nil
                if label == nil {
                    throw DataError(file: file, line: r.line, "header has \(fields.count) field(s), no field \(k)")
                }
            case .lineage(let rank, let fieldSep, let rankSep):
                let lineage = r.header.split(separator: fieldSep, omittingEmptySubsequences: false).last ?? ""
                let ranks = lineage.split(separator: rankSep, omittingEmptySubsequences: false).map { $0.trimmed }
                guard rank.rawValue < ranks.count else {
                    throw DataError(file: file, line: r.line,
                                    "lineage \(quoted(lineage, limit: 80)) has \(ranks.count) rank(s), no \(rank)")
                }
                label = String(ranks[rank.rawValue])
            }
            guard let label, !label.isEmpty else {
                throw DataError(file: file, line: r.line, "empty label")
            }
            return label
        }
    }

    /// A token dataset: records labelled by `rule`, tokenised by `tokenizer` into ids of `vocabulary`.
    /// Class names are `classNames` when given (a label not in it is an error), else the distinct labels sorted.
    public static func load(_ url: URL, label rule: FASTALabelRule, tokenizer: SequenceTokenizer,
                            vocabulary: Vocabulary, classNames: [String]? = nil,
                            maximumLength: Int? = nil) throws -> LabeledDataset {
        let records = try read(url)
        let raw = try labels(of: records, rule: rule, file: url.path)
        let names = classNames ?? sortedClassNames(Set(raw))
        var index: [String: Int] = [:]
        for (k, s) in names.enumerated() where index[s] == nil { index[s] = k }
        let y = try zip(raw, records).map { s, r in
            guard let k = index[s] else {
                throw DataError(file: url.path, line: r.line, "unknown class label \(quoted(s)); known classes \(names)")
            }
            return k
        }
        return try LabeledDataset.tokenized(name: url.deletingPathExtension().lastPathComponent,
                                            sequences: records.map(\.sequence), labels: y, classNames: names,
                                            tokenizer: tokenizer, vocabulary: vocabulary, maximumLength: maximumLength)
    }
}
