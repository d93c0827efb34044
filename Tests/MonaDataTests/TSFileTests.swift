import Foundation
import MonaTensor
import Testing
@testable import MonaData

@Suite struct TSFileTests {
    @Test func univariateEqualLength() throws {
        let d = try TSFile.load(fixture("univariate.ts"))
        #expect(d.name == "TinyUni")
        #expect(d.inputTensor?.shape == [3, 1, 4])
        #expect(d.inputTensor?.scalars == [1, 2, 3, 4, 4, 3, 2, 1, 0.5, 1.5, 2.5, 3.5])
        #expect(d.labels == [0, 1, 0])
        #expect(d.classNames == ["up", "down"])
        #expect(d.classCounts == [2, 1])
    }

    @Test func multivariateUnequalPaddedAndInterpolated() throws {
        let d = try TSFile.load(fixture("multivariate_unequal.ts"))
        #expect(d.inputTensor?.shape == [3, 2, 4])
        // case 1: pad both dims with their last value; case 2: '?' interpolated to 2; case 3: single value repeated.
        #expect(d.inputTensor?.scalars == [1, 2, 3, 3, 10, 20, 30, 30,
                                           1, 2, 3, 5, 7, 8, 8, 8,
                                           4, 4, 4, 4, 5, 6, 6, 6])
        #expect(d.labels == [0, 2, 1])
    }

    @Test func resampleToFixedLength() throws {
        let d = try TSFile.load(fixture("multivariate_unequal.ts"), options: SeriesLoadOptions(length: .resample(length: 5)))
        let x = try #require(d.inputTensor)
        #expect(x.shape == [3, 2, 5])
        // dim 0 of case 1 is [1,2,3] → positions 0, .5, 1, 1.5, 2.
        #expect(Array(x.scalars[0..<5]) == [1, 1.5, 2, 2.5, 3])
        // dim 1 of case 2 is [7,8]; ends kept.
        #expect(Array(x.scalars[15..<20]) == [7, 7.25, 7.5, 7.75, 8])
        // a single value is repeated
        #expect(Array(x.scalars[20..<25]) == [4, 4, 4, 4, 4])
    }

    @Test func lengthAndMissingPoliciesCanRefuse() {
        expectDataError(fileSuffix: "multivariate_unequal.ts", line: 11, message: "missing value") {
            _ = try TSFile.load(fixture("multivariate_unequal.ts"), options: SeriesLoadOptions(missing: .error))
        }
        expectDataError(fileSuffix: "multivariate_unequal.ts", line: 11, message: "unequal lengths") {
            _ = try TSFile.load(fixture("multivariate_unequal.ts"), options: SeriesLoadOptions(length: .requireEqual))
        }
        expectDataError(fileSuffix: "multivariate_unequal.ts", line: 11, message: "longer than the padding length 3") {
            _ = try TSFile.load(fixture("multivariate_unequal.ts"),
                                options: SeriesLoadOptions(length: .padWithLastValue(length: 3)))
        }
    }

    @Test func regressionTargets() throws {
        let d = try TSFile.load(fixture("regression.ts"))
        guard case .regression(let y) = d.targets else { Issue.record("expected regression targets"); return }
        #expect(y.scalars == [0.5, -1.25])
        #expect(d.inputTensor?.shape == [2, 1, 3])
    }

    @Test func crlfAndCommentsAreAccepted() throws {
        let text = "# comment\r\n@problemName X\r\n@classLabel true a b\r\n@data\r\n1,2:a\r\n\r\n3,4:b\r\n"
        let d = try TSFile.load(bytes: Array(text.utf8), file: "crlf.ts")
        #expect(d.inputTensor?.scalars == [1, 2, 3, 4])
        #expect(d.labels == [0, 1])
    }

    @Test func malformedFilesGiveFileAndLine() {
        expectDataError(fileSuffix: "bad_header.ts", line: 3, message: "@seriesLength needs a positive integer") {
            _ = try TSFile.load(fixture("bad_header.ts"))
        }
        expectDataError(fileSuffix: "bad_unknown_tag.ts", line: 2, message: "unknown header tag '@colour'") {
            _ = try TSFile.load(fixture("bad_unknown_tag.ts"))
        }
        expectDataError(fileSuffix: "bad_length.ts", line: 8, message: "has 2 values, expected 3") {
            _ = try TSFile.load(fixture("bad_length.ts"))
        }
        expectDataError(fileSuffix: "bad_label.ts", line: 6, message: "unknown class label '7'") {
            _ = try TSFile.load(fixture("bad_label.ts"))
        }
        expectDataError(fileSuffix: "bad_value.ts", line: 5, message: "'x2' is not a number") {
            _ = try TSFile.load(fixture("bad_value.ts"))
        }
        expectDataError(fileSuffix: "bad_dimensions.ts", line: 7, message: "found 1 dimensions, header declares 2") {
            _ = try TSFile.load(fixture("bad_dimensions.ts"))
        }
        expectDataError(fileSuffix: "no_data.ts", message: "no @data line") {
            _ = try TSFile.load(fixture("no_data.ts"))
        }
        expectDataError(fileSuffix: "missing.ts", message: "cannot read file") {
            _ = try TSFile.load(fixture("missing.ts"))
        }
        expectDataError(fileSuffix: "inline.ts", line: 3, message: "missing the class/target label") {
            _ = try TSFile.load(bytes: Array("@classLabel true a\n@data\n1,2,3\n".utf8), file: "inline.ts")
        }
        expectDataError(fileSuffix: "inline.ts", line: 3, message: "has only missing values") {
            _ = try TSFile.load(bytes: Array("@classLabel true a\n@data\n?,NaN:a\n".utf8), file: "inline.ts")
        }
        expectDataError(fileSuffix: "inline.ts", line: 1, message: "time stamps") {
            _ = try TSFile.load(bytes: Array("@timeStamps true\n@data\n".utf8), file: "inline.ts")
        }
    }

    @Test func arbitraryBytesNeverCrash() {
        var g = SeededGenerator(seed: 7)
        let base = Array("@problemName X\n@univariate true\n@classLabel true a b\n@data\n1,2,3:a\n4,5,6:b\n".utf8)
        for _ in 0..<300 {
            var b = base
            for _ in 0..<3 { b[Int(g.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: g.next()) }
            _ = try? TSFile.load(bytes: b, file: "fuzz.ts")
            _ = try? TSFile.load(bytes: Array(b.prefix(Int(g.next() % UInt64(b.count)))), file: "fuzz.ts")
        }
    }
}
