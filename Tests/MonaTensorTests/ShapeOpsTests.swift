import Testing
@testable import MonaTensor

/// Row-major index arithmetic for naive reference loops.
enum NaiveIndex {
    static func unravel(_ flat: Int, _ shape: [Int]) -> [Int] {
        var idx = [Int](repeating: 0, count: shape.count), rem = flat
        for d in stride(from: shape.count - 1, through: 0, by: -1) { idx[d] = rem % shape[d]; rem /= shape[d] }
        return idx
    }

    static func ravel(_ idx: [Int], _ shape: [Int]) -> Int {
        var flat = 0
        for (i, d) in zip(idx, shape) { flat = flat * d + i }
        return flat
    }

    /// Builds a tensor of `shape` whose element at each multi-index is `value(index)`.
    static func tensor(_ shape: [Int], _ value: ([Int]) -> Float) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor((0..<n).map { value(unravel($0, shape)) }, shape: shape)
    }
}

/// A position-dependent nonlinear loss: a gradient routed to the wrong element cannot hide.
func weightedSquareLoss(_ y: Tensor, seed: UInt64 = 99) -> Tensor {
    (y * rand(y.shape, seed: seed, low: 0.5, high: 1.5)).mul2().sum()
}

/// Hessian-vector product through `createGraph: true` against central differences of first gradients.
func hessianVectorCheck(_ x: Tensor, _ v: Tensor, step h: Float = 1e-2, tolerance: Float = 2e-3,
                        sourceLocation: SourceLocation = #_sourceLocation, _ f: (Tensor) -> Tensor) {
    func grad(_ x: Tensor, createGraph: Bool) -> Tensor {
        let xv = x.requiresGrad ? x : x.requiringGradient()
        return gradients(of: f(xv), wrt: [xv], createGraph: createGraph)[0]
    }
    let xv = x.requiringGradient()
    let g = grad(xv, createGraph: true)
    #expect(g.requiresGrad, "first gradient is not differentiable", sourceLocation: sourceLocation)
    let hv = gradients(of: (g * v).sum(), wrt: [xv])[0]
    let fd = (grad(x + v * h, createGraph: false) - grad(x - v * h, createGraph: false)) / (2 * h)
    let scale = Swift.max(1, fd.scalars.map(abs).max() ?? 0)
    #expect(maxAbsDiff(hv, fd) <= tolerance * scale, "HVP \(hv.scalars) vs FD \(fd.scalars)",
            sourceLocation: sourceLocation)
}

@Suite struct ShapeOpsTests {
    // MARK: Permute

    static let permuteCases: [([Int], [Int])] = [
        ([2, 3, 4], [2, 0, 1]), ([2, 3, 4], [0, 2, 1]), ([5, 7], [1, 0]), ([37, 70], [1, 0]),
        ([3, 1, 5, 2], [3, 1, 0, 2]), ([2, 5, 3, 8], [0, 2, 1, 3]), ([2, 3, 4, 5], [-1, 0, -2, 1]),
        ([1, 1, 1], [2, 1, 0]), ([4, 0, 3], [2, 1, 0]), ([], []), ([3, 33, 65], [2, 1, 0]), ([6, 1], [1, 0]),
        ([2, 9, 3, 40], [0, 2, 1, 3]), ([7, 3, 2, 5], [3, 2, 1, 0]), ([4, 3, 5], [0, 1, 2]),
        // Large enough to be split over threads when more than one is configured.
        ([2, 64, 8, 48], [0, 2, 1, 3]), ([130, 300], [1, 0]), ([3, 40, 50, 7], [2, 0, 3, 1]),
    ]

    @Test(arguments: permuteCases)
    func permuteMatchesNaive(_ c: ([Int], [Int])) {
        let (shape, axes) = c
        let x = rand(shape, seed: 3)
        let y = x.permuted(axes)
        let perm = axes.map { $0 < 0 ? $0 + shape.count : $0 }
        let outShape = perm.map { shape[$0] }
        #expect(y.shape == outShape)
        let ref = NaiveIndex.tensor(outShape) { o in
            var i = [Int](repeating: 0, count: shape.count)
            for (k, a) in perm.enumerated() { i[a] = o[k] }
            return x.data[NaiveIndex.ravel(i, shape)]
        }
        #expect(y.scalars == ref.scalars)
    }

    @Test func stridedRowWalkResumesMidRange() {
        // Parallel chunks start the odometer in the middle of the space: every split must match one walk.
        let dims = [3, 4, 5], ss = [7, 100, 2], ds = [20, 5, 1]
        var whole: [[Int]] = []
        walkStridedRows(0..<60, dims: dims, srcStrides: ss, dstStrides: ds) { whole.append([$0, $1, $2]) }
        for cut in [1, 7, 23, 59] {
            var parts: [[Int]] = []
            walkStridedRows(0..<cut, dims: dims, srcStrides: ss, dstStrides: ds) { parts.append([$0, $1, $2]) }
            walkStridedRows(cut..<60, dims: dims, srcStrides: ss, dstStrides: ds) { parts.append([$0, $1, $2]) }
            #expect(parts == whole)
        }
        let first = whole[37], idx = NaiveIndex.unravel(37, dims)
        #expect(first[1] == zip(idx, ss).map(*).reduce(0, +) && first[2] == 37)
    }

    @Test func permuteAndTransposeGradients() {
        let x = rand([2, 3, 4], seed: 1)
        checkGradients([x]) { weightedSquareLoss($0[0].permuted([2, 0, 1])) }
        checkGradients([x]) { weightedSquareLoss($0[0].permuted(1, 2, 0)) }
        checkGradients([x]) { weightedSquareLoss($0[0].transposed()) }
        checkGradients([x]) { weightedSquareLoss($0[0].transposed(0, 2)) }
        checkGradients([rand([2, 1, 3])]) { weightedSquareLoss($0[0].squeezed(axis: 1)) }
        checkGradients([rand([2, 1, 3])]) { weightedSquareLoss($0[0].squeezed()) }
        checkGradients([rand([2, 3])]) { weightedSquareLoss($0[0].unsqueezed(axis: -1)) }
    }

    @Test func transposeSqueezeShapes() {
        let x = Tensor((0..<6).map(Float.init), shape: [2, 3])
        #expect(x.transposed().scalars == [0, 3, 1, 4, 2, 5])
        #expect(x.transposed().shape == [3, 2])
        #expect(rand([2, 3, 4]).transposed(0, -1).shape == [4, 3, 2])
        #expect(rand([2, 1, 3, 1]).squeezed().shape == [2, 3])
        #expect(rand([2, 1, 3, 1]).squeezed(axis: -1).shape == [2, 1, 3])
        #expect(x.unsqueezed(axis: 0).shape == [1, 2, 3])
        #expect(x.unsqueezed(axis: 2).shape == [2, 3, 1])
        #expect(x.unsqueezed(axis: -1).shape == [2, 3, 1])
        #expect(x.unsqueezed(axis: -3).shape == [1, 2, 3])
        #expect(Tensor(5).unsqueezed(axis: 0).shape == [1])
    }

    // MARK: Slice / pad

    @Test func sliceMatchesNaive() {
        let x = rand([4, 5, 6], seed: 4)
        for ranges in [[1..<3], [0..<4, 2..<5], [0..<4, 0..<5, 3..<4], [2..<2], [0..<1, 4..<5, 0..<6],
                       [3..<4, 1..<4, 1..<6]] {
            let y = x.slice(ranges)
            var lo = [0, 0, 0], ext = x.shape
            for (a, r) in ranges.enumerated() { lo[a] = r.lowerBound; ext[a] = r.count }
            #expect(y.shape == ext)
            let ref = NaiveIndex.tensor(ext) { o in x.data[NaiveIndex.ravel(zip(o, lo).map(+), x.shape)] }
            #expect(y.scalars == ref.scalars)
        }
        let m = Tensor((0..<12).map(Float.init), shape: [3, 4])
        #expect(m.slice(axis: 1, start: 1, end: 3).scalars == [1, 2, 5, 6, 9, 10])
        #expect(m.slice(axis: -1, start: -2, end: -1).scalars == [2, 6, 10])
        #expect(m.slice(axis: 0, range: 2..<3).scalars == [8, 9, 10, 11])
        #expect(m.narrowed(axis: 1, start: -3, length: 2).scalars == [1, 2, 5, 6, 9, 10])
        #expect(m.slice(axis: 1, start: 0, end: 4).id == m.id)   // whole range: no copy
        let big = rand([200, 300], seed: 5)
        let part = big.slice([10..<190, 5..<290])
        #expect(part.scalars == NaiveIndex.tensor([180, 285]) { big[$0[0] + 10, $0[1] + 5] }.scalars)
        #expect(part.padded([(before: 10, after: 10), (before: 5, after: 10)]).slice([10..<190, 5..<290]).scalars
                == part.scalars)
    }

    @Test func padMatchesNaive() {
        let x = rand([3, 4, 5], seed: 5)
        let widths = [(before: 1, after: 2), (before: 0, after: 0), (before: 3, after: 1)]
        let y = x.padded(widths, value: -7)
        #expect(y.shape == [6, 4, 9])
        let ref = NaiveIndex.tensor(y.shape) { o in
            let i = [o[0] - 1, o[1], o[2] - 3]
            let inside = zip(i, x.shape).allSatisfy { $0 >= 0 && $0 < $1 }
            return inside ? x.data[NaiveIndex.ravel(i, x.shape)] : -7
        }
        #expect(y.scalars == ref.scalars)
        #expect(Tensor([1, 2]).padded(axis: 0, before: 2, after: 1).scalars == [0, 0, 1, 2, 0])
        // Pad then slice back is the identity.
        #expect(y.slice([1..<4, 0..<4, 3..<8]).scalars == x.scalars)
    }

    @Test func sliceAndPadGradients() {
        let x = rand([3, 4, 5], seed: 6)
        checkGradients([x]) { weightedSquareLoss($0[0].slice([1..<3, 0..<4, 2..<5])) }
        checkGradients([x]) { weightedSquareLoss($0[0].slice(axis: -1, start: 1, end: -1)) }
        checkGradients([x]) { weightedSquareLoss($0[0].narrowed(axis: 1, start: 1, length: 2)) }
        checkGradients([rand([2, 3])]) {
            weightedSquareLoss($0[0].padded([(before: 1, after: 0), (before: 2, after: 3)], value: 0.5))
        }
        checkGradients([rand([2, 3])]) { weightedSquareLoss($0[0].padded(axis: 1, before: 0, after: 2)) }
    }

    // MARK: Concat / stack / split

    @Test func concatAndStackMatchNaive() {
        let a = rand([2, 3, 4], seed: 1), b = rand([2, 1, 4], seed: 2), c = rand([2, 5, 4], seed: 3)
        let y = Tensor.concat([a, b, c], axis: 1)
        #expect(y.shape == [2, 9, 4])
        let ref = NaiveIndex.tensor([2, 9, 4]) { o in
            let (t, j): (Tensor, Int) = o[1] < 3 ? (a, o[1]) : o[1] < 4 ? (b, o[1] - 3) : (c, o[1] - 4)
            return t.data[NaiveIndex.ravel([o[0], j, o[2]], t.shape)]
        }
        #expect(y.scalars == ref.scalars)
        let last = Tensor.concat([a, rand([2, 3, 2], seed: 4)], axis: -1)
        #expect(last.shape == [2, 3, 6] && last.slice(axis: 2, range: 0..<4).scalars == a.scalars)
        #expect(Tensor.concat([Tensor([1, 2]), Tensor([3])]).scalars == [1, 2, 3])

        let s = Tensor.stack([a, a * 2], axis: 1)
        #expect(s.shape == [2, 2, 3, 4])
        #expect(s.slice(axis: 1, range: 1..<2).scalars == (a * 2).scalars)
        #expect(Tensor.stack([Tensor([1, 2]), Tensor([3, 4])], axis: -1).scalars == [1, 3, 2, 4])
        #expect(Tensor.stack([Tensor(1), Tensor(2)]).shape == [2])
    }

    @Test func concatStackGradients() {
        let a = rand([2, 3], seed: 1), b = rand([2, 2], seed: 2), c = rand([2, 1], seed: 3)
        checkGradients([a, b, c]) { weightedSquareLoss(Tensor.concat($0, axis: 1)) }
        checkGradients([a, rand([1, 3], seed: 4)]) { weightedSquareLoss(Tensor.concat($0, axis: 0)) }
        checkGradients([a, rand([2, 3], seed: 5)]) { weightedSquareLoss(Tensor.stack($0, axis: 1)) }
        // Only some inputs tracked.
        let x = a.requiringGradient()
        let g = gradients(of: weightedSquareLoss(Tensor.concat([b, x], axis: 1)), wrt: [x])[0]
        #expect(g.shape == [2, 3])
    }

    @Test func splitAndChunk() {
        let x = Tensor((0..<10).map(Float.init), shape: [2, 5])
        let parts = x.split(sizes: [2, 0, 3], axis: 1)
        #expect(parts.map(\.shape) == [[2, 2], [2, 0], [2, 3]])
        #expect(parts[2].scalars == [2, 3, 4, 7, 8, 9])
        #expect(x.chunked(2, axis: 1).map(\.shape) == [[2, 3], [2, 2]])
        #expect(x.chunked(3, axis: -1).map(\.shape) == [[2, 2], [2, 2], [2, 1]])
        #expect(x.chunked(4, axis: 0).map(\.shape) == [[1, 5], [1, 5]])
        #expect(Tensor.concat(x.chunked(3, axis: 1), axis: 1).scalars == x.scalars)
        checkGradients([rand([2, 5])]) { xs in
            let p = xs[0].split(sizes: [1, 3, 1], axis: -1)
            return weightedSquareLoss(p[1]) + (p[0] * p[2]).mul2().sum()
        }
        checkGradients([rand([2, 5])]) { xs in
            let p = xs[0].chunked(2, axis: 1)
            return weightedSquareLoss(p[0]) + (p[1] * 3).mul2().sum()
        }
    }

    // MARK: Indexing

    @Test func indexSelectAndAddMatchNaive() {
        let x = rand([3, 4, 5], seed: 7)
        let idx = [3, 0, 3, 1, 2]
        let y = x.indexSelect(axis: 1, indices: idx)
        #expect(y.shape == [3, 5, 5])
        let ref = NaiveIndex.tensor([3, 5, 5]) { o in x.data[NaiveIndex.ravel([o[0], idx[o[1]], o[2]], x.shape)] }
        #expect(y.scalars == ref.scalars)
        let table = Tensor((0..<6).map(Float.init), shape: [3, 2])
        #expect(table.indexSelect(axis: 0, indices: [2, 2, 0]).scalars == [4, 5, 4, 5, 0, 1])
        #expect(table.indexSelect(axis: -1, indices: [1]).scalars == [1, 3, 5])

        let s = y.indexAdd(axis: 1, indices: idx, size: 4)
        #expect(s.shape == [3, 4, 5])
        var expect = [Float](repeating: 0, count: 60)
        for o in 0..<3 { for j in 0..<5 { for k in 0..<5 {
            expect[NaiveIndex.ravel([o, idx[j], k], [3, 4, 5])] += y[o, j, k]
        } } }
        #expect(maxAbsDiff(s, Tensor(expect, shape: [3, 4, 5])) < 1e-6)
        // Wide rows (several 256-column blocks, SIMD tails) along axis 0, as in an embedding gradient.
        let rows = rand([6, 600], seed: 8)
        let added = rows.indexAdd(axis: 0, indices: [1, 0, 1, 3, 1, 0], size: 4)
        let naive = NaiveIndex.tensor([4, 600]) { o in
            [1, 0, 1, 3, 1, 0].enumerated().filter { $0.element == o[0] }.reduce(Float(0)) { $0 + rows[$1.offset, o[1]] }
        }
        #expect(maxAbsDiff(added, naive) < 1e-5)
    }

    @Test func indexGradients() {
        let x = rand([3, 4], seed: 9)
        checkGradients([x]) { weightedSquareLoss($0[0].indexSelect(axis: 0, indices: [2, 0, 2, 2])) }
        checkGradients([x]) { weightedSquareLoss($0[0].indexSelect(axis: 1, indices: [3, 1])) }
        checkGradients([rand([3, 2], seed: 10)]) {
            weightedSquareLoss($0[0].indexAdd(axis: 1, indices: [4, 4], size: 5))
        }
    }

    @Test func gatherAndScatterAddMatchNaive() {
        let x = rand([3, 5, 4], seed: 11)
        // Index tensor smaller than x outside the axis (torch.gather allows that).
        let idxShape = [2, 6, 3]
        let idx = NaiveIndex.tensor(idxShape) { o in Float((o[0] * 7 + o[1] * 3 + o[2]) % 5) }
        let y = x.gathered(alongAxis: 1, indices: idx)
        #expect(y.shape == idxShape)
        let ref = NaiveIndex.tensor(idxShape) { o in x.data[NaiveIndex.ravel([o[0], Int(idx[o[0], o[1], o[2]]), o[2]], x.shape)] }
        #expect(y.scalars == ref.scalars)

        let s = y.scatterAdded(alongAxis: 1, indices: idx, shape: x.shape)
        var expect = [Float](repeating: 0, count: x.count)
        for f in 0..<y.count {
            let o = NaiveIndex.unravel(f, idxShape)
            expect[NaiveIndex.ravel([o[0], Int(idx.data[f]), o[2]], x.shape)] += y.data[f]
        }
        #expect(maxAbsDiff(s, Tensor(expect, shape: x.shape)) < 1e-6)

        // Picking each row's label logit.
        let logits = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(logits.gathered(alongAxis: 1, indices: Tensor([2, 0], shape: [2, 1])).scalars == [3, 4])
        #expect(logits.gathered(alongAxis: 0, indices: Tensor([1, 0, 1], shape: [1, 3])).scalars == [4, 2, 6])
        #expect(logits.gathered(alongAxis: -1, indices: Tensor([1, 1], shape: [2, 1])).scalars == [2, 5])
    }

    @Test func gatherScatterGradients() {
        let x = rand([3, 4], seed: 12)
        let idx = Tensor([0, 3, 3, 1, 2, 2, 0, 0, 1], shape: [3, 3])
        checkGradients([x]) { weightedSquareLoss($0[0].gathered(alongAxis: 1, indices: idx)) }
        checkGradients([x]) { weightedSquareLoss($0[0].gathered(alongAxis: 0, indices: Tensor([2, 0, 2, 1], shape: [1, 4]))) }
        checkGradients([rand([3, 3], seed: 13)]) {
            weightedSquareLoss($0[0].scatterAdded(alongAxis: 1, indices: idx, shape: [3, 5]))
        }
    }

    @Test func oneHotEncodes() {
        let h = Tensor.oneHot([2, 0, 1, 2], classes: 3)
        #expect(h.shape == [4, 3])
        #expect(h.scalars == [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(Tensor.oneHot([], classes: 5).shape == [0, 5])
    }

    // MARK: Higher order and empty tensors

    @Test func secondOrderThroughShapeChain() {
        let c = rand([4, 6], seed: 20)
        let idx = Tensor([2, 0, 1, 1, 2, 0, 0, 1], shape: [4, 2])
        hessianVectorCheck(rand([3, 4], seed: 21), rand([3, 4], seed: 22)) { x in
            let p = x.permuted([1, 0])                                            // [4, 3]
            let y = Tensor.concat([p, x.reshaped(to: [4, 3]).slice(axis: 1, range: 1..<3) * 2, p.narrowed(axis: 1, start: 0, length: 1)], axis: 1)  // [4, 6]
            let z = (y * c).padded(axis: 0, before: 1, after: 0)                  // [5, 6]
            let picked = p.gathered(alongAxis: 1, indices: idx)                   // [4, 2]
            let rows = x.indexSelect(axis: 0, indices: [2, 2, 0])
            return (z * z * z).sum() + (picked * picked * picked).sum() + rows.mul2().mul2().sum()
        }
    }

    @Test func emptyTensors() {
        let e = rand([0, 3])
        #expect(e.permuted([1, 0]).shape == [3, 0])
        #expect(rand([2, 0, 4]).transposed().shape == [2, 4, 0])
        #expect(rand([3, 4]).slice(axis: 1, range: 2..<2).shape == [3, 0])
        #expect(e.padded([(before: 1, after: 1), (before: 0, after: 0)], value: 3).scalars == [3, 3, 3, 3, 3, 3])
        #expect(Tensor.concat([e, rand([2, 3])], axis: 0).shape == [2, 3])
        #expect(Tensor.concat([e, e], axis: 1).shape == [0, 6])
        #expect(Tensor.stack([e, e]).shape == [2, 0, 3])
        #expect(rand([3, 4]).indexSelect(axis: 0, indices: []).shape == [0, 4])
        #expect(e.indexSelect(axis: 1, indices: [0, 2]).shape == [0, 2])
        #expect(rand([0, 2]).indexAdd(axis: 0, indices: [], size: 3).scalars == [0, 0, 0, 0, 0, 0])
        #expect(rand([3, 4]).gathered(alongAxis: 1, indices: Tensor.zeros([3, 0])).shape == [3, 0])
        #expect(e.split(sizes: [1, 2], axis: 1).map(\.shape) == [[0, 1], [0, 2]])
        // Gradients through empty parts are empty, and the rest still flows.
        let a = rand([2, 3]).requiringGradient(), z = rand([0, 3]).requiringGradient()
        let g = gradients(of: Tensor.concat([a, z], axis: 0).mul2().sum(), wrt: [a, z])
        #expect(g[1].shape == [0, 3] && maxAbsDiff(g[0], a * 2) < 1e-6)
        let ge = gradients(of: z.permuted([1, 0]).padded(axis: 1, before: 1, after: 0).sum(), wrt: [z])[0]
        #expect(ge.shape == [0, 3])
    }
}
