import Foundation
import MonaTensor
import Testing
@testable import MonaFormats

/// A .pt whose views describe far more elements than its storages hold must be refused before anything is
/// allocated (a stride-0 view over one float could otherwise ask for 2³⁰ floats from an 800-byte file).
@Suite struct ViewBudgetTests {
    func checkpoint(size: [Int], stride: [Int], count: Int) throws -> Data {
        var p = PickleBuilder()
        p.raw(0x7D); p.mark(); p.string("w")
        p.tensor(key: "0", count: count, size: size, stride: stride)
        p.raw(0x75); p.stop()
        return try torchZip(pickle: p.bytes, storages: ["0": floatBytes((0..<count).map(Float.init))])
    }

    @Test func strideZeroExpansionIsRefused() throws {
        let data = try checkpoint(size: [1 << 30], stride: [0], count: 1)
        do {
            _ = try TorchCheckpoint.decode(data, file: "expand.pt")
            Issue.record("a 2^30-element view over one float was accepted")
        } catch let e as FormatError {
            #expect(e.file == "expand.pt")
            #expect(e.message.contains("more memory than the file holds"), "\(e)")
        }
    }

    @Test func smallBroadcastAndTiedViewsStillLoad() throws {
        // A few repeated rows (stride 0 on a short axis) stay within the budget.
        let t = try TorchCheckpoint.decode(try checkpoint(size: [3, 4], stride: [0, 1], count: 4))
        #expect(t["w"]?.shape == [3, 4])
        #expect(t["w"]?.scalars == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
    }
}
