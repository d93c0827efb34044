import Foundation
import Testing
@testable import MonaRunKit

@Suite struct ConfigFileTests {
    @Test func loadsNestedListsNumbersAndStrings() throws {
        let yaml = """
            # a run configuration
            seed: 0
            task: gunpoint
            optimizer:
              name: adamw
              lr: 1e-4
              betas: [0.9, 0.999]
              schedule:
                warmup: 100
            quoted_number: "42"
            id: 007
            flag: true
            yes_is_a_string: yes
            nothing: ~
            empty:
            infinite: .inf
            negative: -3.5
            big: 1_000
            layers:
              - 1
              - name: head
                size: 2
            text: |
              two
              lines
            empty_map: {}
            """
        let config = try ConfigFile.parse(yaml, source: "run.yaml")
        #expect(config.map(\.0) == [
            "seed", "task", "optimizer.name", "optimizer.lr", "optimizer.betas", "optimizer.schedule.warmup",
            "quoted_number", "id", "flag", "yes_is_a_string", "nothing", "empty", "infinite", "negative", "big",
            "layers", "text", "empty_map",
        ])
        let value = { (key: String) in ConfigFile.value(key, in: config) }
        #expect(value("seed") == 0)
        #expect(value("task") == "gunpoint")
        #expect(value("optimizer.lr") == 0.0001)
        #expect(value("optimizer.betas") == [0.9, 0.999])
        #expect(value("optimizer.schedule.warmup") == 100)
        #expect(value("quoted_number") == "42")
        #expect(value("id") == "007")
        #expect(value("flag") == true)
        #expect(value("yes_is_a_string") == "yes")
        #expect(value("nothing") == nil as RunValue)
        #expect(value("empty") == .null)
        #expect(value("infinite") == .number(.infinity))
        #expect(value("negative") == -3.5)
        #expect(value("big") == 1000)
        #expect(value("layers") == [1, ["name": "head", "size": 2]])
        #expect(value("text") == "two\nlines\n")
        #expect(value("empty_map") == .object([]))
    }

    @Test func badYAMLNamesFileAndLine() throws {
        let broken = "a: 1\nb: [1, 2\nc: 3\n"
        let error = #expect(throws: RunError.self) { try ConfigFile.parse(broken, source: "cfg.yaml") }
        #expect(error?.description.hasPrefix("cfg.yaml:") == true)
        #expect(error?.description.contains("invalid YAML") == true)
        let tabs = "a:\n\tb: 1\n"
        let tabError = #expect(throws: RunError.self) { try ConfigFile.parse(tabs, source: "t.yaml") }
        #expect(tabError?.description.hasPrefix("t.yaml:2") == true)
    }

    @Test func duplicateAndNonMappingErrorsNameTheKey() throws {
        let duplicate = "optimizer:\n  lr: 0.1\noptimizer.lr: 0.2\n"
        let error = #expect(throws: RunError.self) { try ConfigFile.parse(duplicate, source: "d.yaml") }
        #expect(error?.description.contains("d.yaml:3") == true)
        #expect(error?.description.contains("optimizer.lr") == true)
        #expect(error?.description.contains("line 2") == true)
        let list = #expect(throws: RunError.self) { try ConfigFile.parse("- 1\n- 2\n", source: "l.yaml") }
        #expect(list?.description.contains("l.yaml") == true)
        let merge = "base: &b\n  lr: 1\nrun:\n  <<: *b\n  seed: 2\n"
        let mergeError = #expect(throws: RunError.self) { try ConfigFile.parse(merge, source: "m.yaml") }
        #expect(mergeError?.description.hasPrefix("m.yaml:4") == true)
        let alias = try ConfigFile.parse("sizes: &s [1, 2]\nother: *s\n", source: "a.yaml")
        #expect(ConfigFile.value("other", in: alias) == [1, 2])
        #expect(try ConfigFile.parse("", source: "e.yaml").isEmpty)
        #expect(try ConfigFile.parse("# only a comment\n", source: "e.yaml").isEmpty)
    }

    @Test func writeThenLoadRoundTrips() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config: [(String, RunValue)] = [
            ("seed", 0), ("task", "gunpoint"), ("optimizer.name", "adamw"), ("optimizer.lr", 0.0001),
            ("optimizer.betas", [0.9, 0.999]), ("model.body", "minilm-l6"), ("optimizer.wd", 0.01),  // not adjacent
            ("model", "clash"),  // also used as a prefix
            ("looks.like.number", "1e-4"), ("bool_string", "true"), ("yes", "no"), ("date", "2024-01-01"),
            ("path", "/data/ucr/GunPoint_TRAIN.ts"), ("dir", "./runs/x"), ("spaces", " padded "),
            ("special", "a: b # c, [d] {e} & * ! | > ' \" % @ `"), ("unicode", "é – 日本"), ("newline", "a\nb"),
            ("empty", ""), ("null", .null), ("nan", .number(.nan)), ("inf", .number(-.infinity)),
            ("tiny", 1e-12), ("huge", 1e300), ("int", 123456789), ("negative", -2.5),
            ("list", [1, "two", true, nil, [3, 4], ["k": "v"]]), ("empty_list", []), ("empty_map", .object([])),
            ("weird key: x", 1), ("a..b", 2), ("deep.er.est", 3),
        ]
        let url = dir.appendingPathComponent("config.yaml")
        try ConfigFile.write(config, to: url)
        let loaded = try ConfigFile.load(url)
        #expect(loaded.map(\.0) == config.map(\.0))
        for ((key, expected), (_, actual)) in zip(config, loaded) {
            #expect(actual == expected, "\(key): wrote \(expected.json), read \(actual.json)")
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains("optimizer:\n  name: adamw\n  lr: 1.0e-4\n") || text.contains("optimizer:\n  name: adamw\n  lr: 0.0001\n"))
        #expect(text.contains("optimizer.wd: 0.01\n"))
        #expect(text.contains("deep:\n  er:\n    est: 3\n"))
    }

    @Test func writeRejectsDuplicateKeys() {
        #expect(throws: RunError.self) { try ConfigFile.yaml([("a", 1), ("a", 2)]) }
    }

    @Test func missingFileIsAnErrorNamingIt() {
        let error = #expect(throws: RunError.self) {
            try ConfigFile.load(URL(fileURLWithPath: "/nonexistent/dir/config.yaml"))
        }
        #expect(error?.description.contains("/nonexistent/dir/config.yaml") == true)
    }
}
