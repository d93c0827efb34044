import Foundation
import MonaTensor

/// Reader for the sktime/aeon `.ts` time-series format (UCR/UEA archives).
///
/// Layout: `#` comment lines, a header of `@tag value` lines (`@problemName`, `@timeStamps`, `@missing`,
/// `@univariate`, `@dimension(s)`, `@equalLength`, `@seriesLength`, `@classLabel true a b c | false`,
/// `@targetLabel true|false`; tags are case-insensitive), then `@data` and one case per line:
/// `v,v,v:v,v,v:label` — channels separated by `:`, values by `,`, the class label (or regression target) last.
/// Missing values are `?` or `NaN`. Files with time stamps (`@timeStamps true`) are rejected with an error.
///
/// Header claims are checked against the data: the number of dimensions, `@univariate`, and, for
/// `@equalLength true`, every series' length (against `@seriesLength` when given). Class labels must be among
/// those declared by `@classLabel`; class index k is the k-th declared label.
public enum TSFile {
    /// Parsed header of a `.ts` file.
    public struct Header: Sendable, Equatable {
        public var problemName: String?
        public var univariate: Bool?
        public var dimensions: Int?
        public var equalLength: Bool?
        public var seriesLength: Int?
        public var missing: Bool?
        /// Declared class labels (nil when the file has none).
        public var classLabels: [String]?
        /// True when the last field is a regression target.
        public var targetLabel: Bool = false
    }

    /// Loads a `.ts` file as a dataset with `series` inputs [N, C, L] and class or regression targets.
    public static func load(_ url: URL, options: SeriesLoadOptions = SeriesLoadOptions()) throws -> LabeledDataset {
        try load(bytes: readBytes(url), file: url.path, options: options)
    }

    /// Loads `.ts` content held in memory; `file` names it in errors.
    public static func load(bytes: [UInt8], file: String,
                            options: SeriesLoadOptions = SeriesLoadOptions()) throws -> LabeledDataset {
        let lines = splitLines(bytes)
        var header = Header()
        var dataStart: Int?
        for (i, line) in lines.enumerated() {
            let t = line.text.trimmed
            if t.isEmpty || t.hasPrefix("#") { continue }
            guard t.hasPrefix("@") else {
                throw DataError(file: file, line: line.number, "expected a header line '@tag value' before @data, "
                                + "found \(quoted(t))")
            }
            if try parseHeaderLine(t, into: &header, file: file, line: line.number) {
                dataStart = i + 1
                break
            }
        }
        guard let dataStart else { throw DataError(file: file, "no @data line: not a .ts file, or header is truncated") }
        if header.classLabels != nil && header.targetLabel {
            throw DataError(file: file, "header declares both @classLabel and @targetLabel")
        }
        if header.univariate == true, let d = header.dimensions, d != 1 {
            throw DataError(file: file, "header says @univariate true but @dimensions \(d)")
        }
        let expectedDims = header.dimensions ?? (header.univariate == true ? 1 : nil)
        let hasLabel = header.classLabels != nil || header.targetLabel
        var classIndex: [String: Int] = [:]
        for (k, s) in (header.classLabels ?? []).enumerated() where classIndex[s] == nil { classIndex[s] = k }

        var assembler = SeriesAssembler(file: file)
        var labels: [Int] = []
        var targets: [Float] = []
        var firstLength: Int?
        for line in lines[dataStart...] {
            let t = line.text.trimmed
            if t.isEmpty || t.hasPrefix("#") { continue }
            if t.hasPrefix("(") {
                throw DataError(file: file, line: line.number, "time-stamped values '(t,v)' are not supported")
            }
            var parts = t.split(separator: ":", omittingEmptySubsequences: false)
            if hasLabel {
                guard parts.count >= 2 else {
                    throw DataError(file: file, line: line.number, "missing the class/target label after ':'")
                }
                let token = parts.removeLast().trimmed
                if header.targetLabel {
                    guard let v = parseNumber(token), !v.isNaN else {
                        throw DataError(file: file, line: line.number, "regression target \(quoted(token)) is not a number")
                    }
                    targets.append(v)
                } else {
                    guard let k = classIndex[String(token)] ?? classIndex[canonicalLabel(token)] else {
                        throw DataError(file: file, line: line.number, "unknown class label \(quoted(token)); "
                                        + "@classLabel declares \(header.classLabels ?? [])")
                    }
                    labels.append(k)
                }
            }
            if let expectedDims, parts.count != expectedDims {
                throw DataError(file: file, line: line.number,
                                "found \(parts.count) dimensions, header declares \(expectedDims)")
            }
            var channels: [[Float]] = []
            channels.reserveCapacity(parts.count)
            for (d, part) in parts.enumerated() {
                var values: [Float] = []
                for token in part.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let v = parseNumber(token) else {
                        throw DataError(file: file, line: line.number,
                                        "dimension \(d): \(quoted(token.trimmed)) is not a number")
                    }
                    values.append(v)
                }
                if header.equalLength == true {
                    let expected = header.seriesLength ?? firstLength ?? values.count
                    guard values.count == expected else {
                        throw DataError(file: file, line: line.number, "dimension \(d) has \(values.count) values, "
                                        + "expected \(expected) (@equalLength true)")
                    }
                    firstLength = expected
                }
                channels.append(values)
            }
            try assembler.append(channels, line: line.number)
        }
        guard !assembler.cases.isEmpty else { throw DataError(file: file, "no cases after @data") }
        let x = try assembler.tensor(options: options)
        let name = header.problemName ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let y: LabeledDataset.Targets
        if let names = header.classLabels {
            y = .classes(labels, names: names)
        } else if header.targetLabel {
            y = .regression(Tensor(targets))
        } else {
            y = .none
        }
        return try LabeledDataset(name: name, inputs: .series(x), targets: y)
    }

    /// Reads one header line; returns true for `@data`.
    private static func parseHeaderLine(_ t: Substring, into h: inout Header, file: String, line: Int) throws -> Bool {
        let words = t.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let tag = words[0].lowercased()
        let args = words.dropFirst()
        func bool() throws -> Bool {
            guard args.count == 1, let b = Bool(args.first!.lowercased()) else {
                throw DataError(file: file, line: line, "\(words[0]) needs 'true' or 'false', got \(quoted(args.joined(separator: " ")))")
            }
            return b
        }
        func positiveInt() throws -> Int {
            guard args.count == 1, let n = Int(args.first!), n > 0 else {
                throw DataError(file: file, line: line, "\(words[0]) needs a positive integer, got \(quoted(args.joined(separator: " ")))")
            }
            return n
        }
        switch tag {
        case "@data": return true
        case "@problemname":
            guard !args.isEmpty else { throw DataError(file: file, line: line, "@problemName needs a name") }
            h.problemName = args.joined(separator: " ")
        case "@timestamps":
            if try bool() { throw DataError(file: file, line: line, "files with time stamps are not supported") }
        case "@missing": h.missing = try bool()
        case "@univariate": h.univariate = try bool()
        case "@dimension", "@dimensions": h.dimensions = try positiveInt()
        case "@equallength": h.equalLength = try bool()
        case "@serieslength": h.seriesLength = try positiveInt()
        case "@classlabel":
            guard let flag = args.first.flatMap({ Bool($0.lowercased()) }) else {
                throw DataError(file: file, line: line, "@classLabel must start with 'true' or 'false'")
            }
            if flag {
                let names = args.dropFirst().map { String($0) }
                guard !names.isEmpty else {
                    throw DataError(file: file, line: line, "@classLabel true declares no class labels")
                }
                guard Set(names).count == names.count else {
                    throw DataError(file: file, line: line, "@classLabel declares a label twice: \(names)")
                }
                h.classLabels = names
            } else if args.count > 1 {
                throw DataError(file: file, line: line, "@classLabel false takes no labels")
            }
        case "@targetlabel": h.targetLabel = try bool()
        default:
            throw DataError(file: file, line: line, "unknown header tag \(quoted(words[0]))")
        }
        return false
    }
}
