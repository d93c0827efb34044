import Foundation
import MonaData
import MonaRunKit
import Testing
@testable import MonaTransfer

@Suite struct ProtocolVersionTests {
    @Test func savedConfigsCarryTheProtocol() throws {
        let config = BenchRecordTests.config()
        #expect(config.protocolVersion == FitConfig.currentProtocol && FitConfig.currentProtocol == 2)
        let pairs = try config.pairs()
        #expect(pairs.contains { $0.0 == "protocol" && $0.1 == .number(2) })
        #expect(try FitConfig.saved(pairs: pairs) == config)
        // A configuration saved before the key existed is of protocol 1, so it no longer matches.
        let old = pairs.filter { $0.0 != "protocol" }
        #expect(try FitConfig.saved(pairs: old).protocolVersion == 1)
        #expect(try FitConfig.saved(pairs: old) != config)
        // A configuration the user writes without the key is of the current protocol.
        #expect(try FitConfig(pairs: old) == config)
    }

    @Test func onlyTheCurrentProtocolRuns() throws {
        let c = try FitConfig(pairs: [("task", .string("gunpoint")), ("protocol", .number(1))])
        #expect(c.protocolVersion == 1)
        do {
            try c.validate()
            Issue.record("protocol 1 should be refused")
        } catch {
            #expect("\(error)".contains("protocol: 1") && "\(error)".contains("accepted: 2"))
        }
    }

    @Test func recordsOfAnOlderProtocolAreStale() throws {
        let tmp = TemporaryDirectory()
        let run = tmp.url.appendingPathComponent("runs/gunpoint/finetune/seed3", isDirectory: true)
        let config = BenchRecordTests.config()
        try BenchRecordTests.fakeRun(in: run, config: config)
        try BenchRecordManifest.write(runDirectory: run, task: "gunpoint", method: "finetune", config: config,
                                      checkpointsKept: false)
        #expect(BenchRecordManifest.matches(runDirectory: run, config: config))
        // The same record written before the protocol key existed.
        let file = BenchRecordManifest.folder(in: run).appendingPathComponent("config.yaml")
        try ConfigFile.write(try config.pairs().filter { $0.0 != "protocol" }, to: file)
        #expect(!BenchRecordManifest.matches(runDirectory: run, config: config))
    }

    @Test func testRecordRoundTrips() throws {
        let fields: [(String, RunValue)] = [
            ("stage", .string("finetune")), ("epoch", .number(4)), ("step", .number(40)), ("split", .string("test")),
            ("test_loss", .number(0.25)), ("test_accuracy", .number(0.9)), ("test_f1", .number(0.8)),
            ("selected_epoch", .number(3)), ("selected_on", .string("val_accuracy")), ("test_final_loss", .number(0.3)),
            ("test_final_accuracy", .number(0.85)),
        ]
        let record = try #require(TestRecord(fields: fields))
        #expect(record.metrics.map(\.key) == ["accuracy", "f1"] && record.metrics[0].value == 0.9)
        #expect(record.finalMetrics.map(\.key) == ["accuracy"] && record.finalLoss == 0.3)
        #expect(record.selectedEpoch == 3 && record.selectedOn == "val_accuracy" && record.epoch == 4 && record.step == 40)
        // Written back: the same fields in the same order.
        let written = record.fields.map { key, value -> (String, RunValue) in
            switch value {
            case .number(let x): return (key, .number(x))
            case .text(let s): return (key, .string(s))
            }
        }
        #expect(written.map(\.0) == fields.map(\.0))
        #expect(zip(written, fields).allSatisfy { $0.1 == $1.1 })
        #expect(TestRecord(fields: [("split", .string("validation")), ("test_accuracy", .number(1))]) == nil)
    }
}
