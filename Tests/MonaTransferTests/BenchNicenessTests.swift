import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import MonaBench
import MonaFormats
import Testing
@testable import MonaTransfer

#if os(Linux)
/// `nice mona bench --jobs 2`: every child runs at the bench's nice value, also those spawned from Dispatch's
/// worker threads (which start at the process default on Linux, where a nice value belongs to a thread).
@Suite(.serialized) struct BenchNicenessTests {
    @Test func childrenInheritTheBenchThreadsNiceValue() throws {
        guard assetsPresent(BenchRunnerTests.needed, test: "childrenInheritTheBenchThreadsNiceValue") else { return }
        let dir = TemporaryDirectory()
        // A stand-in for `mona fit`: writes the nice value it was started with (field 19 of /proc/self/stat)
        // into the run directory it is given (`fit --config C --output DIR …`), then fails.
        let fake = dir.url.appendingPathComponent("fake-mona")
        try "#!/bin/sh\nmkdir -p \"$5\" && cut -d' ' -f19 /proc/self/stat > \"$5/nice\"\nexit 1\n"
            .write(to: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        var suite = BenchSuite.micro
        suite.tasks = [suite.tasks[0]]
        suite.seeds = [0, 1, 2]   // 6 cells over 2 jobs: both workers spawn
        let cells = suite
        let out = dir.url.appendingPathComponent("bench", isDirectory: true)
        let assets = AssetRegistry(root: repositoryAssets)
        // On a thread of its own, since a raised nice value cannot be lowered again without privileges.
        let base = ThreadNiceness.current()
        let target = min(base + 3, 19)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcomes: [BenchRunOutcome] = []
        nonisolated(unsafe) var failure: Error?
        let thread = Thread {
            ThreadNiceness.raise(to: target)
            do { outcomes = try BenchRunner(suite: cells, output: out, assets: assets, jobs: 2, executable: fake).run() }
            catch { failure = error }
            done.signal()
        }
        thread.start()
        done.wait()
        if let failure { throw failure }
        #expect(outcomes.count == 6 && outcomes.allSatisfy { $0.status == .failed })
        // A failed attempt is retried from scratch only when it was a resume; each cell ran once here.
        let values = try outcomes.map { o -> Int32 in
            let text = try String(contentsOf: o.directory.appendingPathComponent("nice"), encoding: .utf8)
            return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -100
        }
        #expect(values == Array(repeating: target, count: 6), "nice values of the children: \(values), bench thread: \(target)")
    }
}
#endif
