import Foundation
import MonaTensor

/// PyTorch `torch.save` checkpoints in the zip format (PyTorch ≥ 1.6; `.pt`, `.pth`, `.bin`):
/// `<prefix>/data.pkl` (the pickled object), `<prefix>/data/<key>` (raw storages), `<prefix>/byteorder`.
///
/// The pickle is interpreted by `TorchUnpickler`, which accepts only tensor-rebuild globals and executes
/// nothing. The result is flattened into a state dict: nested dicts join keys with dots (`model.fc.weight`),
/// lists and tuples use indices, and non-tensor values (step counters, strings, …) are left out. A checkpoint
/// that is a single tensor yields one entry named `tensor`. Views (storage offset, strides, shared storages)
/// are materialised as contiguous tensors.
public enum TorchCheckpoint {
    /// Largest accepted `data.pkl`.
    static let maxPickleBytes = 1 << 30
    /// Deepest accepted nesting of containers around a tensor.
    static let maxNesting = 64

    struct Layout {
        var zip: ZipMembers
        var prefix: String
        var bigEndian: Bool
        /// Tensors in pickle order, their views checked against their storages.
        var tensors: [(name: String, ref: TorchTensorRef)]
    }

    /// Every tensor of the checkpoint as Float32, keyed by its flattened name.
    public static func load(contentsOf url: URL) throws -> [String: Tensor] {
        try materialize(read(url))
    }

    /// Decodes a checkpoint held in memory; `file` names it in errors.
    public static func decode(_ data: Data, file: String = "<memory>") throws -> [String: Tensor] {
        try materialize(read(data, file: file))
    }

    private static func materialize(_ layout: Layout) throws -> [String: Tensor] {
        // Convert each storage once; drop it after its last view has been copied out.
        var remainingUses: [String: Int] = [:]
        // A storage is cached per (key, dtype, count): a hostile pickle could name one member with two types,
        // and each view was checked against its own reading of the member.
        func cacheKey(_ s: TorchStorageRef) -> String { "\(s.key)\u{0}\(s.dtype.rawValue)\u{0}\(s.declaredCount)" }
        for t in layout.tensors { remainingUses[cacheKey(t.ref.storage), default: 0] += 1 }
        var storages: [String: Tensor] = [:]
        var out: [String: Tensor] = [:]
        for (name, ref) in layout.tensors {
            let key = cacheKey(ref.storage)
            if storages[key] == nil {
                let member = try storageMember(layout, ref.storage, tensor: name)
                let data = try layout.zip.contents(of: member, limit: ref.storage.declaredCount * ref.storage.dtype.byteSize,
                                                   what: "tensor '\(name)'")
                storages[key] = data.isEmpty ? Tensor.zeros([0]) : data.withUnsafeBytes { raw in
                    ref.storage.dtype.tensor(from: raw.baseAddress!, shape: [ref.storage.declaredCount],
                                             bigEndian: layout.bigEndian)
                }
            }
            let storage = storages[key]!
            let count = ref.shape.reduce(1, *)
            if ref.offset == 0, count == storage.count, count > 0, ref.strides == Tensor.strides(of: ref.shape) {
                out[name] = storage.reshaped(to: ref.shape)   // the whole storage in row-major order: no copy
            } else {
                out[name] = gatherStrided(storage.data, offset: ref.offset, shape: ref.shape, strides: ref.strides)
            }
            remainingUses[key]! -= 1
            if remainingUses[key] == 0 { storages[key] = nil }
        }
        return out
    }

    /// The listing in pickle order (dtype = storage type); storages are checked for size but not read.
    public static func inspect(contentsOf url: URL) throws -> TensorArchive {
        listing(try read(url))
    }

    /// The listing of a checkpoint held in memory.
    public static func inspect(_ data: Data, file: String = "<memory>") throws -> TensorArchive {
        listing(try read(data, file: file))
    }

    private static func listing(_ layout: Layout) -> TensorArchive {
        TensorArchive(file: layout.zip.file, format: .pytorch, tensors: layout.tensors.map {
            TensorInfo(name: $0.name, dtype: $0.ref.storage.dtype.rawValue, shape: $0.ref.shape)
        })
    }

    /// Opens the zip, runs the pickle and validates every view against its storage member's size.
    static func read(_ url: URL) throws -> Layout {
        try rejectLegacy(FileIO.prefix(of: url, count: 1), file: url.path)
        return try read(ZipMembers.open(url))
    }

    static func read(_ data: Data, file: String) throws -> Layout {
        try rejectLegacy(Array(data.prefix(1)), file: file)
        return try read(ZipMembers.open(data: data, file: file))
    }

    private static func rejectLegacy(_ head: [UInt8], file: String) throws {
        if head.first == 0x80 {
            throw FormatError(file: file, "legacy (pre-1.6, non-zip) torch.save format is not supported; re-save the "
                              + "checkpoint with a current PyTorch")
        }
    }

    private static func read(_ zip: ZipMembers) throws -> Layout {
        let file = zip.file
        guard let prefix = zip.torchPrefix, let pickleEntry = zip.entry(prefix + "/data.pkl") else {
            throw FormatError(file: file, "no '<name>/data.pkl' member: not a torch.save checkpoint")
        }
        var bigEndian = false
        if let order = zip.entry(prefix + "/byteorder") {
            let text = String(decoding: try zip.contents(of: order, limit: 16, what: "byteorder"), as: UTF8.self)
            switch text.trimmingCharacters(in: .whitespacesAndNewlines) {
            case "little": bigEndian = false
            case "big": bigEndian = true
            default: throw FormatError(file: file, "byteorder member says '\(text)', expected 'little' or 'big'")
            }
        }
        let pickle = Array(try zip.contents(of: pickleEntry, limit: maxPickleBytes, what: "data.pkl"))
        let tensors = try TorchUnpickler.load(pickle, file: file + " (data.pkl)") { root in
            var found: [(name: String, ref: TorchTensorRef)] = []
            var names = Set<String>()
            try flatten(root, name: "", depth: 0, file: file, into: &found, names: &names)
            return found
        }
        var layout = Layout(zip: zip, prefix: prefix, bigEndian: bigEndian, tensors: tensors)
        // Views are materialised, so their element counts — not the storages' — decide what loading allocates. A
        // stride-0 view can describe 2³¹ elements over a one-element storage: views may add up to a few times the
        // storages they read (tied weights, slices), never far more than the file holds.
        var storageElements: [String: Int] = [:]
        var viewElements = 0
        for (name, ref) in tensors {
            let member = try storageMember(layout, ref.storage, tensor: name)
            let count = try checkedElementCount([ref.storage.declaredCount], file: file, tensor: name)
            let bytes = try checkedByteCount(count, ref.storage.dtype.byteSize, file: file, tensor: name)
            guard member.uncompressedSize == bytes else {
                throw FormatError(file: file, "tensor '\(name)': storage '\(member.path)' holds \(member.uncompressedSize) "
                                  + "bytes but \(count) × \(ref.storage.dtype.rawValue) needs \(bytes)")
            }
            let n = try checkStridedView(offset: ref.offset, shape: ref.shape, strides: ref.strides, storageCount: count,
                                         file: file, tensor: name)
            storageElements[member.path] = max(storageElements[member.path] ?? 0, count)
            viewElements += n
            let budget = 8 * storageElements.values.reduce(0, +) + (1 << 20)
            guard viewElements <= budget else {
                throw FormatError(file: file, "tensor '\(name)': its views describe \(viewElements) elements over storages of "
                                  + "\(storageElements.values.reduce(0, +)) (more memory than the file holds)")
            }
        }
        layout.tensors = tensors
        return layout
    }

    private static func storageMember(_ layout: Layout, _ storage: TorchStorageRef, tensor: String) throws -> ZipMembers.Entry {
        let path = layout.prefix + "/data/" + storage.key
        guard let member = layout.zip.entry(path) else {
            throw FormatError(file: layout.zip.file, "tensor '\(tensor)': storage member '\(path)' is missing from the archive")
        }
        return member
    }

    /// Collects tensors under dotted names, depth-first in pickle order.
    private static func flatten(_ value: PickleValue, name: String, depth: Int, file: String,
                                into out: inout [(name: String, ref: TorchTensorRef)], names: inout Set<String>) throws {
        func child(_ key: String) -> String { name.isEmpty ? key : name + "." + key }
        switch value {
        case .tensor(let ref):
            let n = name.isEmpty ? "tensor" : name
            guard names.insert(n).inserted else { throw FormatError(file: file, "tensor name '\(n)' occurs twice after flattening") }
            out.append((n, ref))
        case .dict, .list, .tuple:
            guard depth < maxNesting else {
                throw FormatError(file: file, "containers nest deeper than \(maxNesting) levels at '\(name)' (cyclic or hostile pickle)")
            }
            if case .dict(let d) = value {
                for (k, v) in d.entries {
                    let key: String
                    switch k {
                    case .string(let s): key = s
                    case .int(let i): key = String(i)
                    default: key = k.typeName
                    }
                    try flatten(v, name: child(key), depth: depth + 1, file: file, into: &out, names: &names)
                }
            } else if case .list(let l) = value {
                for (i, v) in l.items.enumerated() {
                    try flatten(v, name: child(String(i)), depth: depth + 1, file: file, into: &out, names: &names)
                }
            } else if case .tuple(let l) = value {
                for (i, v) in l.items.enumerated() {
                    try flatten(v, name: child(String(i)), depth: depth + 1, file: file, into: &out, names: &names)
                }
            }
        default:
            break   // numbers, strings, None, …: not part of a state dict
        }
    }
}
