import Foundation
import MonaTensor

/// A node attribute. Only the kinds checkpoint loading needs are decoded; subgraphs are skipped.
public enum ONNXAttribute: Sendable {
    case float(Float)
    case int(Int64)
    case string(String)
    case tensor(ONNXTensorInfo)
    case floats([Float])
    case ints([Int64])
    case strings([String])
    /// A graph, sparse tensor, type proto or list thereof: present but not decoded.
    case unsupported(type: Int64)

    public var intValue: Int64? { if case .int(let v) = self { v } else { nil } }
    public var floatValue: Float? { if case .float(let v) = self { v } else { nil } }
    public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
    public var intsValue: [Int64]? { if case .ints(let v) = self { v } else { nil } }
    public var tensorValue: ONNXTensorInfo? { if case .tensor(let v) = self { v } else { nil } }
}

/// One operation of the graph.
public struct ONNXNode: Sendable {
    public let name: String
    public let opType: String
    /// Operator set domain ("" for the default ONNX domain).
    public let domain: String
    /// Input value names; an empty string marks an omitted optional input.
    public let inputs: [String]
    public let outputs: [String]
    public let attributes: [String: ONNXAttribute]
}

/// A graph input or output: its name, element type and shape (symbolic dimensions by name).
public struct ONNXValueInfo: Sendable {
    public enum Dimension: Sendable, Equatable, CustomStringConvertible {
        case value(Int)
        case symbolic(String)
        case unknown
        public var description: String {
            switch self {
            case .value(let v): "\(v)"
            case .symbolic(let s): s
            case .unknown: "?"
            }
        }
    }
    public let name: String
    public let elementType: ONNXDataType?
    /// nil when the shape is not given at all.
    public let shape: [Dimension]?
}

/// The parts of an ONNX model file that checkpoint loading needs: graph initializers, nodes, inputs, outputs and
/// opsets. The reader is self-contained (no protobuf library) and treats the file as untrusted.
///
/// Tensors are not converted up front: `initializers` describe them and `tensor(named:)` converts one to Float32
/// on demand. The file is memory-mapped where possible; tensor payloads are slices of it.
public struct ONNXModel: Sendable {
    /// The path (or label) used in error messages.
    public let file: String
    public let irVersion: Int64
    public let producerName: String
    public let producerVersion: String
    /// Operator set versions by domain ("" is the default ONNX domain).
    public let opsets: [String: Int64]
    public let graphName: String
    /// Graph initializers in file order.
    public let initializers: [ONNXTensorInfo]
    /// Graph nodes in file (topological) order.
    public let nodes: [ONNXNode]
    public let inputs: [ONNXValueInfo]
    public let outputs: [ONNXValueInfo]

    let initializerIndex: [String: Int]
    let producerIndex: [String: Int]
    let consumerIndex: [String: [Int]]

    /// The default-domain opset version, if declared.
    public var opset: Int64? { opsets[""] ?? opsets["ai.onnx"] }

    /// Reads a model file.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw FormatError(file: url.path, "cannot read the file: \(error.localizedDescription)")
        }
        try self.init(data: data, file: url.path)
    }

    /// Parses a model from bytes; `file` names them in errors.
    public init(data input: Data, file: String = "<memory>") throws {
        // Payload slices are taken relative to startIndex 0.
        let data = input.startIndex == 0 ? input : Data(input)
        self.file = file
        var ir: Int64 = 0
        var producer = "", producerVersion = ""
        var opsets: [String: Int64] = [:]
        var graph: ParsedGraph?
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var reader = ProtobufReader(bytes: buffer, file: file)
            while let field = try reader.nextField() {
                switch field.number {
                case 1: ir = try reader.readInt64(field, "ModelProto.ir_version")
                case 2: producer = try reader.readString(field, "ModelProto.producer_name")
                case 3: producerVersion = try reader.readString(field, "ModelProto.producer_version")
                case 7:
                    guard graph == nil else { throw reader.error("ModelProto holds more than one graph") }
                    var sub = try reader.readMessage(field, "ModelProto.graph")
                    graph = try ParsedGraph.parse(&sub, source: data)
                case 8:
                    var sub = try reader.readMessage(field, "ModelProto.opset_import")
                    var domain = "", version: Int64 = 0
                    while let f = try sub.nextField() {
                        switch f.number {
                        case 1: domain = try sub.readString(f, "OperatorSetIdProto.domain")
                        case 2: version = try sub.readInt64(f, "OperatorSetIdProto.version")
                        default: try sub.skip(f)
                        }
                    }
                    opsets[domain] = version
                default: try reader.skip(field)
                }
            }
        }
        guard let g = graph else { throw FormatError(file: file, "not an ONNX model: no graph found") }
        irVersion = ir
        producerName = producer
        self.producerVersion = producerVersion
        self.opsets = opsets
        graphName = g.name
        initializers = g.initializers
        nodes = g.nodes
        inputs = g.inputs
        outputs = g.outputs

        var index: [String: Int] = [:]
        for (i, t) in g.initializers.enumerated() where !t.name.isEmpty { index[t.name] = i }
        initializerIndex = index
        var producers: [String: Int] = [:]
        var consumers: [String: [Int]] = [:]
        for (i, n) in g.nodes.enumerated() {
            for o in n.outputs where !o.isEmpty { producers[o] = i }
            for v in n.inputs where !v.isEmpty { consumers[v, default: []].append(i) }
        }
        producerIndex = producers
        consumerIndex = consumers
    }

    // MARK: Look-ups

    /// The initializer called `name`, if any.
    public func initializer(named name: String) -> ONNXTensorInfo? {
        initializerIndex[name].map { initializers[$0] }
    }

    /// The initializer called `name` as a Float32 tensor.
    public func tensor(named name: String) throws -> Tensor {
        guard let info = initializer(named: name) else {
            throw FormatError(file: file, "no initializer named '\(name)'")
        }
        return try info.tensor()
    }

    /// The node that produces value `name`, if any.
    public func producer(of name: String) -> ONNXNode? { producerIndex[name].map { nodes[$0] } }

    /// The nodes that read value `name`, in graph order.
    public func consumers(of name: String) -> [ONNXNode] { (consumerIndex[name] ?? []).map { nodes[$0] } }
}

/// The graph fields we read, before they are moved into `ONNXModel`.
private struct ParsedGraph {
    var name = ""
    var initializers: [ONNXTensorInfo] = []
    var nodes: [ONNXNode] = []
    var inputs: [ONNXValueInfo] = []
    var outputs: [ONNXValueInfo] = []

    static func parse(_ reader: inout ProtobufReader, source: Data) throws -> ParsedGraph {
        var g = ParsedGraph()
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                var sub = try reader.readMessage(field, "GraphProto.node")
                g.nodes.append(try parseNode(&sub, source: source))
            case 2: g.name = try reader.readString(field, "GraphProto.name")
            case 5:
                var sub = try reader.readMessage(field, "GraphProto.initializer")
                g.initializers.append(try ONNXTensorInfo.parse(&sub, source: source))
            case 11:
                var sub = try reader.readMessage(field, "GraphProto.input")
                g.inputs.append(try parseValueInfo(&sub))
            case 12:
                var sub = try reader.readMessage(field, "GraphProto.output")
                g.outputs.append(try parseValueInfo(&sub))
            case 15:
                throw reader.error("sparse initializers are not supported")
            default: try reader.skip(field)
            }
        }
        return g
    }

    static func parseNode(_ reader: inout ProtobufReader, source: Data) throws -> ONNXNode {
        var inputs: [String] = [], outputs: [String] = []
        var name = "", opType = "", domain = ""
        var attributes: [String: ONNXAttribute] = [:]
        while let field = try reader.nextField() {
            switch field.number {
            case 1: inputs.append(try reader.readString(field, "NodeProto.input"))
            case 2: outputs.append(try reader.readString(field, "NodeProto.output"))
            case 3: name = try reader.readString(field, "NodeProto.name")
            case 4: opType = try reader.readString(field, "NodeProto.op_type")
            case 5:
                var sub = try reader.readMessage(field, "NodeProto.attribute")
                let (key, value) = try parseAttribute(&sub, source: source)
                attributes[key] = value
            case 7: domain = try reader.readString(field, "NodeProto.domain")
            default: try reader.skip(field)
            }
        }
        return ONNXNode(name: name, opType: opType, domain: domain, inputs: inputs, outputs: outputs,
                        attributes: attributes)
    }

    /// AttributeProto: the `type` field (20) says which value field holds the value; files from old exporters
    /// omit it, so the kind is otherwise inferred from the field that was present.
    static func parseAttribute(_ reader: inout ProtobufReader, source: Data) throws -> (String, ONNXAttribute) {
        var name = ""
        var declared: Int64?
        var f: Float?, i: Int64?, s: String?, t: ONNXTensorInfo?
        var floats: [Float] = [], ints: [UInt64] = [], strings: [String] = []
        var other: Int64?
        while let field = try reader.nextField() {
            switch field.number {
            case 1: name = try reader.readString(field, "AttributeProto.name")
            case 2: f = try reader.readFloat(field, "AttributeProto.f")
            case 3: i = try reader.readInt64(field, "AttributeProto.i")
            case 4: s = try reader.readString(field, "AttributeProto.s")
            case 5:
                var sub = try reader.readMessage(field, "AttributeProto.t")
                t = try ONNXTensorInfo.parse(&sub, source: source)
            case 7: try reader.readRepeatedFloats(field, into: &floats, "AttributeProto.floats")
            case 8: try reader.readRepeatedVarints(field, into: &ints, "AttributeProto.ints")
            case 9: strings.append(try reader.readString(field, "AttributeProto.strings"))
            case 20: declared = try reader.readInt64(field, "AttributeProto.type")
            case 6, 10, 11, 14, 15, 22, 23:
                other = Int64(field.number)
                try reader.skip(field)
            default: try reader.skip(field)
            }
        }
        let value: ONNXAttribute
        switch declared {
        case 1: value = .float(f ?? 0)
        case 2: value = .int(i ?? 0)
        case 3: value = .string(s ?? "")
        case 4: value = t.map { .tensor($0) } ?? .unsupported(type: 4)
        case 6: value = .floats(floats)
        case 7: value = .ints(ints.map { Int64(bitPattern: $0) })
        case 8: value = .strings(strings)
        case .some(let k): value = .unsupported(type: k)
        case nil:
            if let t { value = .tensor(t) }
            else if let f { value = .float(f) }
            else if let i { value = .int(i) }
            else if let s { value = .string(s) }
            else if !floats.isEmpty { value = .floats(floats) }
            else if !ints.isEmpty { value = .ints(ints.map { Int64(bitPattern: $0) }) }
            else if !strings.isEmpty { value = .strings(strings) }
            else { value = .unsupported(type: other ?? 0) }
        }
        return (name, value)
    }

    /// ValueInfoProto {name = 1, type = 2}; TypeProto.tensor_type = 1 {elem_type = 1, shape = 2};
    /// TensorShapeProto.dim = 1 {dim_value = 1, dim_param = 2}.
    static func parseValueInfo(_ reader: inout ProtobufReader) throws -> ONNXValueInfo {
        var name = ""
        var elementType: ONNXDataType?
        var shape: [ONNXValueInfo.Dimension]?
        while let field = try reader.nextField() {
            switch field.number {
            case 1: name = try reader.readString(field, "ValueInfoProto.name")
            case 2:
                var type = try reader.readMessage(field, "ValueInfoProto.type")
                while let tf = try type.nextField() {
                    guard tf.number == 1 else { try type.skip(tf); continue }
                    var tensorType = try type.readMessage(tf, "TypeProto.tensor_type")
                    while let ttf = try tensorType.nextField() {
                        switch ttf.number {
                        case 1:
                            let code = try tensorType.readInt64(ttf, "TypeProto.Tensor.elem_type")
                            elementType = ONNXDataType(rawValue: Int32(truncatingIfNeeded: code))
                        case 2:
                            var shapeReader = try tensorType.readMessage(ttf, "TypeProto.Tensor.shape")
                            var dims: [ONNXValueInfo.Dimension] = []
                            while let sf = try shapeReader.nextField() {
                                guard sf.number == 1 else { try shapeReader.skip(sf); continue }
                                var dim = try shapeReader.readMessage(sf, "TensorShapeProto.dim")
                                var d = ONNXValueInfo.Dimension.unknown
                                while let df = try dim.nextField() {
                                    switch df.number {
                                    case 1:
                                        let v = try dim.readInt64(df, "Dimension.dim_value")
                                        d = v >= 0 && v <= Int64(Int32.max) ? .value(Int(v)) : .unknown
                                    case 2: d = .symbolic(try dim.readString(df, "Dimension.dim_param"))
                                    default: try dim.skip(df)
                                    }
                                }
                                dims.append(d)
                            }
                            shape = dims
                        default: try tensorType.skip(ttf)
                        }
                    }
                }
            default: try reader.skip(field)
            }
        }
        return ONNXValueInfo(name: name, elementType: elementType, shape: shape)
    }
}
