// Summing the gradient contributions a tensor receives from its consumers during a backward pass.

/// The gradient contributions of a backward pass, by tensor: summed when autograd reaches the tensor, or taken
/// over earlier by a rule that adds its own contribution into them in place (`BackwardContext`).
final class GradientAccumulator {
    /// How many contributions to one gradient are held before they are summed early (bounded memory for a tensor
    /// used many times, e.g. a weight shared across steps).
    static let maximumPending = 8

    var parts: [ObjectIdentifier: [Tensor]] = [:]
    /// The inputs of the node whose rule is running (empty when rules may not take contributions over).
    var inputs: [Tensor] = []
    /// Add each contribution into the first one in place when that one is exclusively owned (no graph only),
    /// so that a tensor waiting for its turn holds one gradient buffer instead of up to `maximumPending`: in the
    /// backward of a create-graph gradient, every forward activation collects contributions from the whole
    /// gradient graph before it is reached. The sums are the same (left to right).
    let addsInPlace: Bool

    init(addsInPlace: Bool = false) {
        self.addsInPlace = addsInPlace
    }

    func add(_ gradient: Tensor, for id: ObjectIdentifier) {
        guard var list = parts.removeValue(forKey: id) else {
            parts[id] = [gradient]
            return
        }
        if addsInPlace && list.count == 1 && list[0].shape == gradient.shape && !GradMode.isEnabled {
            var sum = list.removeLast()
            if sum.isUniquelyOwned {
                addInPlace(sum, gradient)
                parts[id] = [sum]
                return
            }
            list = [sum]
        }
        list.append(gradient)
        parts[id] = list.count == GradientAccumulator.maximumPending ? [sumOfContributions(list)] : list
    }

    /// The sum of input `i`'s contributions so far, removed from the store, if the caller may write into it.
    func take(_ i: Int) -> Tensor? {
        guard i < inputs.count else { return nil }
        let id = inputs[i].id
        guard var list = parts.removeValue(forKey: id) else { return nil }
        var sum = list.count == 1 ? list.removeLast() : sumOfContributions(list)
        list = []   // so that `sum` can be the only reference
        if sum.isUniquelyOwned { return sum }
        parts[id] = [sum]
        return nil
    }
}

extension Tensor {
    /// Whether nothing else refers to this tensor's storage and it is not part of a graph (a fresh kernel result
    /// held only by the caller), so that writing into it cannot be observed.
    var isUniquelyOwned: Bool {
        mutating get { isKnownUniquelyReferenced(&impl) && impl.storageIsUnique && impl.node == nil }
    }
}

/// p₀ + p₁ + … + pₖ for contributions of one shape, added left to right (the rounding of a chain of `+`).
///
/// With grad mode on (a create-graph backward) it is that chain, so the sum is differentiable. Otherwise one pass
/// reads every contribution once and writes the sum, where the chain would write and re-read k − 1
/// intermediate sums: in the backward of a transformer layer's create-graph gradient, where activations have up
/// to six consumers, the chain was about a third of the time outside GEMMs.
func sumOfContributions(_ parts: [Tensor]) -> Tensor {
    precondition(!parts.isEmpty, "sumOfContributions: no contributions")
    if parts.count == 1 { return parts[0] }
    let shape = parts[0].shape
    if GradMode.isEnabled || parts.contains(where: { $0.shape != shape }) {
        return parts.dropFirst().reduce(parts[0], +)
    }
    let n = parts[0].count
    let out = TensorStorage(count: n)
    let sources = parts.map(\.data)
    let po = out.base
    Parallel.forEachChunk(n, costPerItem: parts.count) { r in
        // Blocks that stay in L1 while the contributions are added into them one after another.
        var start = r.lowerBound
        while start < r.upperBound {
            let end = min(start + 2048, r.upperBound)
            addRun(sources[0] + start, sources[1] + start, po + start, end - start)
            for k in 2..<sources.count { addRun(po + start, sources[k] + start, po + start, end - start) }
            start = end
        }
    }
    return Tensor(storage: out, shape: shape)
}

/// sum += part, elementwise (same shapes; `sum` exclusively owned by the caller).
private func addInPlace(_ sum: Tensor, _ part: Tensor) {
    let n = sum.count, ps = sum.storage.base, pp = part.data
    Parallel.forEachChunk(n, costPerItem: 1) { r in
        addRun(ps + r.lowerBound, pp + r.lowerBound, ps + r.lowerBound, r.count)
    }
}

/// z[i] = x[i] + y[i] for i < n (z may be x).
@inline(__always) private func addRun(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                      _ z: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            + UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(z + i).storeBytes(of: v, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { z[i] = x[i] + y[i]; i += 1 }
}
