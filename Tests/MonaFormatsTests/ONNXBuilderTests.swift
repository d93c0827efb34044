import Foundation
import Testing
@testable import MonaFormats

/// Writes protobuf wire format, to build ONNX files by hand in tests.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func key(_ field: Int, _ wire: UInt8) { varint(UInt64(field) << 3 | UInt64(wire)) }
    mutating func int(_ field: Int, _ value: Int64) { key(field, 0); varint(UInt64(bitPattern: value)) }
    mutating func fixed32(_ field: Int, _ value: UInt32) {
        key(field, 5)
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
    mutating func fixed64(_ field: Int, _ value: UInt64) {
        key(field, 1)
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
    mutating func data(_ field: Int, _ payload: [UInt8]) {
        key(field, 2)
        varint(UInt64(payload.count))
        bytes += payload
    }
    mutating func string(_ field: Int, _ s: String) { data(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ m: ProtobufWriter) { data(field, m.bytes) }
    mutating func packedVarints(_ field: Int, _ values: [Int64]) {
        var inner = ProtobufWriter()
        for v in values { inner.varint(UInt64(bitPattern: v)) }
        data(field, inner.bytes)
    }
    mutating func packedFloats(_ field: Int, _ values: [Float]) {
        var payload: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { payload += $0 } }
        data(field, payload)
    }
}

/// Hand-built ONNX messages.
enum ONNXBuilder {
    static func rawBytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    /// A TensorProto. Exactly one of the payload arguments is normally given.
    static func tensor(_ name: String, _ dims: [Int64], type: Int64 = 1, raw: [UInt8]? = nil, floats: [Float]? = nil,
                       int32s: [Int64]? = nil, int64s: [Int64]? = nil, doubles: [Double]? = nil,
                       externalLocation: String? = nil) -> ProtobufWriter {
        var t = ProtobufWriter()
        if !dims.isEmpty { t.packedVarints(1, dims) }
        t.int(2, type)
        if let floats { t.packedFloats(4, floats) }
        if let int32s { t.packedVarints(5, int32s) }
        if let int64s { t.packedVarints(7, int64s) }
        t.string(8, name)
        if let raw { t.data(9, raw) }
        if let doubles {
            var payload: [UInt8] = []
            for d in doubles { withUnsafeBytes(of: d.bitPattern.littleEndian) { payload += $0 } }
            t.data(10, payload)
        }
        if let externalLocation {
            var entry = ProtobufWriter()
            entry.string(1, "location")
            entry.string(2, externalLocation)
            t.message(13, entry)
            t.int(14, 1)
        }
        return t
    }

    static func floatTensor(_ name: String, _ dims: [Int64], _ values: [Float]) -> ProtobufWriter {
        tensor(name, dims, raw: rawBytes(values))
    }

    static func attribute(_ name: String, int: Int64? = nil, ints: [Int64]? = nil, float: Float? = nil,
                          tensor: ProtobufWriter? = nil) -> ProtobufWriter {
        var a = ProtobufWriter()
        a.string(1, name)
        if let float { a.fixed32(2, float.bitPattern); a.int(20, 1) }
        if let int { a.int(3, int); a.int(20, 2) }
        if let tensor { a.message(5, tensor); a.int(20, 4) }
        if let ints { a.packedVarints(8, ints); a.int(20, 7) }
        return a
    }

    static func node(_ op: String, _ name: String, _ inputs: [String], _ outputs: [String],
                     _ attributes: [ProtobufWriter] = []) -> ProtobufWriter {
        var n = ProtobufWriter()
        for i in inputs { n.string(1, i) }
        for o in outputs { n.string(2, o) }
        n.string(3, name)
        n.string(4, op)
        for a in attributes { n.message(5, a) }
        return n
    }

    /// ValueInfoProto with a tensor type; dims are Int (fixed) or String (symbolic).
    static func valueInfo(_ name: String, elementType: Int64 = 1, dims: [Any]) -> ProtobufWriter {
        var shape = ProtobufWriter()
        for d in dims {
            var dim = ProtobufWriter()
            if let v = d as? Int { dim.int(1, Int64(v)) } else if let s = d as? String { dim.string(2, s) }
            shape.message(1, dim)
        }
        var tensorType = ProtobufWriter()
        tensorType.int(1, elementType)
        tensorType.message(2, shape)
        var type = ProtobufWriter()
        type.message(1, tensorType)
        var v = ProtobufWriter()
        v.string(1, name)
        v.message(2, type)
        return v
    }

    static func model(opset: Int64 = 17, nodes: [ProtobufWriter] = [], initializers: [ProtobufWriter] = [],
                      inputs: [ProtobufWriter] = [], outputs: [ProtobufWriter] = []) -> Data {
        var g = ProtobufWriter()
        for n in nodes { g.message(1, n) }
        g.string(2, "test_graph")
        for t in initializers { g.message(5, t) }
        for i in inputs { g.message(11, i) }
        for o in outputs { g.message(12, o) }
        var opsetID = ProtobufWriter()
        opsetID.string(1, "")
        opsetID.int(2, opset)
        var m = ProtobufWriter()
        m.int(1, 8)
        m.string(2, "hand")
        m.string(3, "1.0")
        m.message(7, g)
        m.message(8, opsetID)
        return Data(m.bytes)
    }
}

@Test func builderRoundTripsAMinimalModel() throws {
    let data = ONNXBuilder.model(
        opset: 14,
        nodes: [ONNXBuilder.node("Add", "/add", ["x", "b"], ["y"])],
        initializers: [ONNXBuilder.floatTensor("b", [2], [1, 2])],
        inputs: [ONNXBuilder.valueInfo("x", dims: ["batch", 2])],
        outputs: [ONNXBuilder.valueInfo("y", dims: ["batch", 2])])
    let m = try ONNXModel(data: data, file: "mini.onnx")
    #expect(m.opset == 14)
    #expect(m.irVersion == 8)
    #expect(m.producerName == "hand")
    #expect(m.graphName == "test_graph")
    #expect(m.inputs.first?.name == "x")
    #expect(m.inputs.first?.shape == [.symbolic("batch"), .value(2)])
    #expect(m.inputs.first?.elementType == .float)
    #expect(m.outputs.map(\.name) == ["y"])
    #expect(m.nodes.count == 1 && m.nodes[0].opType == "Add" && m.nodes[0].inputs == ["x", "b"])
    #expect(try m.tensor(named: "b").scalars == [1, 2])
    #expect(m.producer(of: "y")?.name == "/add")
    #expect(m.consumers(of: "b").map(\.name) == ["/add"])
}
