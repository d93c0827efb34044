import Foundation
import MonaTensor
import Testing
@testable import MonaData

/// Every loader on randomly damaged versions of every fixture: whatever the bytes, a loader returns or throws,
/// it never traps (a trap would abort the test process).
@Suite struct LoaderFuzzTests {
    @Test func damagedFixturesNeverCrashAnyLoader() throws {
        let dir = fixture("")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasSuffix(".py") }.sorted()
        #expect(names.count > 20)
        var g = SeededGenerator(seed: 2024)
        for name in names {
            let original = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
            for round in 0..<40 {
                var b = original
                if !b.isEmpty {
                    for _ in 0..<(1 + Int(g.next() % 3)) {
                        let specials: [UInt8] = [0, 10, 13, 34, 39, 44, 58, 62, 63, 64, 92, 123, 255]
                        let value = g.next() % 2 == 0 ? specials[Int(g.next() % UInt64(specials.count))]
                                                      : UInt8(truncatingIfNeeded: g.next())
                        b[Int(g.next() % UInt64(b.count))] = value
                    }
                    if round % 4 == 0 { b = Array(b.prefix(Int(g.next() % UInt64(b.count + 1)))) }
                }
                let f = "fuzz-\(name)"
                _ = try? TSFile.load(bytes: b, file: f)
                _ = try? UCRTextFile.load(bytes: b, file: f)
                _ = try? ARFFFile.load(bytes: b, file: f)
                _ = try? CSVTable.read(bytes: b, file: f).dataset(label: 0)
                _ = try? IDXFile.read(bytes: b, file: f)
                _ = try? FASTAFile.read(bytes: b, file: f)
                _ = try? WAVFile.read(bytes: b, file: f)
                _ = try? Gzip.decompress(b, file: f)
            }
        }
    }
}
