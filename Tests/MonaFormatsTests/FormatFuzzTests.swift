import Foundation
import Testing
import MonaTensor
@testable import MonaFormats

/// Mutated and truncated versions of valid files must either load or throw a `FormatError` — never crash, hang
/// or throw anything else. Deterministic (seeded), so a failure reproduces.
@Suite struct FormatFuzzTests {
    static func mutations(of data: Data, seed: UInt64, count: Int) -> [Data] {
        var g = SeededGenerator(seed: seed)
        var out: [Data] = []
        for k in 0..<count {
            var d = data
            switch k % 4 {
            case 0:   // flip a few random bytes
                for _ in 0..<(1 + Int(g.next() % 3)) {
                    let i = Int(g.next() % UInt64(d.count))
                    d[i] ^= UInt8(truncatingIfNeeded: g.next() | 1)
                }
            case 1:   // truncate
                d = d.prefix(Int(g.next() % UInt64(d.count)))
            case 2:   // set a byte to an extreme value
                let i = Int(g.next() % UInt64(d.count))
                d[i] = [0x00, 0xFF, 0x7F, 0x80][Int(g.next() % 4)]
            default:  // overwrite four bytes (length fields) with a large value
                let i = Int(g.next() % UInt64(max(d.count - 4, 1)))
                for j in 0..<min(4, d.count - i) { d[i + j] = j == 3 ? 0x7F : 0xFF }
            }
            out.append(d)
        }
        return out
    }

    static func survives(_ body: () throws -> Void) -> Bool {
        do { try body(); return true } catch is FormatError { return true } catch { return false }
    }

    @Test func safetensorsMutations() throws {
        let good = try SafeTensors.encode(["a": Tensor([1, 2, 3]), "b": Tensor.zeros([2, 2])], metadata: ["k": "v"])
        for m in Self.mutations(of: good, seed: 1, count: 3000) {
            #expect(Self.survives { _ = try SafeTensors.decode(m) })
        }
        for m in Self.mutations(of: PythonFixtures.mixedSafetensors, seed: 2, count: 2000) {
            #expect(Self.survives { _ = try SafeTensors.decode(m) })
        }
    }

    @Test func npyMutations() {
        let good = NumPyArray.encode(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]))
        for m in Self.mutations(of: good, seed: 3, count: 3000) {
            #expect(Self.survives { _ = try NumPyArray.decode(m) })
        }
    }

    @Test func npzMutations() throws {
        let stored = try ZipMembers.archiveData([(path: "a.npy", data: NumPyArray.encode(Tensor([1, 2, 3]))),
                                                 (path: "b.npy", data: NumPyArray.encode(Tensor(4)))], file: "<test>")
        for m in Self.mutations(of: stored, seed: 6, count: 2000) {
            #expect(Self.survives { _ = try NumPyArchive.decode(m) })
        }
        for m in Self.mutations(of: PythonFixtures.compressedNPZ, seed: 7, count: 2000) {
            #expect(Self.survives { _ = try NumPyArchive.decode(m) })
        }
    }

    @Test func torchCheckpointMutations() throws {
        // Stored (uncompressed) members only, like torch.save writes them.
        for m in Self.mutations(of: PythonFixtures.torchCheckpoint, seed: 4, count: 2000) {
            #expect(Self.survives { _ = try TorchCheckpoint.decode(m) })
        }
    }

    @Test func pickleMutations() throws {
        // Mutate the pickle itself (inside a valid zip) to exercise the unpickler.
        var p = PickleBuilder()
        p.raw(0x7D); p.mark(); p.string("w")
        p.tensor(key: "0", count: 6, offset: 1, size: [2, 2], stride: [1, 2])
        p.string("n"); p.raw(0x5D); p.mark(); p.int(1); p.raw(0x4E); p.raw(0x65)
        p.raw(0x75); p.stop()
        let pickle = Data(p.bytes)
        let storage = floatBytes([0, 1, 2, 3, 4, 5])
        #expect(try TorchCheckpoint.decode(torchZip(pickle: p.bytes, storages: ["0": storage]))["w"]?.scalars == [1, 3, 2, 4])
        for m in Self.mutations(of: pickle, seed: 5, count: 2000) {
            let zip = try torchZip(pickle: Array(m), storages: ["0": storage])
            #expect(Self.survives { _ = try TorchCheckpoint.decode(zip) })
        }
    }
}
