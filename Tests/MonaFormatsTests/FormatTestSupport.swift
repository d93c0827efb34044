import Foundation
import Testing
import MonaTensor
@testable import MonaFormats

/// Runs `body` and checks that it throws a `FormatError` whose message contains every fragment.
func expectFormatError(_ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a FormatError mentioning \(fragments)", sourceLocation: sourceLocation)
    } catch let error as FormatError {
        for f in fragments where !error.message.contains(f) {
            Issue.record("FormatError '\(error.description)' does not mention '\(f)'", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a FormatError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// A fresh empty directory under the system temporary directory.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("mona-formats-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Little-endian bytes of an integer.
func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

/// Bytes of a safetensors file from header text and the data buffer.
func safetensorsBytes(_ header: String, _ data: [UInt8]) -> Data {
    let h = Array(header.utf8)
    return Data(le(UInt64(h.count)) + h + data)
}

/// Bytes of a `.npy` file from the header dict text (padded here) and the data; `version` 1, 2 or 3.
func npyBytes(_ dict: String, _ data: [UInt8], version: UInt8 = 1) -> Data {
    var h = Array(dict.utf8)
    let prefix = version == 1 ? 10 : 12
    while (prefix + h.count + 1) % 64 != 0 { h.append(0x20) }
    h.append(0x0A)
    let length = version == 1 ? le(UInt16(h.count)) : le(UInt32(h.count))
    return Data([0x93] + Array("NUMPY".utf8) + [version, 0] + length + h + data)
}

func floatBytes(_ xs: [Float]) -> [UInt8] { xs.flatMap { le($0.bitPattern) } }

/// Builds pickle opcodes the way `torch.save` (protocol 2) writes them.
struct PickleBuilder {
    var bytes: [UInt8] = [0x80, 0x02]

    mutating func raw(_ b: UInt8...) { bytes += b }
    mutating func string(_ s: String) { bytes += [0x58] + le(UInt32(s.utf8.count)) + Array(s.utf8) }
    /// BININT for 32-bit values, LONG1 (8 bytes) otherwise — as pickle does.
    mutating func int(_ v: Int) {
        if let small = Int32(exactly: v) { bytes += [0x4A] + le(small) } else { bytes += [0x8A, 8] + le(Int64(v)) }
    }
    mutating func global(_ module: String, _ name: String) { bytes += [0x63] + Array("\(module)\n\(name)\n".utf8) }
    mutating func mark() { bytes.append(0x28) }
    mutating func intTuple(_ xs: [Int]) { mark(); for x in xs { int(x) }; raw(0x74) }

    /// `_rebuild_tensor_v2(('storage', torch.<storage>, key, 'cpu', count), offset, size, stride, False, OrderedDict())`
    mutating func tensor(key: String, storage: String = "FloatStorage", count: Int, offset: Int = 0,
                         size: [Int], stride: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        mark(); string("storage"); global("torch", storage); string(key); string("cpu"); int(count); raw(0x74)
        raw(0x51)                                    // BINPERSID
        int(offset); intTuple(size); intTuple(stride)
        raw(0x89)                                    // NEWFALSE
        global("collections", "OrderedDict"); raw(0x29, 0x52)   // OrderedDict()
        raw(0x74, 0x52)                              // TUPLE, REDUCE
    }

    mutating func stop() { raw(0x2E) }
}

/// A torch-style zip: `archive/data.pkl`, `archive/byteorder`, `archive/data/<key>` members.
func torchZip(pickle: [UInt8], storages: [String: [UInt8]], byteorder: String = "little") throws -> Data {
    var members: [(path: String, data: Data)] = [("archive/data.pkl", Data(pickle)), ("archive/byteorder", Data(byteorder.utf8))]
    for key in storages.keys.sorted() { members.append(("archive/data/" + key, Data(storages[key]!))) }
    members.append(("archive/version", Data("3\n".utf8)))
    return try ZipMembers.archiveData(members, file: "<test>")
}

/// Compares tensors exactly (shape and bit-for-bit values, NaN equal to NaN).
func sameTensor(_ a: Tensor?, _ b: Tensor) -> Bool {
    guard let a, a.shape == b.shape else { return false }
    return zip(a.scalars, b.scalars).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
}
