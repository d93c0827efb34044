/// An n-dimensional Float32 tensor: contiguous row-major storage, value semantics, and (optionally) a place in
/// the autograd graph.
///
/// Tensors are immutable once made by an op; element writes go through copy-on-write, so a tensor captured by a
/// graph never changes under it. Identity for autograd is the identity of the tensor's node (`id`), so two
/// tensors that share storage (e.g. a reshape) are still different variables.
///
/// Error policy: a shape or axis that an op cannot accept is a programmer error, reported with `precondition`
/// naming the op and every shape involved (like a PyTorch `RuntimeError`, but fatal). Code that handles untrusted
/// input (files, configs, CLI flags) validates it first and throws a descriptive error instead.
public struct Tensor: @unchecked Sendable {
    @usableFromInline var impl: TensorImpl

    @usableFromInline init(impl: TensorImpl) { self.impl = impl }

    /// Wraps existing storage. `shape` must describe exactly `storage.count` elements.
    public init(storage: TensorStorage, shape: [Int], requiresGrad: Bool = false) {
        let n = Tensor.elementCount(shape, op: "Tensor(storage:shape:)")
        precondition(n == storage.count,
                     "Tensor(storage:shape:): shape \(shape) holds \(n) elements but storage has \(storage.count)")
        impl = TensorImpl(storage: storage, shape: shape, requiresGrad: requiresGrad, node: nil)
    }

    /// A tensor from row-major scalars.
    public init(_ scalars: [Float], shape: [Int]) {
        let n = Tensor.elementCount(shape, op: "Tensor(_:shape:)")
        precondition(n == scalars.count, "Tensor(_:shape:): shape \(shape) needs \(n) values, got \(scalars.count)")
        let s = TensorStorage(count: n)
        scalars.withUnsafeBufferPointer { if n > 0 { s.base.update(from: $0.baseAddress!, count: n) } }
        self.init(storage: s, shape: shape)
    }

    /// A 1-D tensor from scalars.
    public init(_ scalars: [Float]) { self.init(scalars, shape: [scalars.count]) }

    /// A 0-D (scalar) tensor.
    public init(_ scalar: Float) { self.init([scalar], shape: []) }

    // MARK: Basic properties

    public var shape: [Int] { impl.shape }
    public var rank: Int { impl.shape.count }
    public var count: Int { impl.storage.count }
    public var storage: TensorStorage { impl.storage }
    /// Whether gradients flow to or through this tensor.
    public var requiresGrad: Bool { impl.requiresGrad }
    /// Autograd identity: stable for the lifetime of this tensor value, shared by its copies.
    public var id: ObjectIdentifier { ObjectIdentifier(impl) }
    /// The op that produced this tensor inside the graph, if any (nil for leaves and untracked tensors).
    public var gradOp: String? { impl.node?.op.rawValue }
    var node: GradNode? { impl.node }

    /// Size of `axis` (negative axes count from the end).
    public func size(_ axis: Int) -> Int { shape[normalizeAxis(axis, op: "size")] }

    /// All elements, row-major.
    public var scalars: [Float] { Array(impl.storage.buffer) }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item: tensor of shape \(shape) has \(count) elements, expected 1")
        return impl.storage.base[0]
    }

    /// Read-only access to the contiguous elements.
    @inlinable public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(impl.storage.buffer))
    }

    /// Read-only pointer to the elements (row-major), valid while this tensor value is alive. To write, use
    /// `mutableData` or `withUnsafeMutableBufferPointer`, which copy shared storage first.
    @inlinable public var data: UnsafePointer<Float> { UnsafePointer(impl.storage.base) }

    /// Pointer for writing the elements in place, after copy-on-write: if the storage is shared (another tensor
    /// or a graph holds it) it is copied first, so no other tensor observes the writes. The tensor keeps
    /// `requiresGrad` but leaves the graph. Valid until this value is next copied or mutated.
    public var mutableData: UnsafeMutablePointer<Float> {
        mutating get {
            makeStorageUnique()
            return impl.storage.base
        }
    }

    /// Mutable access with copy-on-write (see `mutableData`).
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeStorageUnique()
        return try body(impl.storage.buffer)
    }

    private mutating func makeStorageUnique() {
        if !isKnownUniquelyReferenced(&impl) || !impl.storageIsUnique || impl.node != nil {
            let copy = TensorStorage(count: count)
            if count > 0 { copy.base.update(from: impl.storage.base, count: count) }
            impl = TensorImpl(storage: copy, shape: shape, requiresGrad: impl.requiresGrad, node: nil)
        }
    }

    /// Element access by multi-index (for tests and I/O, not for hot loops).
    public subscript(indices: Int...) -> Float {
        get { impl.storage.base[flatIndex(indices)] }
        set {
            let i = flatIndex(indices)
            withUnsafeMutableBufferPointer { $0[i] = newValue }
        }
    }

    func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == rank, "subscript: \(indices.count) indices for tensor of shape \(shape)")
        var flat = 0
        for (i, (ix, dim)) in zip(indices, shape).enumerated() {
            let j = ix < 0 ? ix + dim : ix
            precondition(j >= 0 && j < dim, "subscript: index \(ix) out of range for axis \(i) of shape \(shape)")
            flat = flat * dim + j
        }
        return flat
    }

    // MARK: Shape helpers

    /// Number of elements of a shape, checking that no dimension is negative.
    public static func elementCount(_ shape: [Int], op: String) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "\(op): negative dimension in shape \(shape)")
            n *= d
        }
        return n
    }

    /// Maps a possibly negative axis into `0..<rank`, or stops with a message naming the op.
    public func normalizeAxis(_ axis: Int, op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < max(rank, 1) && (rank > 0 || a == 0),
                     "\(op): axis \(axis) is out of range for a tensor of shape \(shape)")
        return a
    }

    /// Row-major strides of a shape.
    public static func strides(of shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }
}

/// The reference part of a tensor: storage, shape and graph node. Never mutated after creation.
@usableFromInline final class TensorImpl: @unchecked Sendable {
    // `var` only so that `isKnownUniquelyReferenced` can inspect it; never reassigned.
    @usableFromInline var storage: TensorStorage
    @usableFromInline let shape: [Int]
    let requiresGrad: Bool
    let node: GradNode?

    init(storage: TensorStorage, shape: [Int], requiresGrad: Bool, node: GradNode?) {
        self.storage = storage
        self.shape = shape
        self.requiresGrad = requiresGrad
        self.node = node
    }

    var storageIsUnique: Bool { isKnownUniquelyReferenced(&storage) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", …" : "")])"
    }
}
