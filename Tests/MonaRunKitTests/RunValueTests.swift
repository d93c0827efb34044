import Foundation
import Testing
@testable import MonaRunKit

@Suite struct RunValueTests {
    @Test func literalsAndAccessors() {
        let v: RunValue = ["lr": 0.001, "epochs": 10, "name": "adamw", "nested": [1, "two", true, nil]]
        #expect(v["lr"]?.doubleValue == 0.001)
        #expect(v["epochs"]?.intValue == 10)
        #expect(v["name"]?.stringValue == "adamw")
        #expect(v["name"]?.doubleValue == nil)
        #expect(v["nested"]?.arrayValue?.count == 4)
        #expect(v["missing"] == nil)
        #expect(RunValue(Float(0.1)) == .number(0.1))
        #expect(RunValue.string("NaN").doubleValue?.isNaN == true)
        #expect(RunValue.string("-Infinity").doubleValue == -.infinity)
    }

    @Test func jsonRoundTripKeepsOrderAndNonFiniteNumbers() throws {
        let v: RunValue = ["z": 1, "a": [1.5, -2e-7, 1e20], "s": "quote \" backslash \\ newline \n tab \t é 😀 \u{01}",
                           "nan": .number(.nan), "inf": .number(.infinity), "ninf": .number(-.infinity),
                           "empty": [], "obj": [:], "null": nil, "t": true]
        let text = v.json
        #expect(!text.contains("\n"))
        #expect(text.contains("\"NaN\"") && text.contains("\"Infinity\"") && text.contains("\"-Infinity\""))
        let back = try RunValue.parse(json: text)
        #expect(back.objectValue?.map(\.0) == ["z", "a", "s", "nan", "inf", "ninf", "empty", "obj", "null", "t"])
        // Strings come back as strings; doubleValue recovers the numbers.
        #expect(back["nan"]?.doubleValue?.isNaN == true)
        #expect(back["inf"]?.doubleValue == .infinity)
        #expect(back["s"] == v["s"])
        #expect(back["a"] == v["a"])
        #expect(try RunValue.parse(json: v.jsonText(pretty: true))["a"] == v["a"])
        // Foundation can read what we write.
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(object?["z"] as? Int == 1)
    }

    @Test func wholeNumbersHaveNoFraction() {
        #expect(RunValue.number(3).json == "3")
        #expect(RunValue.number(-0.0).json == "0")
        #expect(RunValue.number(0.25).json == "0.25")
        #expect(RunValue.array([1, 2.5]).json == "[1, 2.5]")
    }

    @Test func parserAcceptsPythonNonFiniteTokensAndReportsPositions() throws {
        let v = try RunValue.parse(json: "{\"a\": NaN, \"b\": -Infinity, \"c\": \"\\ud83d\\ude00\"}")
        #expect(v["a"]?.doubleValue?.isNaN == true)
        #expect(v["b"]?.doubleValue == -.infinity)
        #expect(v["c"] == "😀")
        let error = #expect(throws: RunError.self) { try RunValue.parse(json: "{\n  \"a\": 1,\n  \"b\": }") }
        #expect(error?.description.contains("line 3") == true)
        #expect(throws: RunError.self) { try RunValue.parse(json: "{\"a\": 1, \"a\": 2}") }
        #expect(throws: RunError.self) { try RunValue.parse(json: "[1, 2") }
        #expect(throws: RunError.self) { try RunValue.parse(json: "01x") }
    }

    @Test func codableThroughFoundation() throws {
        let v: RunValue = ["a": 1, "b": ["x", false, nil], "c": .number(.nan)]
        let data = try JSONEncoder().encode(v)
        let back = try JSONDecoder().decode(RunValue.self, from: data)
        #expect(back["a"] == 1)
        #expect(back["b"] == ["x", false, nil])
        #expect(back["c"]?.doubleValue?.isNaN == true)
    }
}
