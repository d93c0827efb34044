import Foundation
import Testing
import MonaTensor
@testable import MonaFormats

@Suite struct TorchCheckpointTests {
    @Test func readsCheckpointWrittenByTorchSave() throws {
        let t = try TorchCheckpoint.decode(PythonFixtures.torchCheckpoint, file: "fixture.pt")
        #expect(sameTensor(t["model.weight"], Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])))
        #expect(sameTensor(t["model.bias"], Tensor([-1, 0.5])))
        #expect(sameTensor(t["half"], Tensor([1, -2.5, 65504, 0x1p-24])))
        #expect(sameTensor(t["bf16"], Tensor([1, -3, 0.15625])))
        #expect(sameTensor(t["long"], Tensor([-Float(1 << 40), 7])))
        #expect(sameTensor(t["mask"], Tensor([1, 0, 1])))
        #expect(sameTensor(t["double"], Tensor([0.25, -8], shape: [2, 1])))
        // arange(12).reshape(3, 4).t(): a transposed view of a shared storage.
        #expect(sameTensor(t["transposed"], Tensor([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], shape: [4, 3])))
        #expect(sameTensor(t["slice"], Tensor([2, 5, 8])))
        #expect(sameTensor(t["param"], Tensor([9, 8])))
        #expect(sameTensor(t["nested.list.0"], Tensor([1.5])))
        #expect(sameTensor(t["nested.list.1"], Tensor(2.5)))
        #expect(t["step"] == nil && t["nested.note"] == nil)
        #expect(t.count == 12)

        let listing = try TorchCheckpoint.inspect(PythonFixtures.torchCheckpoint, file: "fixture.pt")
        #expect(listing.names == ["model.weight", "model.bias", "half", "bf16", "long", "mask", "double",
                                  "transposed", "slice", "param", "nested.list.0", "nested.list.1"])
        #expect(listing.tensors[2] == TensorInfo(name: "half", dtype: "F16", shape: [4]))
        #expect(listing.tensors[4].dtype == "I64" && listing.tensors[5].dtype == "BOOL")
    }

    @Test func loadsFromFileAndRecognisesTheFormat() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("fixture.pt")
        try PythonFixtures.torchCheckpoint.write(to: url)
        #expect(try TensorFile.format(of: url) == .pytorch)
        #expect(try TensorFile.load(contentsOf: url).count == 12)
        #expect(try TensorFile.inspect(contentsOf: url).format == .pytorch)
    }

    /// A checkpoint `{"w": <tensor>}` built from hand-written opcodes.
    func singleTensor(count: Int, offset: Int = 0, size: [Int], stride: [Int], storage: String = "FloatStorage",
                      data: [UInt8], byteorder: String = "little") throws -> Data {
        var p = PickleBuilder()
        p.raw(0x7D); p.mark(); p.string("w")
        p.tensor(key: "0", storage: storage, count: count, offset: offset, size: size, stride: stride)
        p.raw(0x75); p.stop()
        return try torchZip(pickle: p.bytes, storages: ["0": data], byteorder: byteorder)
    }

    @Test func materialisesStridedViews() throws {
        let data = floatBytes((0..<6).map(Float.init))
        // Broadcast view (stride 0), offset + step, and a 2-D transpose.
        #expect(try TorchCheckpoint.decode(singleTensor(count: 6, offset: 4, size: [3], stride: [0], data: data))["w"]?.scalars == [4, 4, 4])
        #expect(try TorchCheckpoint.decode(singleTensor(count: 6, offset: 1, size: [3], stride: [2], data: data))["w"]?.scalars == [1, 3, 5])
        let tr = try TorchCheckpoint.decode(singleTensor(count: 6, size: [3, 2], stride: [1, 3], data: data))["w"]
        #expect(sameTensor(tr, Tensor([0, 3, 1, 4, 2, 5], shape: [3, 2])))
        #expect(try TorchCheckpoint.decode(singleTensor(count: 6, size: [0, 4], stride: [4, 1], data: data))["w"]?.shape == [0, 4])
    }

    @Test func honoursBigEndianByteOrder() throws {
        let data = Array(le(Float(2.5).bitPattern).reversed())
        #expect(try TorchCheckpoint.decode(singleTensor(count: 1, size: [], stride: [], data: data, byteorder: "big"))["w"]?.item == 2.5)
        expectFormatError("byteorder") { _ = try TorchCheckpoint.decode(singleTensor(count: 1, size: [], stride: [], data: data, byteorder: "middle")) }
    }

    @Test func rootTensorAndStackGlobal() throws {
        var p = PickleBuilder()
        // STACK_GLOBAL form of the rebuild function, as protocol 4 writes it.
        p.raw(0x8C, 12); p.bytes += Array("torch._utils".utf8); p.raw(0x8C, 18); p.bytes += Array("_rebuild_tensor_v2".utf8); p.raw(0x93)
        p.mark()
        p.mark(); p.string("storage"); p.global("torch", "HalfStorage"); p.string("k"); p.string("cpu"); p.int(2); p.raw(0x74, 0x51)
        p.int(0); p.intTuple([2]); p.intTuple([1]); p.raw(0x89); p.raw(0x7D)
        p.raw(0x74, 0x52); p.stop()
        let bytes = try torchZip(pickle: p.bytes, storages: ["k": le(UInt16(0x3C00)) + le(UInt16(0x4000))])
        #expect(try TorchCheckpoint.decode(bytes)["tensor"]?.scalars == [1, 2])
    }

    // MARK: Hostile and broken checkpoints

    @Test(arguments: [("os", "system"), ("builtins", "eval"), ("posix", "system"), ("subprocess", "Popen"),
                      ("torch", "load"), ("collections", "defaultdict"), ("__builtin__", "exec")])
    func rejectsForbiddenGlobals(module: String, name: String) throws {
        // The classic exploit: GLOBAL os.system, ('echo pwned',), REDUCE.
        var p = PickleBuilder()
        p.global(module, name); p.mark(); p.string("touch /tmp/mona-pwned"); p.raw(0x74, 0x52); p.stop()
        let bytes = try torchZip(pickle: p.bytes, storages: [:])
        expectFormatError("forbidden global '\(module).\(name)'") { _ = try TorchCheckpoint.decode(bytes, file: "evil.pt") }
        // Same via STACK_GLOBAL.
        var q = PickleBuilder()
        q.string(module); q.string(name); q.raw(0x93); q.mark(); q.string("x"); q.raw(0x74, 0x52); q.stop()
        expectFormatError("forbidden global '\(module).\(name)'") {
            _ = try TorchCheckpoint.decode(try torchZip(pickle: q.bytes, storages: [:]))
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/mona-pwned"))
    }

    @Test func rejectsInstanceCreationOpcodes() throws {
        var p = PickleBuilder()
        p.global("collections", "OrderedDict"); p.raw(0x29, 0x81); p.stop()   // NEWOBJ
        expectFormatError("not supported") { _ = try TorchCheckpoint.decode(try torchZip(pickle: p.bytes, storages: [:])) }
        var q = PickleBuilder()
        q.mark(); q.bytes += [0x69] + Array("os\nsystem\n".utf8); q.stop()    // INST os.system
        expectFormatError("forbidden global 'os.system'") { _ = try TorchCheckpoint.decode(try torchZip(pickle: q.bytes, storages: [:])) }
        var r = PickleBuilder()
        r.global("torch", "Size"); r.mark(); r.string("x"); r.raw(0x74, 0x52); r.stop()
        expectFormatError("torch.Size") { _ = try TorchCheckpoint.decode(try torchZip(pickle: r.bytes, storages: [:])) }
    }

    @Test func rejectsViewsOutsideTheStorage() throws {
        let data = floatBytes([0, 1, 2, 3])
        expectFormatError("tensor 'w'", "reaches element 4") {
            _ = try TorchCheckpoint.decode(try singleTensor(count: 4, offset: 2, size: [3], stride: [1], data: data))
        }
        expectFormatError("tensor 'w'", "elements") {
            _ = try TorchCheckpoint.decode(try singleTensor(count: 4, size: [1 << 40, 1 << 40], stride: [0, 0], data: data))
        }
        expectFormatError("tensor 'w'", "stride") {
            _ = try TorchCheckpoint.decode(try singleTensor(count: 4, size: [2, 2], stride: [1], data: data))
        }
        expectFormatError("tensor 'w'", "negative") {
            _ = try TorchCheckpoint.decode(try singleTensor(count: 4, size: [2], stride: [-1], data: data))
        }
        expectFormatError("tensor 'w'", "negative storage offset") {
            _ = try TorchCheckpoint.decode(try singleTensor(count: 4, offset: -1, size: [1], stride: [1], data: data))
        }
    }

    @Test func rejectsMissingOrMissizedStorages() throws {
        expectFormatError("tensor 'w'", "holds 8 bytes", "needs 16") {
            _ = try TorchCheckpoint.decode(try singleTensor(count: 4, size: [2], stride: [1], data: floatBytes([1, 2])))
        }
        var p = PickleBuilder()
        p.raw(0x7D); p.string("w"); p.tensor(key: "9", count: 1, size: [1], stride: [1]); p.raw(0x73); p.stop()
        expectFormatError("tensor 'w'", "archive/data/9", "missing") {
            _ = try TorchCheckpoint.decode(try torchZip(pickle: p.bytes, storages: [:]))
        }
        expectFormatError("forbidden global 'torch.ComplexFloatStorage'") {
            _ = try TorchCheckpoint.decode(try singleTensor(count: 1, size: [1], stride: [1], storage: "ComplexFloatStorage", data: [0, 0, 0, 0]))
        }
        expectFormatError("not a torch storage type") {
            _ = try TorchCheckpoint.decode(try singleTensor(count: 1, size: [1], stride: [1], storage: "float32", data: [0, 0, 0, 0]))
        }
    }

    @Test func rejectsMalformedPickles() throws {
        func decode(_ pickle: [UInt8]) throws { _ = try TorchCheckpoint.decode(try torchZip(pickle: pickle, storages: [:])) }
        expectFormatError("runs past the end") { try decode([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F]) }   // BINUNICODE
        expectFormatError("truncated") { try decode([0x80, 0x02, 0x4A, 0x01]) }   // BININT missing 3 bytes
        expectFormatError("without STOP") { try decode([0x80, 0x02, 0x4E]) }
        expectFormatError("unknown opcode 0xff") { try decode([0x80, 0x02, 0xFF]) }
        expectFormatError("stack underflow") { try decode([0x80, 0x02, 0x30, 0x2E]) }
        expectFormatError("memo index 5") { try decode([0x80, 0x02, 0x68, 0x05, 0x2E]) }
        expectFormatError("APPEND to a non-list") { try decode([0x80, 0x02, 0x4E, 0x4E, 0x61, 0x2E]) }
        expectFormatError("no MARK") { try decode([0x80, 0x02, 0x74, 0x2E]) }
        expectFormatError("STOP with 2 values") { try decode([0x80, 0x02, 0x4E, 0x4E, 0x2E]) }
        expectFormatError("REDUCE calls a str") { try decode([0x80, 0x02, 0x8C, 0x01, 0x61, 0x29, 0x52, 0x2E]) }
        expectFormatError("persistent id") { try decode([0x80, 0x02, 0x4E, 0x51, 0x2E]) }
        expectFormatError("UTF-8") { try decode([0x80, 0x02, 0x8C, 0x02, 0xC3, 0x28, 0x2E]) }
    }

    @Test func survivesDeepNestingAndCycles() throws {
        // 200 000 nested 1-tuples: no stack overflow while parsing, flattening or freeing.
        var deep = PickleBuilder()
        deep.raw(0x4E)
        deep.bytes += [UInt8](repeating: 0x85, count: 200_000)
        deep.stop()
        expectFormatError("deeper than") { _ = try TorchCheckpoint.decode(try torchZip(pickle: deep.bytes, storages: [:])) }
        // A list that contains itself.
        let cyclic: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E]   // [] PUT0 GET0 APPEND STOP
        expectFormatError("deeper than") { _ = try TorchCheckpoint.decode(try torchZip(pickle: cyclic, storages: [:])) }
    }

    @Test func nonTensorPicklesGiveAnEmptyStateDict() throws {
        // {'a': 1, 'b': [None, True, 2.5, b'xy', 2**70]} — valid, but holds no tensors.
        var p = PickleBuilder()
        p.raw(0x7D); p.mark(); p.string("a"); p.int(1); p.string("b")
        p.raw(0x5D); p.mark(); p.raw(0x4E, 0x88); p.raw(0x47); p.bytes += Array(le((2.5).bitPattern).reversed())
        p.raw(0x43, 2, 0x78, 0x79); p.raw(0x8A, 9); p.bytes += [0, 0, 0, 0, 0, 0, 0, 0, 0x40]
        p.raw(0x65, 0x75); p.stop()
        #expect(try TorchCheckpoint.decode(try torchZip(pickle: p.bytes, storages: [:])).isEmpty)
    }

    @Test func rejectsNonCheckpoints() throws {
        expectFormatError("legacy") { _ = try TorchCheckpoint.decode(Data([0x80, 0x02, 0x8A, 0x0A])) }
        expectFormatError("zip") { _ = try TorchCheckpoint.decode(Data("garbage".utf8)) }
        let npz = try ZipMembers.archiveData([(path: "a.npy", data: NumPyArray.encode(Tensor([1])))], file: "<test>")
        expectFormatError("data.pkl") { _ = try TorchCheckpoint.decode(npz) }
    }
}

extension TorchCheckpointTests {
    @Test func oneStorageReadWithTwoTypesStaysInBounds() throws {
        // The same member as 1 float and as 4 bytes: each view is checked and materialised on its own terms.
        var p = PickleBuilder()
        p.raw(0x7D); p.mark()
        p.string("f"); p.tensor(key: "0", count: 1, size: [1], stride: [1])
        p.string("b"); p.tensor(key: "0", storage: "ByteStorage", count: 4, size: [4], stride: [1])
        p.raw(0x75); p.stop()
        let t = try TorchCheckpoint.decode(try torchZip(pickle: p.bytes, storages: ["0": floatBytes([1])]))
        #expect(t["f"]?.scalars == [1])
        #expect(t["b"]?.scalars == [0, 0, 0x80, 0x3F])
    }
}
