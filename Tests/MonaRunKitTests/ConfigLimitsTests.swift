import Foundation
import Testing
@testable import MonaRunKit

/// Hostile configurations end in one line naming the file, never in a crash, exhausted memory or a long wait.
@Suite struct ConfigLimitsTests {
    private func error(_ yaml: String, source: String = "c.yaml") -> String? {
        do {
            _ = try ConfigFile.parse(yaml, source: source)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func deepNestingIsAnError() throws {
        let flow = "z: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        let message = error(flow)
        #expect(message == "c.yaml:1: nesting deeper than \(YAMLDocument.maxDepth) levels")
        // Block style, one space per level (12 MB, under the size limit).
        let block = (0..<5000).map { String(repeating: " ", count: $0) + "k\($0):\n" }.joined() + String(repeating: " ", count: 5000) + "v: 1\n"
        #expect(error(block)?.hasPrefix("c.yaml:6") == true)   // near line 64, where the limit is crossed
        #expect(error(block)?.contains("nesting deeper") == true)
        // Just inside the limit is fine (the top-level mapping is level 1).
        let n = YAMLDocument.maxDepth - 1
        let ok = try ConfigFile.parse("z: " + String(repeating: "[", count: n) + String(repeating: "]", count: n), source: "c.yaml")
        #expect(ok.count == 1)
    }

    @Test func aliasesCannotNestPastTheLimitEither() {
        // Each alias level adds depth without adding text.
        var lines = ["a0: &a0 [[[[[[[[[[1]]]]]]]]]]"]
        for i in 1..<10 { lines.append("a\(i): &a\(i) [[[[[[[[[[*a\(i - 1)]]]]]]]]]]") }
        #expect(error(lines.joined(separator: "\n"))?.contains("nesting deeper") == true)
    }

    @Test func aliasBombIsAnError() {
        // A "billion laughs" document: 9^9 values from about 600 bytes.
        var lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for i in 1..<10 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]") }
        let bomb = lines.joined(separator: "\n")
        #expect(bomb.utf8.count < 700)
        let message = error(bomb, source: "bomb.yaml")
        #expect(message?.hasPrefix("bomb.yaml:") == true)
        #expect(message?.contains("aliases expand to more than \(YAMLDocument.maxAliasExpansion) values") == true)
        // Ordinary reuse of an anchor still works.
        #expect(error("base: &b {lr: 1, wd: 2}\nrun: *b\nagain: [*b, *b]\n") == nil)
    }

    @Test func sizeIsLimited() throws {
        let big = String(repeating: "# padding\n", count: YAMLDocument.maxBytes / 10 + 1)
        #expect(error(big, source: "big.yaml")?.hasPrefix("big.yaml: the configuration is") == true)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mona-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("big.yaml")
        try Data(big.utf8).write(to: url)
        let loadError = #expect(throws: RunError.self) { try ConfigFile.load(url) }
        #expect(loadError?.description.contains("MiB limit") == true)
        #expect(loadError?.description.hasPrefix(url.path) == true)
    }

    @Test func largeConfigsOfEveryShapeParse() throws {
        // Shapes that were quadratic before (a long mapping inside a list) or recursive (long lists). Timing
        // is measured outside the tests; here the results are checked.
        let n = 20_000
        let keys = (0..<n).map { "key\($0): \($0)\n" }.joined()
        #expect(try ConfigFile.parse(keys, source: "k.yaml").count == n)
        let flowMap = "l:\n  - {" + (0..<n).map { "k\($0): \($0)" }.joined(separator: ", ") + "}\n"
        let parsed = try ConfigFile.parse(flowMap, source: "m.yaml")
        #expect(parsed.first?.1.arrayValue?.first?.objectValue?.count == n)
        let list = "xs: [" + (0..<n).map(String.init).joined(separator: ", ") + "]\n"
        #expect(try ConfigFile.parse(list, source: "l.yaml").first?.1.arrayValue?.count == n)
        #expect(error("l:\n  - {a: 1, b: 2, a: 3}\n")?.contains("duplicate key 'a' inside 'l'") == true)
    }

    @Test func otherStructuralErrorsNameTheFile() {
        #expect(error("a: 1\n---\nb: 2\n")?.hasPrefix("c.yaml:2: invalid YAML") == true)
        #expect(error("a: *nowhere\n")?.hasPrefix("c.yaml:1: invalid YAML: alias *nowhere") == true)
        #expect(error("[1, 2]\n")?.hasPrefix("c.yaml:1: expected a mapping") == true)
    }
}
