import Testing
import MonaJSON

/// The one JSON policy (see `JSONValue`): what is accepted, what is refused, and what is written.
@Suite struct JSONPolicyTests {
    private func parseError(_ text: String) -> JSONParseError? {
        do {
            _ = try JSONValue.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func surrogateEscapesMustPair() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == "😀")
        for text in [#""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud800x""#, #""a\ude00b""#] {
            #expect(parseError(text)?.message == "unpaired surrogate in a string", "\(text)")
        }
    }

    @Test func duplicateKeysAreRefusedWithTheirPosition() throws {
        let error = parseError("{\n  \"a\": 1,\n  \"a\": 2\n}")
        #expect(error?.duplicateKey == "a")
        #expect(error?.line == 3 && error?.column == 3)
        #expect(error?.description == "line 3, column 3: duplicate key \"a\"")
        // The same key in different objects is fine.
        #expect(try JSONValue.parse(#"{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}"#)["b"] == [["a": 2], ["a": 3]])
    }

    @Test func nestingIsLimited() throws {
        let n = JSONParser.maxDepth
        _ = try JSONValue.parse(String(repeating: "[", count: n) + String(repeating: "]", count: n))
        let deeper = String(repeating: "[", count: n + 1) + String(repeating: "]", count: n + 1)
        #expect(parseError(deeper)?.message == "nesting deeper than \(n) levels")
        let objects = String(repeating: "{\"k\":", count: 100_000) + "1" + String(repeating: "}", count: 100_000)
        #expect(parseError(objects)?.message.hasPrefix("nesting deeper") == true)
    }

    @Test func hugeNumbersAreDoublesAndOnlyExactIntegersAreInts() throws {
        #expect(try JSONValue.parse("9007199254740991").intValue == 9_007_199_254_740_991)
        #expect(try JSONValue.parse("-9007199254740991").intValue == -9_007_199_254_740_991)
        #expect(try JSONValue.parse("9007199254740992").intValue == nil)
        #expect(try JSONValue.parse("123456789012345678901234567890").doubleValue == 1.2345678901234568e29)
        #expect(try JSONValue.parse("123456789012345678901234567890").intValue == nil)
        #expect(try JSONValue.parse("768.0").intValue == 768)
        #expect(try JSONValue.parse("1e-400") == 0)
        for text in ["1e400", "-1e400", "[1, 2e308]"] {
            #expect(parseError(text)?.message.contains("beyond the range of a double") == true, "\(text)")
        }
        for text in ["01", "-01", "+1", ".5", "1.", "0x10", "1e", "--1"] {
            #expect(parseError(text) != nil, "\(text)")
        }
    }

    @Test func nonFiniteNumbersAreWrittenAsStringsAndReadBack() throws {
        let v: JSONValue = ["nan": .number(.nan), "inf": .number(.infinity), "ninf": .number(-.infinity)]
        #expect(v.json == #"{"nan": "NaN", "inf": "Infinity", "ninf": "-Infinity"}"#)
        #expect(v.compactJSON == #"{"nan":"NaN","inf":"Infinity","ninf":"-Infinity"}"#)
        let back = try JSONValue.parse(v.json)
        #expect(back["nan"]?.doubleValue?.isNaN == true)
        #expect(back["inf"]?.doubleValue == .infinity)
        #expect(back["ninf"]?.doubleValue == -.infinity)
        // Python's bare tokens are read as numbers.
        #expect(try JSONValue.parse("[NaN, Infinity, -Infinity]") == [.number(.nan), .number(.infinity), .number(-.infinity)])
    }

    @Test func stringsAreValidUTF8AndEscapedOnOutput() throws {
        #expect(parseError("\"\u{01}\"")?.message == "control character in a string")
        #expect(throws: JSONParseError.self) { try JSONValue.parse([UInt8]([0x22, 0xFF, 0x22])) }
        let s: JSONValue = .string("q\" b\\ n\n t\t \u{01} \u{7F} \u{2028} é")
        #expect(s.compactJSON == #""q\" b\\ n\n t\t \u0001 \u007F \u2028 é""#)
        #expect(try JSONValue.parse(s.compactJSON) == s)
    }

    @Test func writersKeepOrderAndRoundTrip() throws {
        let v: JSONValue = ["z": 1, "a": [1.5, -2e-7, 1e20, 0.1], "o": ["k": nil, "t": true], "e": [], "m": [:]]
        #expect(v.compactJSON == #"{"z":1,"a":[1.5,-2e-07,1e+20,0.1],"o":{"k":null,"t":true},"e":[],"m":{}}"#)
        #expect(v.json == #"{"z": 1, "a": [1.5, -2e-07, 1e+20, 0.1], "o": {"k": null, "t": true}, "e": [], "m": {}}"#)
        for text in [v.json, v.compactJSON, v.jsonText(pretty: true)] {
            #expect(try JSONValue.parse(text) == v)
        }
    }
}
