import Foundation

/// A value built by `TorchUnpickler`. Containers are reference types owned by the unpickler's arena, so that
/// pickles with cycles or extreme nesting neither leak nor recurse deeply when freed.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits (kept opaque: only usable as data that is ignored).
    case bigInt
    case float(Double)
    case string(String)
    case bytes(Data)
    case tuple(PickleList)
    case list(PickleList)
    case set(PickleList)
    case dict(PickleDict)
    /// An allow-listed global, e.g. `torch._utils._rebuild_tensor_v2` or `torch.FloatStorage`.
    case global(module: String, name: String)
    /// A torch storage referenced by `BINPERSID`.
    case storage(TorchStorageRef)
    /// A tensor view of a storage (from `_rebuild_tensor_v2`).
    case tensor(TorchTensorRef)

    var typeName: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .set: "set"
        case .dict: "dict"
        case .global(let m, let n): "\(m).\(n)"
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}

final class PickleList {
    var items: [PickleValue]
    init(_ items: [PickleValue]) { self.items = items }
}

final class PickleDict {
    var entries: [(key: PickleValue, value: PickleValue)] = []
    private var index: [String: Int] = [:]

    /// Sets `key` (replacing an equal string/int/bool key as Python would), keeping insertion order.
    func set(_ key: PickleValue, _ value: PickleValue) {
        let k: String?
        switch key {
        case .string(let s): k = "s" + s
        case .int(let v): k = "i\(v)"
        case .bool(let b): k = "i\(b ? 1 : 0)"
        default: k = nil
        }
        if let k, let i = index[k] { entries[i].value = value; return }
        if let k { index[k] = entries.count }
        entries.append((key, value))
    }
}

/// `('storage', torch.FloatStorage, '0', 'cpu', 6)` — the persistent id torch writes for a storage.
struct TorchStorageRef {
    var key: String
    var dtype: ScalarType
    var declaredCount: Int
}

/// The arguments of `_rebuild_tensor_v2(storage, offset, size, stride, …)`, unchecked until a name is known.
struct TorchTensorRef {
    var storage: TorchStorageRef
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}

/// An interpreter for pickle protocols 0–5 that builds plain values and never imports or calls anything.
///
/// Only the globals torch checkpoints need are accepted (`collections.OrderedDict`, the `torch._utils`
/// tensor-rebuild functions, typed `torch.*Storage` classes, dtype objects and `torch.Size`); any other global,
/// e.g. `os.system` or `builtins.eval`, stops the load with an error naming it as soon as the opcode is read.
struct TorchUnpickler {
    static let storageTypes: [String: ScalarType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16,
        "BFloat16Storage": .bfloat16, "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16,
        "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool, "UntypedStorage": .uint8,
    ]
    static let dtypeGlobals: [String: ScalarType] = [
        "float32": .float32, "float": .float32, "float64": .float64, "double": .float64, "float16": .float16,
        "half": .float16, "bfloat16": .bfloat16, "int64": .int64, "long": .int64, "int32": .int32, "int": .int32,
        "int16": .int16, "short": .int16, "int8": .int8, "uint8": .uint8, "bool": .bool,
    ]
    static let rebuildFunctions: Set<String> = ["_rebuild_tensor_v2", "_rebuild_parameter", "_rebuild_parameter_with_state"]

    /// Whether `module.name` may appear in a checkpoint.
    static func isAllowed(module: String, name: String) -> Bool {
        switch module {
        case "collections": name == "OrderedDict"
        case "torch._utils": rebuildFunctions.contains(name)
        case "torch": storageTypes[name] != nil || dtypeGlobals[name] != nil || name == "Size"
        case "torch.storage": name == "UntypedStorage"
        default: false
        }
    }

    private let bytes: [UInt8]
    private let file: String
    private var position = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Every container made, so `clearArena` can break all links iteratively.
    private var arena: [AnyObject] = []

    init(_ bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    /// Runs the pickle and hands its result to `body` (while the containers are still alive), then frees them.
    static func load<R>(_ bytes: [UInt8], file: String, _ body: (PickleValue) throws -> R) throws -> R {
        var u = TorchUnpickler(bytes, file: file)
        defer { u.clearArena() }
        return try body(try u.run())
    }

    private mutating func clearArena() {
        stack.removeAll()
        memo.removeAll()
        for object in arena {
            if let l = object as? PickleList { l.items.removeAll() }
            if let d = object as? PickleDict { d.entries.removeAll() }
        }
        arena.removeAll()
    }

    // MARK: Reading primitives

    private func fail(_ message: String, at offset: Int? = nil) -> FormatError {
        FormatError(file: file, "pickle byte \(offset ?? position): \(message)")
    }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - position else { throw fail("truncated pickle (needs \(n) more bytes)") }
        defer { position += n }
        return bytes[position..<position + n]
    }

    private mutating func uint(_ n: Int) throws -> UInt64 {
        var v: UInt64 = 0
        for (k, b) in try take(n).enumerated() { v |= UInt64(b) << (8 * UInt64(k)) }
        return v
    }

    private mutating func length(_ n: Int) throws -> Int {
        let v = try uint(n)
        guard v <= UInt64(bytes.count - position) else { throw fail("length \(v) runs past the end of the pickle") }
        return Int(v)
    }

    private mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("unterminated text argument") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    private func utf8(_ slice: ArraySlice<UInt8>) throws -> String {
        guard let s = String(validating: slice, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
        return s
    }

    // MARK: Stack

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack underflow") }
        if let m = marks.last, stack.count < m { throw fail("pop below a MARK") }
        return v
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("no MARK on the stack") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private mutating func list(_ items: [PickleValue]) -> PickleList {
        let l = PickleList(items)
        arena.append(l)
        return l
    }

    private mutating func newDict() -> PickleDict {
        let d = PickleDict()
        arena.append(d)
        return d
    }

    private mutating func global(module: String, name: String, at offset: Int) throws -> PickleValue {
        guard TorchUnpickler.isAllowed(module: module, name: name) else {
            throw fail("forbidden global '\(module).\(name)': only tensor-rebuild globals (torch._utils, torch.*Storage, "
                       + "collections.OrderedDict) are allowed in a checkpoint", at: offset)
        }
        return .global(module: module, name: name)
    }

    // MARK: Interpreter

    mutating func run() throws -> PickleValue {
        while true {
            let opOffset = position
            guard position < bytes.count else { throw fail("pickle ends without STOP") }
            let op = bytes[position]
            position += 1
            switch op {
            case 0x80: _ = try take(1)                                    // PROTO
            case 0x95: _ = try length(8)                                  // FRAME (a hint only)
            case 0x2E:                                                    // STOP
                guard marks.isEmpty, stack.count == 1 else { throw fail("STOP with \(stack.count) values on the stack") }
                return stack[0]
            case 0x28: marks.append(stack.count)                          // MARK
            case 0x30: _ = try pop()                                      // POP
            case 0x31: _ = try popMark()                                  // POP_MARK
            case 0x32:                                                    // DUP
                let v = try pop(); stack.append(v); stack.append(v)
            case 0x4E: stack.append(.none)                                // NONE
            case 0x88: stack.append(.bool(true))                          // NEWTRUE
            case 0x89: stack.append(.bool(false))                         // NEWFALSE
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))   // BININT
            case 0x4B: stack.append(.int(Int(try uint(1))))               // BININT1
            case 0x4D: stack.append(.int(Int(try uint(2))))               // BININT2
            case 0x8A: stack.append(longValue(try take(length(1))))       // LONG1
            case 0x8B: stack.append(longValue(try take(length(4))))       // LONG4
            case 0x49:                                                    // INT (text)
                let text = try line()
                if text == "00" || text == "01" { stack.append(.bool(text == "01")); break }
                guard let v = Int(text) else { throw fail("invalid INT '\(text)'") }
                stack.append(.int(v))
            case 0x4C:                                                    // LONG (text)
                let text = try line()
                if let v = Int(text.hasSuffix("L") ? String(text.dropLast()) : text) { stack.append(.int(v)) } else { stack.append(.bigInt) }
            case 0x47: stack.append(.float(Double(bitPattern: try uint(8).byteSwapped)))   // BINFLOAT (big-endian)
            case 0x46:                                                    // FLOAT (text)
                let text = try line()
                guard let v = Double(text) else { throw fail("invalid FLOAT '\(text)'") }
                stack.append(.float(v))
            case 0x58: stack.append(.string(try utf8(take(length(4)))))   // BINUNICODE
            case 0x8C: stack.append(.string(try utf8(take(length(1)))))   // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try utf8(take(length(8)))))   // BINUNICODE8
            case 0x54: stack.append(.string(latin1(try take(length(4))))) // BINSTRING (Python 2 str)
            case 0x55: stack.append(.string(latin1(try take(length(1))))) // SHORT_BINSTRING
            case 0x42: stack.append(.bytes(Data(try take(length(4)))))    // BINBYTES
            case 0x43: stack.append(.bytes(Data(try take(length(1)))))    // SHORT_BINBYTES
            case 0x8E, 0x96: stack.append(.bytes(Data(try take(length(8))))) // BINBYTES8, BYTEARRAY8
            case 0x29: stack.append(.tuple(list([])))                     // EMPTY_TUPLE
            case 0x74: stack.append(.tuple(list(try popMark())))          // TUPLE
            case 0x85: let a = try pop(); stack.append(.tuple(list([a])))  // TUPLE1
            case 0x86:                                                    // TUPLE2
                let b = try pop(), a = try pop(); stack.append(.tuple(list([a, b])))
            case 0x87:                                                    // TUPLE3
                let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple(list([a, b, c])))
            case 0x5D: stack.append(.list(list([])))                      // EMPTY_LIST
            case 0x6C: stack.append(.list(list(try popMark())))           // LIST
            case 0x61:                                                    // APPEND
                let v = try pop()
                guard case .list(let l)? = stack.last else { throw fail("APPEND to a non-list", at: opOffset) }
                l.items.append(v)
            case 0x65:                                                    // APPENDS
                let items = try popMark()
                guard case .list(let l)? = stack.last else { throw fail("APPENDS to a non-list", at: opOffset) }
                l.items.append(contentsOf: items)
            case 0x8F: stack.append(.set(list([])))                       // EMPTY_SET
            case 0x90:                                                    // ADDITEMS
                let items = try popMark()
                guard case .set(let s)? = stack.last else { throw fail("ADDITEMS to a non-set", at: opOffset) }
                s.items.append(contentsOf: items)
            case 0x91: stack.append(.set(list(try popMark())))            // FROZENSET
            case 0x7D: stack.append(.dict(newDict()))                     // EMPTY_DICT
            case 0x64:                                                    // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items", at: opOffset) }
                let d = newDict()
                for k in stride(from: 0, to: items.count, by: 2) { d.set(items[k], items[k + 1]) }
                stack.append(.dict(d))
            case 0x73:                                                    // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let d)? = stack.last else { throw fail("SETITEM on a non-dict", at: opOffset) }
                d.set(k, v)
            case 0x75:                                                    // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items", at: opOffset) }
                guard case .dict(let d)? = stack.last else { throw fail("SETITEMS on a non-dict", at: opOffset) }
                for k in stride(from: 0, to: items.count, by: 2) { d.set(items[k], items[k + 1]) }
            case 0x71: try put(Int(try uint(1)))                          // BINPUT
            case 0x72: try put(Int(try uint(4)))                          // LONG_BINPUT
            case 0x70:                                                    // PUT (text)
                guard let i = Int(try line()), i >= 0 else { throw fail("invalid PUT index", at: opOffset) }
                try put(i)
            case 0x94: try put(memo.count)                                // MEMOIZE
            case 0x68: try get(Int(try uint(1)), at: opOffset)            // BINGET
            case 0x6A: try get(Int(try uint(4)), at: opOffset)            // LONG_BINGET
            case 0x67:                                                    // GET (text)
                guard let i = Int(try line()) else { throw fail("invalid GET index", at: opOffset) }
                try get(i, at: opOffset)
            case 0x63:                                                    // GLOBAL "module\nname\n"
                let module = try line(), name = try line()
                stack.append(try global(module: module, name: name, at: opOffset))
            case 0x93:                                                    // STACK_GLOBAL
                let n = try pop(), m = try pop()
                guard case .string(let module) = m, case .string(let name) = n else {
                    throw fail("STACK_GLOBAL needs two strings", at: opOffset)
                }
                stack.append(try global(module: module, name: name, at: opOffset))
            case 0x52:                                                    // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args, at: opOffset))
            case 0x62:                                                    // BUILD
                let state = try pop()
                guard let target = stack.last else { throw fail("BUILD on an empty stack", at: opOffset) }
                switch target {
                case .dict, .tensor: _ = state   // OrderedDict `_metadata` / tensor attributes: not needed
                default: throw fail("BUILD on a \(target.typeName) is not supported", at: opOffset)
                }
            case 0x51:                                                    // BINPERSID
                stack.append(try persistentLoad(try pop(), at: opOffset))
            case 0x81, 0x92:                                              // NEWOBJ, NEWOBJ_EX
                if op == 0x92 { _ = try pop() }
                _ = try pop()
                let cls = try pop()
                throw fail("creating an instance of '\(cls.typeName)' is not supported in a checkpoint", at: opOffset)
            case 0x69:                                                    // INST "module\nname\n"
                let module = try line(), name = try line()
                _ = try global(module: module, name: name, at: opOffset)
                throw fail("INST of '\(module).\(name)' is not supported", at: opOffset)
            case 0x6F: throw fail("OBJ (instance creation) is not supported in a checkpoint", at: opOffset)
            case 0x82, 0x83, 0x84: throw fail("extension-registry opcodes (EXT1/2/4) are not supported", at: opOffset)
            case 0x50: throw fail("text PERSID is not supported (torch writes BINPERSID)", at: opOffset)
            case 0x97, 0x98: throw fail("out-of-band buffers (protocol 5) are not supported", at: opOffset)
            case 0x53, 0x56: throw fail("protocol-0 text strings are not supported", at: opOffset)
            default: throw fail(String(format: "unknown opcode 0x%02x", op), at: opOffset)
            }
        }
    }

    private func latin1(_ s: ArraySlice<UInt8>) -> String { String(s.map { Character(Unicode.Scalar($0)) }) }

    /// Little-endian two's-complement integer of any width.
    private func longValue(_ s: ArraySlice<UInt8>) -> PickleValue {
        if s.isEmpty { return .int(0) }
        if s.count > 8 {
            // Wider than 64 bits: still representable if the extra bytes are pure sign extension.
            let sign: UInt8 = (s.last! & 0x80) != 0 ? 0xFF : 0
            let head = s.prefix(8)
            guard s.dropFirst(8).allSatisfy({ $0 == sign }), (head.last! & 0x80 != 0) == (sign == 0xFF) else { return .bigInt }
            return longValue(head)
        }
        var v: UInt64 = 0
        for (k, b) in s.enumerated() { v |= UInt64(b) << (8 * UInt64(k)) }
        if s.last! & 0x80 != 0, s.count < 8 { v |= ~UInt64(0) << (8 * UInt64(s.count)) }
        return .int(Int(Int64(bitPattern: v)))
    }

    private mutating func put(_ i: Int) throws {
        guard let top = stack.last else { throw fail("memo PUT on an empty stack") }
        memo[i] = top
    }

    private mutating func get(_ i: Int, at offset: Int) throws {
        guard let v = memo[i] else { throw fail("memo index \(i) was never stored", at: offset) }
        stack.append(v)
    }

    // MARK: Torch semantics

    private mutating func persistentLoad(_ pid: PickleValue, at offset: Int) throws -> PickleValue {
        guard case .tuple(let t) = pid, t.items.count == 5, case .string("storage") = t.items[0] else {
            throw fail("persistent id is not a ('storage', type, key, location, numel) tuple", at: offset)
        }
        guard case .global(let module, let name) = t.items[1],
              let dtype = module == "torch" || module == "torch.storage" ? TorchUnpickler.storageTypes[name] : nil else {
            throw fail("persistent id names \(t.items[1].typeName), not a torch storage type", at: offset)
        }
        guard case .string(let key) = t.items[2] else { throw fail("storage key must be a string", at: offset) }
        guard case .int(let count) = t.items[4], count >= 0 else {
            throw fail("storage '\(key)': element count must be a non-negative integer", at: offset)
        }
        return .storage(TorchStorageRef(key: key, dtype: dtype, declaredCount: count))
    }

    private mutating func reduce(_ callable: PickleValue, _ args: PickleValue, at offset: Int) throws -> PickleValue {
        guard case .global(let module, let name) = callable else {
            throw fail("REDUCE calls a \(callable.typeName), not an allowed global", at: offset)
        }
        guard case .tuple(let argList) = args else { throw fail("REDUCE arguments of \(module).\(name) are not a tuple", at: offset) }
        let a = argList.items
        switch (module, name) {
        case ("collections", "OrderedDict"):
            let d = newDict()
            if let first = a.first {
                guard a.count == 1, case .list(let pairs) = first else {
                    throw fail("OrderedDict(...) expects a list of pairs", at: offset)
                }
                for p in pairs.items {
                    guard case .tuple(let kv) = p, kv.items.count == 2 else {
                        throw fail("OrderedDict(...) expects a list of pairs", at: offset)
                    }
                    d.set(kv.items[0], kv.items[1])
                }
            }
            return .dict(d)
        case ("torch._utils", "_rebuild_tensor_v2"):
            guard a.count >= 4, case .storage(let storage) = a[0], case .int(let storageOffset) = a[1],
                  let shape = intTuple(a[2]), let strides = intTuple(a[3]) else {
                throw fail("_rebuild_tensor_v2 expects (storage, offset, size, stride, …)", at: offset)
            }
            return .tensor(TorchTensorRef(storage: storage, offset: storageOffset, shape: shape, strides: strides))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let first = a.first, case .tensor = first else {
                throw fail("\(name) expects a tensor as its first argument", at: offset)
            }
            return first
        case ("torch", "Size"):
            guard a.count == 1, intTuple(a[0]) != nil else { throw fail("torch.Size expects a tuple of integers", at: offset) }
            return a[0]
        default:
            throw fail("calling '\(module).\(name)' is not supported", at: offset)
        }
    }

    private func intTuple(_ v: PickleValue) -> [Int]? {
        guard case .tuple(let t) = v else { return nil }
        var out: [Int] = []
        for item in t.items {
            guard case .int(let x) = item else { return nil }
            out.append(x)
        }
        return out
    }
}
