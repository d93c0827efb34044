import Foundation
import Testing
import MonaTensor
@testable import MonaFormats

@Suite struct NumPyTests {
    @Test(arguments: [[Int](), [0], [5], [2, 3, 4], [1, 0, 3]])
    func npyRoundTrip(shape: [Int]) throws {
        var g = SeededGenerator(seed: 3)
        let t = Tensor.randomNormal(shape, generator: &g)
        let bytes = NumPyArray.encode(t)
        // Header padded so the data starts on a 64-byte boundary, ending in a newline (as NumPy writes).
        let headerLength = Int(bytes.littleEndianInteger(at: 8, as: UInt16.self))
        #expect((10 + headerLength) % 64 == 0)
        #expect(bytes[10 + headerLength - 1] == 0x0A)
        #expect(sameTensor(try NumPyArray.decode(bytes), t))
    }

    @Test func headerTextMatchesNumPy() {
        let text = { (shape: [Int]) in
            String(decoding: NumPyArray.header(for: shape).dropFirst(10), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(text([3]) == "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }")
        #expect(text([]) == "{'descr': '<f4', 'fortran_order': False, 'shape': (), }")
        #expect(text([2, 3]) == "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")
    }

    @Test func saveAndLoadFiles() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2])
        let url = dir.appendingPathComponent("feat.npy")
        try NumPyArray.save(t, to: url)
        #expect(sameTensor(try NumPyArray.load(contentsOf: url), t))
        #expect(try TensorFile.format(of: url) == .npy)
        #expect(try TensorFile.inspect(contentsOf: url).tensors == [TensorInfo(name: "feat", dtype: "F32", shape: [3, 2])])
        #expect(sameTensor(try TensorFile.load(contentsOf: url)["feat"], t))

        let npz = dir.appendingPathComponent("arrays.npz")
        try NumPyArchive.save(["x": t, "y": Tensor(2)], to: npz)
        let back = try NumPyArchive.load(contentsOf: npz)
        #expect(sameTensor(back["x"], t) && sameTensor(back["y"], Tensor(2)))
        #expect(try NumPyArchive.inspect(contentsOf: npz).names == ["x", "y"])
        #expect(try TensorFile.format(of: npz) == .npz)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == ["feat.npy", "arrays.npz"])
    }

    @Test func readsVersionsTwoAndThree() throws {
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        for version: UInt8 in [2, 3] {
            #expect(try NumPyArray.decode(npyBytes(dict, floatBytes([1.5, -2]), version: version)).scalars == [1.5, -2])
        }
    }

    @Test func readsOtherDtypesAndByteOrders() throws {
        func decode(_ descr: String, _ shape: String, _ data: [UInt8]) throws -> Tensor {
            try NumPyArray.decode(npyBytes("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }", data))
        }
        #expect(try decode("<f8", "(2,)", le((0.5).bitPattern) + le((-3.0).bitPattern)).scalars == [0.5, -3])
        #expect(try decode(">f8", "(1,)", Array(le((6.25).bitPattern).reversed())).scalars == [6.25])
        #expect(try decode(">f4", "(1,)", Array(le(Float(-1.25).bitPattern).reversed())).scalars == [-1.25])
        #expect(try decode("<i8", "(2,)", le(Int64(-7)) + le(Int64(1 << 40))).scalars == [-7, Float(1 << 40)])
        #expect(try decode("<i4", "(1,)", le(Int32(-9))).scalars == [-9])
        #expect(try decode(">i4", "(1,)", Array(le(Int32(300)).reversed())).scalars == [300])
        #expect(try decode("|u1", "(3,)", [0, 7, 255]).scalars == [0, 7, 255])
        #expect(try decode("|b1", "(2,)", [1, 0]).scalars == [1, 0])
        #expect(try decode("<f2", "(2,)", le(UInt16(0x3800)) + le(UInt16(0xFBFF))).scalars == [0.5, -65504])
        #expect(try decode("|i1", "()", [0xFE]).shape == [])
    }

    @Test func transposesFortranOrder() throws {
        // NumPy stores np.asfortranarray([[0,1,2],[3,4,5]]) column by column: 0 3 1 4 2 5.
        let bytes = npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", floatBytes([0, 3, 1, 4, 2, 5]))
        #expect(sameTensor(try NumPyArray.decode(bytes), Tensor([0, 1, 2, 3, 4, 5], shape: [2, 3])))
        // Rank 3: element (i, j, k) at i + 2j + 4k.
        var column = [Float](repeating: 0, count: 8)
        for i in 0..<2 { for j in 0..<2 { for k in 0..<2 { column[i + 2 * j + 4 * k] = Float(100 * i + 10 * j + k) } } }
        let t = try NumPyArray.decode(npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2), }", floatBytes(column)))
        #expect(t.scalars == [0, 1, 10, 11, 100, 101, 110, 111])
    }

    @Test func readsCompressedNPZWrittenByNumPy() throws {
        let t = try NumPyArchive.decode(PythonFixtures.compressedNPZ, file: "fixture.npz")
        #expect(sameTensor(t["a"], Tensor([0, 1, 2, 3, 4, 5], shape: [2, 3])))
        #expect(sameTensor(t["b"], Tensor([1, -2, 3])))
        #expect(sameTensor(t["fortran"], Tensor([0, 1, 2, 3, 4, 5], shape: [2, 3])))
        #expect(sameTensor(t["big"], Tensor([1.5, -2])))
        #expect(sameTensor(t["flags"], Tensor([1, 0])))
        #expect(sameTensor(t["half"], Tensor([0.5, -65504])))
        #expect(sameTensor(t["scalar"], Tensor(4.25)))
        #expect(t.count == 7)
    }

    @Test func npzMembersKeepArchiveOrderAndDeflatedMembersWork() throws {
        let members = [("zeta.npy", NumPyArray.encode(Tensor([1]))), ("alpha.npy", NumPyArray.encode(Tensor([2, 3])))]
        let bytes = try ZipMembers.archiveData(members.map { (path: $0.0, data: $0.1) }, deflated: true, file: "<test>")
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("o.npz")
        try bytes.write(to: url)
        #expect(try NumPyArchive.inspect(contentsOf: url).names == ["zeta", "alpha"])
        #expect(try NumPyArchive.load(contentsOf: url)["alpha"]?.scalars == [2, 3])
    }

    // MARK: Hostile and broken files

    @Test func rejectsTruncatedFiles() throws {
        let good = NumPyArray.encode(Tensor([1, 2, 3, 4]))
        expectFormatError("truncated", "needs 16 data bytes") { _ = try NumPyArray.decode(good.prefix(good.count - 3)) }
        expectFormatError("truncated") { _ = try NumPyArray.decode(good.prefix(40)) }
        expectFormatError("too short") { _ = try NumPyArray.decode(good.prefix(7)) }
        expectFormatError("unexpected bytes") { _ = try NumPyArray.decode(good + Data([0])) }
    }

    @Test func rejectsWrongDtypeStrings() {
        for descr in ["<c8", "float32", "<U5", "|O", "<f3", "<f16", "<M8[ns]"] {
            let bytes = npyBytes("{'descr': '\(descr)', 'fortran_order': False, 'shape': (1,), }", [UInt8](repeating: 0, count: 16))
            expectFormatError("dtype '\(descr)'") { _ = try NumPyArray.decode(bytes, name: "x") }
        }
        expectFormatError("'|'") {
            _ = try NumPyArray.decode(npyBytes("{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0]))
        }
        expectFormatError("structured") {
            _ = try NumPyArray.decode(npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0]))
        }
    }

    @Test func rejectsBadHeaders() {
        expectFormatError("magic") { _ = try NumPyArray.decode(Data(Array("NUMPY-NOT-REALLY".utf8))) }
        expectFormatError("version 4.0") {
            var b = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0])
            b[6] = 4
            _ = try NumPyArray.decode(b)
        }
        let cases: [(String, String)] = [
            ("{'descr': '<f4', 'shape': (1,), }", "fortran_order"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "non-negative"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unexpected header key 'extra'"),
            ("{'descr': '<f4', 'fortran_order': 'no', 'shape': (1,), }", "fortran_order"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': __import__('os').system('x'), }", "malformed header"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "malformed header"),
            ("[1, 2]", "not a dict"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", "elements"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (999999999999999999999999,), }", "malformed header"),
        ]
        for (dict, fragment) in cases {
            expectFormatError(fragment) { _ = try NumPyArray.decode(npyBytes(dict, [0, 0, 0, 0]), name: "arr") }
        }
    }

    @Test func rejectsBrokenArchives() throws {
        expectFormatError("zip") { _ = try NumPyArchive.decode(Data("not a zip at all".utf8)) }
        let notNPY = try ZipMembers.archiveData([(path: "readme.txt", data: Data("hi".utf8))], file: "<test>")
        expectFormatError("'readme.txt'", "not a .npy") { _ = try NumPyArchive.decode(notNPY) }
        let broken = try ZipMembers.archiveData([(path: "w.npy", data: Data([0x93, 0x4E]))], file: "<test>")
        expectFormatError("array 'w'", "too short") { _ = try NumPyArchive.decode(broken) }
        // Flip a data byte inside a stored member: the CRC check notices.
        var corrupted = try ZipMembers.archiveData([(path: "w.npy", data: NumPyArray.encode(Tensor([1, 2])))], file: "<test>")
        let dataStart = 30 + "w.npy".utf8.count + 64
        corrupted[dataStart] ^= 0xFF
        expectFormatError("CRC") { _ = try NumPyArchive.decode(corrupted) }
    }
}
