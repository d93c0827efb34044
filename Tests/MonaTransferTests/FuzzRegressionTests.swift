import Foundation
import MonaFuzzHarnesses
import Testing

/// Replays every input the fuzzers ever found (Tests/Fixtures/fuzz-regressions/<harness>/) and every seed
/// (Tests/Fixtures/fuzz-seeds/<harness>/) through the same harnesses scripts/fuzz.sh runs: each must return or
/// throw. A trap, an overflow or an unbounded allocation would end this test process, so the bug stays fixed.
@Suite struct FuzzRegressionTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures", isDirectory: true)

    func inputs(_ folder: String) throws -> [(harness: String, file: URL)] {
        let root = Self.fixtures.appendingPathComponent(folder, isDirectory: true)
        let fm = FileManager.default
        guard fm.fileExists(atPath: root.path) else { return [] }
        var out: [(String, URL)] = []
        for harness in try fm.contentsOfDirectory(atPath: root.path).sorted() where !harness.hasPrefix(".") {
            let dir = root.appendingPathComponent(harness, isDirectory: true)
            for name in try fm.contentsOfDirectory(atPath: dir.path).sorted() where !name.hasPrefix(".") {
                out.append((harness, dir.appendingPathComponent(name)))
            }
        }
        return out
    }

    @Test func savedFindingsAndSeedsNeverCrashTheirHarness() throws {
        let known = Dictionary(uniqueKeysWithValues: Harnesses.all.map { ($0.name, $0.run) })
        let cases = try inputs("fuzz-regressions") + inputs("fuzz-seeds")
        #expect(cases.count >= 10, "the seed corpus is missing")
        var accepted = 0
        for (harness, file) in cases {
            let run = try #require(known[harness], "\(file.path): no harness named '\(harness)'")
            do {
                try run([UInt8](try Data(contentsOf: file)))
                accepted += 1
            } catch {
                // A clean rejection is fine: the finding was a crash, not a refusal.
            }
        }
        #expect(accepted > 0, "no seed was accepted: the harnesses no longer read their formats")
    }

    @Test func everyHarnessHasSeeds() throws {
        let seeded = Set(try inputs("fuzz-seeds").map(\.harness))
        let unseeded = Harnesses.all.map(\.name).filter { !seeded.contains($0) }
        // Text formats are seeded from the loader fixtures by scripts/fuzz.sh instead.
        let fromFixtures: Set = ["ts", "arff", "ucr", "csv", "idx", "fasta", "wav"]
        #expect(unseeded.filter { !fromFixtures.contains($0) }.isEmpty, "harnesses without seeds: \(unseeded)")
    }
}
