import Foundation
import MonaTensor
import Testing
@testable import MonaData

@Suite struct UCRTextTests {
    @Test func whitespaceWithScientificLabels() throws {
        let d = try UCRTextFile.load(fixture("ucr_whitespace.txt"))
        #expect(d.inputTensor?.shape == [3, 1, 3])
        #expect(d.inputTensor?.scalars == [1, 2, 3, 3, 2, 1, 0, 1, 2])
        #expect(d.classNames == ["1", "2"])
        #expect(d.labels == [0, 1, 0])
    }

    @Test func tabsWithNaNPaddingAndMissing() throws {
        let d = try UCRTextFile.load(fixture("ucr_tabs.tsv"))
        // row 1: trailing NaN is padding (dropped, then padded with the last value); row 2: '?' interpolated.
        #expect(d.inputTensor?.scalars == [1.5, 2.5, 2.5, 1, 2, 3])
        #expect(d.classNames == ["-1", "2"])  // numeric order
        #expect(d.labels == [1, 0])
    }

    @Test func commaSeparatedRaggedRows() throws {
        let d = try UCRTextFile.load(fixture("ucr_ragged.csv"))
        #expect(d.inputTensor?.shape == [3, 1, 3])
        #expect(d.inputTensor?.scalars == [1, 2, 3, 3, 2, 2, 0, 1, 2])
    }

    @Test func givenClassNamesAreEnforced() throws {
        let d = try UCRTextFile.load(fixture("ucr_whitespace.txt"), classNames: ["2", "1"])
        #expect(d.labels == [1, 0, 1])
        expectDataError(fileSuffix: "ucr_whitespace.txt", line: 2, message: "unknown class label '2'") {
            _ = try UCRTextFile.load(fixture("ucr_whitespace.txt"), classNames: ["1"])
        }
        expectDataError(fileSuffix: "bad_ucr.txt", line: 2, message: "column 3: 'abc' is not a number") {
            _ = try UCRTextFile.load(fixture("bad_ucr.txt"))
        }
    }
}

@Suite struct ARFFTests {
    @Test func numericAttributesAndQuotedNominals() throws {
        let d = try ARFFFile.load(fixture("numeric.arff"))
        #expect(d.name == "tiny")
        #expect(d.inputTensor?.shape == [3, 1, 3])
        #expect(d.inputTensor?.scalars == [1, 2, 3, 4, 5, 6, 7, 8, 9])  // '?' interpolated
        #expect(d.classNames == ["left hand", "right"])
        #expect(d.labels == [0, 1, 1])
    }

    @Test func relationalAttributeGivesMultivariateSeries() throws {
        let d = try ARFFFile.load(fixture("relational.arff"))
        #expect(d.name == "TinyMotions")
        #expect(d.inputTensor?.shape == [2, 2, 3])
        #expect(d.inputTensor?.scalars == (1...12).map(Float.init))
        #expect(d.labels == [0, 1])
        #expect(d.classNames == ["walk", "run"])
    }

    @Test func classAttributeByNameAndRegression() throws {
        expectDataError(fileSuffix: "numeric.arff", message: "feature attribute 'class' is not numeric") {
            _ = try ARFFFile.load(fixture("numeric.arff"), classAttribute: "t2")
        }
        let text = "@relation r\n@attribute y numeric\n@attribute a numeric\n@data\n0.5,1\n-1,2\n"
        let d = try ARFFFile.load(bytes: Array(text.utf8), file: "r.arff", classAttribute: "y")
        guard case .regression(let y) = d.targets else { Issue.record("expected regression"); return }
        #expect(y.scalars == [0.5, -1])
        #expect(d.inputTensor?.scalars == [1, 2])
    }

    @Test func malformedARFF() {
        expectDataError(fileSuffix: "bad_row.arff", line: 7, message: "row has 2 values, the header declares 3") {
            _ = try ARFFFile.load(fixture("bad_row.arff"))
        }
        expectDataError(fileSuffix: "bad_class.arff", line: 6, message: "unknown class 'z'") {
            _ = try ARFFFile.load(fixture("bad_class.arff"))
        }
        expectDataError(fileSuffix: "string.arff", line: 2, message: "string and date attributes are not supported") {
            _ = try ARFFFile.load(fixture("string.arff"))
        }
        expectDataError(fileSuffix: "numeric.arff", message: "no attribute named 'nope'") {
            _ = try ARFFFile.load(fixture("numeric.arff"), classAttribute: "nope")
        }
        expectDataError(fileSuffix: "numeric.arff", line: 11, message: "missing value") {
            _ = try ARFFFile.load(fixture("numeric.arff"), options: SeriesLoadOptions(missing: .error))
        }
        let sparse = "@relation s\n@attribute a numeric\n@attribute c {x}\n@data\n{0 1, 1 x}\n"
        expectDataError(fileSuffix: "s.arff", line: 5, message: "sparse ARFF rows are not supported") {
            _ = try ARFFFile.load(bytes: Array(sparse.utf8), file: "s.arff")
        }
        let open = "@relation r\n@attribute s relational\n@attribute a numeric\n@data\n"
        expectDataError(fileSuffix: "r.arff", line: 2, message: "has no matching @end") {
            _ = try ARFFFile.load(bytes: Array(open.utf8), file: "r.arff")
        }
        let ragged = "@relation r\n@attribute s relational\n@attribute a numeric\n@attribute b numeric\n@end s\n"
            + "@attribute c {x}\n@data\n'1,2\\n3',x\n"
        expectDataError(fileSuffix: "r.arff", line: 8, message: "channel 1 has 1 values, relational attribute declares 2") {
            _ = try ARFFFile.load(bytes: Array(ragged.utf8), file: "r.arff")
        }
        let unterminated = "@relation r\n@attribute a numeric\n@attribute c {x}\n@data\n1,'x\n"
        expectDataError(fileSuffix: "r.arff", line: 5, message: "unterminated quoted value") {
            _ = try ARFFFile.load(bytes: Array(unterminated.utf8), file: "r.arff")
        }
    }
}

@Suite struct CSVTests {
    @Test func quotedFieldsHeaderAndLines() throws {
        let t = try CSVTable.read(fixture("table.csv"))
        #expect(t.header == ["id", "feature, one", "feature2", "label"])
        #expect(t.rows.count == 3)
        #expect(t.rows[1] == ["2", "2.5", "3.5", "dog"])
        #expect(t.rows[2] == ["3", "4.5", "5.5", "a \"quoted\"\nlabel"])
        #expect(t.rowLines == [2, 3, 4])
    }

    @Test func numericDatasetByNameOrIndex() throws {
        let t = try CSVTable.read(fixture("table.csv"))
        let d = try t.dataset(label: "label", features: ["feature, one", 2])
        #expect(d.inputTensor?.shape == [3, 1, 2])
        #expect(d.inputTensor?.scalars == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5])
        #expect(d.classNames == ["a \"quoted\"\nlabel", "cat", "dog"])
        #expect(d.labels == [1, 2, 0])
        let r = try t.dataset(label: 0, features: [1], regression: true)
        guard case .regression(let y) = r.targets else { Issue.record("expected regression"); return }
        #expect(y.scalars == [1, 2, 3])
        expectDataError(fileSuffix: "table.csv", message: "no column named 'nope'") { _ = try t.dataset(label: "nope") }
        expectDataError(fileSuffix: "table.csv", message: "column index 9 out of range") { _ = try t.dataset(label: 9) }
        expectDataError(fileSuffix: "table.csv", line: 2, message: "column 'label': 'cat' is not a number") {
            _ = try t.dataset(label: 0)
        }
    }

    @Test func headerlessWithSkippedLine() throws {
        let text = "5200,1,UniProt,AMP\nGLWSK, 1\n\"KKLL\",0\n"
        let t = try CSVTable.read(bytes: Array(text.utf8), file: "amp.csv", hasHeader: false, skipLines: 1)
        #expect(t.header == nil)
        #expect(t.rows == [["GLWSK", "1"], ["KKLL", "0"]])
        #expect(t.rowLines == [2, 3])
        let (labels, names) = try t.classLabels(of: 1)
        #expect(labels == [1, 0] && names == ["0", "1"])
    }

    @Test func malformedCSV() {
        expectDataError(fileSuffix: "bad_ragged.csv", line: 3, message: "row has 2 fields, expected 3") {
            _ = try CSVTable.read(fixture("bad_ragged.csv"))
        }
        expectDataError(fileSuffix: "bad_quote.csv", line: 2, message: "unterminated quoted field") {
            _ = try CSVTable.read(fixture("bad_quote.csv"))
        }
        expectDataError(fileSuffix: "q.csv", line: 2, message: "text after a closing quote") {
            _ = try CSVTable.read(bytes: Array("a,b\n\"x\"y,1\n".utf8), file: "q.csv")
        }
        expectDataError(fileSuffix: "q.csv", line: 1, message: "quote inside an unquoted field") {
            _ = try CSVTable.read(bytes: Array("a\"b,c\n".utf8), file: "q.csv")
        }
    }
}
