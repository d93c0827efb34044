import CYaml

/// A YAML document as a tree of scalars, sequences and mappings, composed from libyaml's parse events with
/// limits, so a hostile configuration ends in a one-line error instead of a crash or exhausted memory:
/// - `maxBytes`: the text's size;
/// - `maxDepth`: nesting, counted through aliases (the composer and every reader of the tree recurse);
/// - `maxAliasExpansion`: the values aliases may add in total once expanded (a "billion laughs" document is
///   a few hundred bytes whose aliases expand to billions of values).
/// Composition is linear in the text's size. Tags are ignored: values are resolved from the scalar style.
struct YAMLDocument {
    static let maxBytes = 16 << 20
    static let maxDepth = 64
    static let maxAliasExpansion = 1_000_000

    enum Content {
        /// `plain` is false for quoted and block scalars, which are always strings.
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        case mapping([(key: YAMLNode, value: YAMLNode)])
    }

    struct YAMLNode {
        var content: Content
        /// 1-based line where the node starts.
        var line: Int
        /// Values in this subtree with its aliases expanded, and its nesting height (a scalar has height 1).
        var expandedCount: Int
        var height: Int
    }

    /// Composes the single document in `text` (nil for an empty stream); `source` names it in errors.
    static func compose(_ text: String, source: String) throws -> YAMLNode? {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxBytes else {
            throw RunError(file: source, "the configuration is \(bytes.count) bytes, above the \(maxBytes >> 20) MiB limit")
        }
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else { throw RunError(file: source, "invalid YAML: out of memory") }
        defer { yaml_parser_delete(parser) }
        return try bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            var composer = Composer(parser: parser, bytes: buffer, source: source)
            return try composer.document()
        }
    }

    private struct Composer {
        let parser: UnsafeMutablePointer<yaml_parser_t>
        let bytes: UnsafeBufferPointer<UInt8>
        let source: String
        var anchors: [String: YAMLNode] = [:]
        var aliasExpansion = 0

        init(parser: UnsafeMutablePointer<yaml_parser_t>, bytes: UnsafeBufferPointer<UInt8>, source: String) {
            self.parser = parser
            self.bytes = bytes
            self.source = source
        }

        /// The next event; the caller owns it and deletes it with `yaml_event_delete`.
        mutating func next() throws -> yaml_event_t {
            var event = yaml_event_t()
            guard yaml_parser_parse(parser, &event) == 1 else { throw parseError() }
            return event
        }

        mutating func document() throws -> YAMLNode? {
            var event = try next()
            yaml_event_delete(&event)   // stream start
            event = try next()
            defer { yaml_event_delete(&event) }
            guard event.type == YAML_DOCUMENT_START_EVENT else { return nil }   // empty stream
            var first = try next()
            let root = try node(from: &first, depth: 1)
            var end = try next()
            yaml_event_delete(&end)   // document end
            var after = try next()
            defer { yaml_event_delete(&after) }
            guard after.type == YAML_STREAM_END_EVENT else {
                throw RunError("\(source):\(after.start_mark.line + 1): invalid YAML: a configuration holds one document, this file has more")
            }
            return root
        }

        /// Composes the node that `event` starts (and deletes the event).
        mutating func node(from event: inout yaml_event_t, depth: Int) throws -> YAMLNode {
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            guard depth <= YAMLDocument.maxDepth else { throw tooDeep(line) }
            switch event.type {
            case YAML_ALIAS_EVENT:
                let name = string(event.data.alias.anchor)
                guard let target = anchors[name] else {
                    throw RunError("\(source):\(line): invalid YAML: alias *\(name) names no anchor defined before it")
                }
                guard depth - 1 + target.height <= YAMLDocument.maxDepth else { throw tooDeep(line) }
                aliasExpansion += target.expandedCount
                guard aliasExpansion <= YAMLDocument.maxAliasExpansion else {
                    throw RunError("\(source):\(line): aliases expand to more than \(YAMLDocument.maxAliasExpansion) values (an alias bomb?)")
                }
                return target
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let text = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
                let n = YAMLNode(content: .scalar(text, plain: s.style == YAML_PLAIN_SCALAR_STYLE), line: line,
                                 expandedCount: 1, height: 1)
                remember(n, anchor: s.anchor)
                return n
            case YAML_SEQUENCE_START_EVENT:
                var items: [YAMLNode] = []
                var count = 1, height = 1
                while true {
                    var e = try next()
                    if e.type == YAML_SEQUENCE_END_EVENT { yaml_event_delete(&e); break }
                    let item = try node(from: &e, depth: depth + 1)
                    count += item.expandedCount
                    height = max(height, item.height + 1)
                    items.append(item)
                }
                let n = YAMLNode(content: .sequence(items), line: line, expandedCount: count, height: height)
                remember(n, anchor: event.data.sequence_start.anchor)
                return n
            case YAML_MAPPING_START_EVENT:
                var pairs: [(key: YAMLNode, value: YAMLNode)] = []
                var count = 1, height = 1
                while true {
                    var e = try next()
                    if e.type == YAML_MAPPING_END_EVENT { yaml_event_delete(&e); break }
                    let key = try node(from: &e, depth: depth + 1)
                    var v = try next()
                    let value = try node(from: &v, depth: depth + 1)
                    count += key.expandedCount + value.expandedCount
                    height = max(height, key.height + 1, value.height + 1)
                    pairs.append((key, value))
                }
                let n = YAMLNode(content: .mapping(pairs), line: line, expandedCount: count, height: height)
                remember(n, anchor: event.data.mapping_start.anchor)
                return n
            default:
                throw RunError("\(source):\(line): invalid YAML: unexpected event \(event.type.rawValue)")
            }
        }

        mutating func remember(_ node: YAMLNode, anchor: UnsafeMutablePointer<yaml_char_t>?) {
            guard let anchor else { return }
            anchors[string(anchor)] = node
        }

        func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String {
            guard let p else { return "" }
            return String(cString: p)
        }

        func tooDeep(_ line: Int) -> RunError {
            RunError("\(source):\(line): nesting deeper than \(YAMLDocument.maxDepth) levels")
        }

        /// libyaml's error in the form `file:line:column: invalid YAML: problem (context at line N)`.
        func parseError() -> RunError {
            let p = parser.pointee
            let problem = p.problem.map { String(cString: $0) } ?? "unknown problem"
            switch p.error {
            case YAML_MEMORY_ERROR:
                return RunError(file: source, "invalid YAML: out of memory")
            case YAML_READER_ERROR:
                let offset = min(Int(p.problem_offset), bytes.count)
                let line = 1 + bytes[..<offset].reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
                return RunError("\(source):\(line): invalid YAML: \(problem)")
            default:
                var text = "\(source):\(p.problem_mark.line + 1):\(p.problem_mark.column + 1): invalid YAML: \(problem)"
                if let context = p.context { text += " (\(String(cString: context)) at line \(p.context_mark.line + 1))" }
                return RunError(text)
            }
        }
    }
}
