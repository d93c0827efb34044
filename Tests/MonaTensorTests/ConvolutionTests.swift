import Testing
@testable import MonaTensor

/// One convolution configuration (PyTorch parameter names).
struct ConvCase: Sendable, CustomTestStringConvertible {
    var batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int
    var kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)
    var groups = 1, bias = true

    var inputShape: [Int] { [batch, inChannels, height, width] }
    var weightShape: [Int] { [outChannels, inChannels / groups, kernel.0, kernel.1] }
    var testDescription: String {
        "x\(inputShape) w\(weightShape) s\(stride) p\(padding) d\(dilation) g\(groups)\(bias ? " +b" : "")"
    }

    func run(_ x: Tensor, _ w: Tensor, _ b: Tensor?) -> Tensor {
        Tensor.conv2d(x, w, bias: b, stride: Size2D(stride.0, stride.1), padding: Size2D(padding.0, padding.1),
                      dilation: Size2D(dilation.0, dilation.1), groups: groups)
    }
}

/// Direct Double loops: out[n, o, i, j] = b[o] + Σ x[n, c, i·s − p + a·d, j·s − p + e·d] · w[o, c', a, e].
func naiveConv2d(_ x: Tensor, _ w: Tensor, bias: Tensor?, stride s: (Int, Int), padding p: (Int, Int),
                 dilation d: (Int, Int), groups: Int) -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let oh = (h + 2 * p.0 - d.0 * (kh - 1) - 1) / s.0 + 1, ow = (wd + 2 * p.1 - d.1 * (kw - 1) - 1) / s.1 + 1
    var out = [Float](repeating: 0, count: n * o * oh * ow)
    let og = o / groups
    for b in 0..<n { for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
        var acc = Double(bias?.data[oc] ?? 0)
        let g = oc / og
        for ci in 0..<cg {
            let cin = g * cg + ci
            for a in 0..<kh { for e in 0..<kw {
                let ih = i * s.0 - p.0 + a * d.0, iw = j * s.1 - p.1 + e * d.1
                guard ih >= 0 && ih < h && iw >= 0 && iw < wd else { continue }
                acc += Double(x.data[((b * c + cin) * h + ih) * wd + iw]) * Double(w.data[((oc * cg + ci) * kh + a) * kw + e])
            } }
        }
        out[((b * o + oc) * oh + i) * ow + j] = Float(acc)
    } } } }
    return Tensor(out, shape: [n, o, oh, ow])
}

/// Direct Double loops for the transposed convolution: every input pixel scatters weight·x into the output.
func naiveConvTranspose2d(_ x: Tensor, _ w: Tensor, bias: Tensor?, stride s: (Int, Int), padding p: (Int, Int),
                          outputPadding op: (Int, Int), dilation d: (Int, Int), groups: Int) -> Tensor {
    let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (coutG, kh, kw) = (w.shape[1], w.shape[2], w.shape[3])
    let cout = coutG * groups, cinG = cin / groups
    let oh = (h - 1) * s.0 - 2 * p.0 + d.0 * (kh - 1) + op.0 + 1
    let ow = (wd - 1) * s.1 - 2 * p.1 + d.1 * (kw - 1) + op.1 + 1
    var out = [Double](repeating: 0, count: n * cout * oh * ow)
    for b in 0..<n { for ic in 0..<cin { for i in 0..<h { for j in 0..<wd {
        let g = ic / cinG, xv = Double(x.data[((b * cin + ic) * h + i) * wd + j])
        for oc in 0..<coutG { for a in 0..<kh { for e in 0..<kw {
            let y = i * s.0 - p.0 + a * d.0, z = j * s.1 - p.1 + e * d.1
            guard y >= 0 && y < oh && z >= 0 && z < ow else { continue }
            out[((b * cout + g * coutG + oc) * oh + y) * ow + z] += xv * Double(w.data[((ic * coutG + oc) * kh + a) * kw + e])
        } } }
    } } } }
    if let bias {
        for b in 0..<n { for oc in 0..<cout { for k in 0..<(oh * ow) { out[(b * cout + oc) * oh * ow + k] += Double(bias.data[oc]) } } }
    }
    return Tensor(out.map { Float($0) }, shape: [n, cout, oh, ow])
}

/// Direct unfold: cols[n, (c·kH + a)·kW + e, i·oW + j] = x[n, c, i·s − p + a·d, j·s − p + e·d] or 0.
func naiveIm2col(_ x: Tensor, kernel k: (Int, Int), stride s: (Int, Int), padding p: (Int, Int),
                 dilation d: (Int, Int)) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let oh = (h + 2 * p.0 - d.0 * (k.0 - 1) - 1) / s.0 + 1, ow = (w + 2 * p.1 - d.1 * (k.1 - 1) - 1) / s.1 + 1
    let rows = c * k.0 * k.1, l = oh * ow
    var out = [Float](repeating: 0, count: n * rows * l)
    for b in 0..<n { for ch in 0..<c { for a in 0..<k.0 { for e in 0..<k.1 { for i in 0..<oh { for j in 0..<ow {
        let ih = i * s.0 - p.0 + a * d.0, iw = j * s.1 - p.1 + e * d.1
        guard ih >= 0 && ih < h && iw >= 0 && iw < w else { continue }
        out[(b * rows + (ch * k.0 + a) * k.1 + e) * l + i * ow + j] = x.data[((b * c + ch) * h + ih) * w + iw]
    } } } } } }
    return Tensor(out, shape: [n, rows, l])
}

/// Σ a·b in Double.
func convTestDot(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape, "dot: \(a.shape) vs \(b.shape)")
    var s = 0.0
    for i in 0..<a.count { s += Double(a.data[i]) * Double(b.data[i]) }
    return s
}

/// Largest |x| (for relative comparisons).
func convTestMaxAbs(_ a: Tensor) -> Float { a.scalars.reduce(0) { max($0, abs($1)) } }

@Suite struct ConvolutionTests {
    static let cases: [ConvCase] = [
        ConvCase(batch: 2, inChannels: 3, height: 7, width: 9, outChannels: 4, kernel: (3, 2), stride: (2, 1),
                 padding: (1, 0), dilation: (1, 2)),
        ConvCase(batch: 1, inChannels: 4, height: 5, width: 5, outChannels: 6, kernel: (3, 3), padding: (1, 1),
                 groups: 2),
        ConvCase(batch: 3, inChannels: 2, height: 6, width: 7, outChannels: 2, kernel: (2, 3), stride: (3, 2),
                 padding: (0, 1), dilation: (2, 1), bias: false),
        ConvCase(batch: 2, inChannels: 3, height: 5, width: 6, outChannels: 6, kernel: (3, 3), stride: (2, 2),
                 padding: (1, 1), groups: 3),                                        // depthwise, multiplier 2
        ConvCase(batch: 2, inChannels: 3, height: 4, width: 5, outChannels: 5, kernel: (1, 1)),     // pointwise
        ConvCase(batch: 2, inChannels: 3, height: 5, width: 5, outChannels: 2, kernel: (1, 1), stride: (2, 2)),
        ConvCase(batch: 2, inChannels: 3, height: 8, width: 10, outChannels: 5, kernel: (4, 5), stride: (4, 5)),
        ConvCase(batch: 2, inChannels: 2, height: 9, width: 11, outChannels: 3, kernel: (3, 3), stride: (3, 3),
                 bias: false),                                                       // patchifier, ragged edges
        ConvCase(batch: 1, inChannels: 1, height: 3, width: 3, outChannels: 1, kernel: (5, 5), padding: (2, 2)),
    ]

    @Test(arguments: cases) func conv2dMatchesNaiveLoops(_ c: ConvCase) {
        let x = rand(c.inputShape, seed: 1), w = rand(c.weightShape, seed: 2)
        let b = c.bias ? rand([c.outChannels], seed: 3) : nil
        let got = c.run(x, w, b)
        let want = naiveConv2d(x, w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation,
                               groups: c.groups)
        #expect(got.shape == want.shape)
        #expect(maxAbsDiff(got, want) < 1e-5)
    }

    /// Small configurations for finite differences (a few dozen elements each).
    static let gradientCases: [ConvCase] = [
        ConvCase(batch: 2, inChannels: 2, height: 4, width: 5, outChannels: 2, kernel: (3, 2), stride: (2, 1),
                 padding: (1, 0), dilation: (1, 2)),
        ConvCase(batch: 1, inChannels: 4, height: 3, width: 3, outChannels: 2, kernel: (2, 2), padding: (1, 1),
                 groups: 2),
        ConvCase(batch: 1, inChannels: 2, height: 5, width: 4, outChannels: 2, kernel: (2, 2), stride: (2, 1),
                 padding: (0, 1), dilation: (2, 1), bias: false),
        ConvCase(batch: 2, inChannels: 2, height: 3, width: 3, outChannels: 2, kernel: (3, 3), padding: (1, 1),
                 groups: 2),                                                         // depthwise
        ConvCase(batch: 2, inChannels: 3, height: 2, width: 3, outChannels: 2, kernel: (1, 1)),     // pointwise
        ConvCase(batch: 2, inChannels: 2, height: 5, width: 4, outChannels: 3, kernel: (2, 2), stride: (2, 2)),
    ]

    @Test(arguments: gradientCases) func conv2dGradients(_ c: ConvCase) {
        let x = rand(c.inputShape, seed: 4), w = rand(c.weightShape, seed: 5) * 0.5
        if c.bias {
            checkGradients([x, w, rand([c.outChannels], seed: 6)]) { c.run($0[0], $0[1], $0[2]).mul2().sum() }
        } else {
            checkGradients([x, w]) { c.run($0[0], $0[1], nil).mul2().sum() }
        }
    }

    @Test func patchifierPathAgreesWithGeneralPath() {
        // kernel == stride, no padding: conv2d takes the patch-gather path; the im2col path must agree exactly
        // in value and gradient, including ragged edges that the patches drop.
        for (h, w) in [(8, 12), (9, 14)] {
            let x = rand([3, 3, h, w], seed: 7), wt = rand([5, 3, 4, 4], seed: 8), b = rand([5], seed: 9)
            let geo = WindowGeometry2D(op: "test", inputShape: x.shape, kernel: 4, stride: 4, padding: 0, dilation: 1)
            let fast = Tensor.conv2d(x, wt, bias: b, stride: 4)
            #expect(fast.gradOp == nil)
            let general = Tensor.conv2dColumns(x, wt, bias: b, geo, groups: 1)
            #expect(fast.shape == [3, 5, h / 4, w / 4])
            #expect(maxAbsDiff(fast, general) < 1e-5)

            let xv = x.requiringGradient(), wv = wt.requiringGradient(), bv = b.requiringGradient()
            let seed = rand(fast.shape, seed: 10)
            let fastPath = Tensor.conv2d(xv, wv, bias: bv, stride: 4)
            #expect(fastPath.node?.inputs[0].gradOp == "swapLastTwoAxes")   // took the patch path
            let gf = gradients(of: fastPath, wrt: [xv, wv, bv], seed: seed)
            let gg = gradients(of: Tensor.conv2dColumns(xv, wv, bias: bv, geo, groups: 1), wrt: [xv, wv, bv], seed: seed)
            for k in 0..<3 { #expect(maxAbsDiff(gf[k], gg[k]) < 1e-4) }
        }
    }

    @Test func patchEmbeddingGivesTokens() {
        let x = rand([2, 3, 9, 8], seed: 11), w = rand([4, 3, 3, 2], seed: 12), b = rand([4], seed: 13)
        let tokens = Tensor.patchEmbedding2d(x, w, bias: b)                         // [2, 12, 4]
        let conv = naiveConv2d(x, w, bias: b, stride: (3, 2), padding: (0, 0), dilation: (1, 1), groups: 1)
        #expect(tokens.shape == [2, 12, 4])
        var worst: Float = 0
        for n in 0..<2 { for l in 0..<12 { for o in 0..<4 {
            worst = max(worst, abs(tokens[n, l, o] - conv[n, o, l / 4, l % 4]))
        } } }
        #expect(worst < 1e-5)

        let x1 = rand([2, 3, 10], seed: 14), w1 = rand([4, 3, 3], seed: 15)
        let t1 = Tensor.patchEmbedding1d(x1, w1)                                    // [2, 3, 4]
        let c1 = Tensor.conv1d(x1, w1, stride: 3)                                    // [2, 4, 3]
        #expect(t1.shape == [2, 3, 4] && c1.shape == [2, 4, 3])
        var worst1: Float = 0
        for n in 0..<2 { for l in 0..<3 { for o in 0..<4 { worst1 = max(worst1, abs(t1[n, l, o] - c1[n, o, l])) } } }
        #expect(worst1 < 1e-5)
        checkGradients([rand([1, 2, 4, 6], seed: 16), rand([3, 2, 2, 3], seed: 17), rand([3], seed: 18)]) {
            Tensor.patchEmbedding2d($0[0], $0[1], bias: $0[2]).mul2().sum()
        }
    }

    @Test func conv1dMatchesNaiveLoops() {
        let configs: [(n: Int, c: Int, l: Int, o: Int, k: Int, s: Int, p: Int, d: Int, g: Int)] = [
            (2, 3, 11, 4, 3, 2, 1, 1, 1), (1, 4, 9, 4, 2, 1, 0, 3, 2), (3, 2, 12, 5, 4, 4, 0, 1, 1),
            (2, 4, 7, 8, 3, 1, 1, 1, 4),
        ]
        for t in configs {
            let x = rand([t.n, t.c, t.l], seed: 20), w = rand([t.o, t.c / t.g, t.k], seed: 21), b = rand([t.o], seed: 22)
            let got = Tensor.conv1d(x, w, bias: b, stride: t.s, padding: t.p, dilation: t.d, groups: t.g)
            let want = naiveConv2d(x.reshaped(to: [t.n, t.c, 1, t.l]), w.reshaped(to: [t.o, t.c / t.g, 1, t.k]), bias: b,
                                   stride: (1, t.s), padding: (0, t.p), dilation: (1, t.d), groups: t.g)
            #expect(got.shape == [t.n, t.o, want.shape[3]])
            #expect(maxAbsDiff(got, want.reshaped(to: got.shape)) < 1e-5)
        }
        checkGradients([rand([2, 2, 7], seed: 23), rand([3, 2, 3], seed: 24), rand([3], seed: 25)]) {
            Tensor.conv1d($0[0], $0[1], bias: $0[2], stride: 2, padding: 1, dilation: 2).mul2().sum()
        }
    }

    @Test func im2colMatchesNaiveAndCol2imIsItsAdjoint() {
        let configs: [(k: (Int, Int), s: (Int, Int), p: (Int, Int), d: (Int, Int))] = [
            ((3, 2), (2, 1), (1, 0), (1, 2)), ((2, 3), (1, 3), (2, 1), (2, 1)), ((1, 1), (1, 1), (0, 0), (1, 1)),
            ((3, 3), (3, 3), (0, 0), (1, 1)),
        ]
        for t in configs {
            let x = rand([2, 3, 7, 8], seed: 30)
            let k = Size2D(t.k.0, t.k.1), s = Size2D(t.s.0, t.s.1), p = Size2D(t.p.0, t.p.1), d = Size2D(t.d.0, t.d.1)
            let cols = x.im2col(kernel: k, stride: s, padding: p, dilation: d)
            let want = naiveIm2col(x, kernel: t.k, stride: t.s, padding: t.p, dilation: t.d)
            #expect(cols.shape == want.shape)
            #expect(maxAbsDiff(cols, want) == 0)
            // ⟨im2col x, y⟩ = ⟨x, col2im y⟩.
            let y = rand(cols.shape, seed: 31)
            let folded = y.col2im(outputSize: (7, 8), kernel: k, stride: s, padding: p, dilation: d)
            #expect(folded.shape == x.shape)
            #expect(abs(convTestDot(cols, y) - convTestDot(x, folded)) < 1e-4 * max(1, abs(convTestDot(cols, y))))
        }
        let x1 = rand([2, 2, 9], seed: 32)
        let c1 = x1.im2col1d(kernel: 3, stride: 2, padding: 1, dilation: 2)
        #expect(maxAbsDiff(c1, naiveIm2col(x1.reshaped(to: [2, 2, 1, 9]), kernel: (1, 3), stride: (1, 2),
                                            padding: (0, 1), dilation: (1, 2))) == 0)
        let y1 = rand(c1.shape, seed: 33)
        let f1 = y1.col2im1d(outputLength: 9, kernel: 3, stride: 2, padding: 1, dilation: 2)
        #expect(abs(convTestDot(c1, y1) - convTestDot(x1, f1)) < 1e-4)
    }

    @Test func im2colAndCol2imGradients() {
        let x = rand([1, 2, 4, 5], seed: 34)
        checkGradients([x]) { $0[0].im2col(kernel: [2, 3], stride: [1, 2], padding: 1, dilation: [2, 1]).mul2().sum() }
        let cols = rand([1, 2 * 6, 6], seed: 35)   // 2 channels, 2×3 kernel, 2×3 windows over 3×5
        checkGradients([cols]) {
            $0[0].col2im(outputSize: (3, 5), kernel: [2, 3], stride: [1, 1], padding: [0, 0], dilation: 1).mul2().sum()
        }
        // Second order: the backward of each is the other, so a Hessian-vector product is exact.
        let xv = x.requiringGradient(), v = rand(x.shape, seed: 36)
        let g = gradients(of: xv.im2col(kernel: 3, padding: 1).mul2().sum(), wrt: [xv], createGraph: true)[0]
        let hv = gradients(of: (g * v).sum(), wrt: [xv])[0]
        // f = Σ (unfold x)² ⇒ H v = 2·fold(unfold v).
        let want = Tensor.fold(Tensor.unfold(v, WindowGeometry2D(op: "t", inputShape: x.shape, kernel: 3, stride: 1,
                                                                 padding: 1, dilation: 1)),
                               WindowGeometry2D(op: "t", inputShape: x.shape, kernel: 3, stride: 1, padding: 1,
                                                dilation: 1)) * 2
        #expect(maxAbsDiff(hv, want) < 1e-5)
    }

    @Test func convTranspose2dMatchesNaiveLoops() {
        let configs: [(n: Int, cin: Int, h: Int, w: Int, coutG: Int, k: (Int, Int), s: (Int, Int), p: (Int, Int),
                       op: (Int, Int), d: (Int, Int), g: Int)] = [
            (2, 3, 4, 5, 2, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 1),
            (1, 4, 3, 3, 3, (2, 3), (3, 1), (0, 1), (2, 0), (1, 2), 2),
            (2, 2, 5, 4, 2, (3, 2), (1, 2), (2, 0), (0, 1), (2, 1), 1),
            (1, 2, 3, 4, 1, (2, 2), (2, 2), (0, 0), (0, 0), (1, 1), 2),
            (2, 3, 3, 3, 4, (3, 3), (1, 1), (1, 1), (2, 2), (3, 3), 1),   // outputPadding < dilation only
        ]
        for t in configs {
            let x = rand([t.n, t.cin, t.h, t.w], seed: 40), w = rand([t.cin, t.coutG, t.k.0, t.k.1], seed: 41)
            let b = rand([t.coutG * t.g], seed: 42)
            let got = Tensor.convTranspose2d(x, w, bias: b, stride: Size2D(t.s.0, t.s.1), padding: Size2D(t.p.0, t.p.1),
                                             outputPadding: Size2D(t.op.0, t.op.1), dilation: Size2D(t.d.0, t.d.1),
                                             groups: t.g)
            let want = naiveConvTranspose2d(x, w, bias: b, stride: t.s, padding: t.p, outputPadding: t.op,
                                            dilation: t.d, groups: t.g)
            #expect(got.shape == want.shape)
            #expect(maxAbsDiff(got, want) < 1e-5)
        }
        // conv_transpose2d is the adjoint of conv2d in its input: ⟨conv(x, w), y⟩ = ⟨x, convT(y, w)⟩.
        let x = rand([2, 3, 7, 6], seed: 43), w = rand([4, 3, 3, 2], seed: 44)
        let y = Tensor.conv2d(x, w, stride: [2, 1], padding: [1, 0], dilation: [1, 2])
        let r = rand(y.shape, seed: 45)
        let back = Tensor.convTranspose2d(r, w, stride: [2, 1], padding: [1, 0], dilation: [1, 2])
        #expect(back.shape == x.shape)
        #expect(abs(convTestDot(y, r) - convTestDot(x, back)) < 1e-4 * max(1, abs(convTestDot(y, r))))

        let x1 = rand([2, 2, 5], seed: 46), w1 = rand([2, 3, 3], seed: 47)
        let t1 = Tensor.convTranspose1d(x1, w1, stride: 2, padding: 1, outputPadding: 1)
        let n1 = naiveConvTranspose2d(x1.reshaped(to: [2, 2, 1, 5]), w1.reshaped(to: [2, 3, 1, 3]), bias: nil,
                                      stride: (1, 2), padding: (0, 1), outputPadding: (0, 1), dilation: (1, 1), groups: 1)
        #expect(t1.shape == [2, 3, 10])
        #expect(maxAbsDiff(t1, n1.reshaped(to: [2, 3, 10])) < 1e-5)
    }

    @Test func convTranspose2dGradients() {
        checkGradients([rand([1, 2, 3, 3], seed: 50), rand([2, 2, 3, 2], seed: 51), rand([2], seed: 52)]) {
            Tensor.convTranspose2d($0[0], $0[1], bias: $0[2], stride: [2, 1], padding: [1, 0], outputPadding: [1, 0])
                .mul2().sum()
        }
        checkGradients([rand([1, 4, 2, 3], seed: 53), rand([4, 1, 2, 2], seed: 54)]) {
            Tensor.convTranspose2d($0[0], $0[1], stride: 2, dilation: [1, 2], groups: 2).mul2().sum()
        }
        checkGradients([rand([2, 2, 4], seed: 55), rand([2, 2, 3], seed: 56)]) {
            Tensor.convTranspose1d($0[0], $0[1], stride: 2, padding: 1).mul2().sum()
        }
    }

    /// Hessian-vector product through double backward vs finite differences of gradients, jointly in
    /// (input, weight) so the input-input, weight-weight and mixed blocks are all exercised.
    func checkSecondOrder(_ x: Tensor, _ w: Tensor, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation,
                          _ conv: (Tensor, Tensor) -> Tensor) {
        let vx = rand(x.shape, seed: seed), vw = rand(w.shape, seed: seed + 1)
        func grads(_ x: Tensor, _ w: Tensor, createGraph: Bool) -> [Tensor] {
            let y = conv(x, w)
            return gradients(of: (y * y * y).sum(), wrt: [x, w], createGraph: createGraph)
        }
        let xv = x.requiringGradient(), wv = w.requiringGradient()
        let g = grads(xv, wv, createGraph: true)
        let hv = gradients(of: (g[0] * vx).sum() + (g[1] * vw).sum(), wrt: [xv, wv])
        let h: Float = 1e-2
        let plus = grads((x + vx * h).requiringGradient(), (w + vw * h).requiringGradient(), createGraph: false)
        let minus = grads((x - vx * h).requiringGradient(), (w - vw * h).requiringGradient(), createGraph: false)
        for k in 0..<2 {
            let fd = (plus[k] - minus[k]) / (2 * h)
            #expect(maxAbsDiff(hv[k], fd) <= 2e-3 * max(1, convTestMaxAbs(fd)), "block \(k)", sourceLocation: sourceLocation)
        }
    }

    @Test func conv2dSecondOrder() {
        checkSecondOrder(rand([2, 2, 5, 4], seed: 60), rand([3, 2, 3, 2], seed: 61) * 0.5, seed: 62) {
            Tensor.conv2d($0, $1, stride: [2, 1], padding: 1, dilation: [1, 2])
        }
        checkSecondOrder(rand([1, 4, 4, 4], seed: 63), rand([4, 2, 2, 2], seed: 64) * 0.5, seed: 65) {
            Tensor.conv2d($0, $1, padding: 1, groups: 2)
        }
        checkSecondOrder(rand([2, 2, 4, 6], seed: 66), rand([3, 2, 2, 3], seed: 67) * 0.5, seed: 68) {
            Tensor.conv2d($0, $1, stride: [2, 3])                                        // patchifier path
        }
        checkSecondOrder(rand([1, 2, 3, 3], seed: 69), rand([2, 3, 2, 2], seed: 70) * 0.5, seed: 71) {
            Tensor.convTranspose2d($0, $1, stride: 2, padding: [1, 0])
        }
    }

    @Test func emptyBatchAndChannels() {
        let y = Tensor.conv2d(Tensor.zeros([0, 3, 5, 5]), rand([4, 3, 3, 3], seed: 80), bias: rand([4], seed: 81), padding: 1)
        #expect(y.shape == [0, 4, 5, 5])
        let w = rand([4, 3, 3, 3], seed: 82).requiringGradient()
        let g = gradients(of: Tensor.conv2d(Tensor.zeros([0, 3, 5, 5]), w).sum(), wrt: [w])[0]
        #expect(g.shape == w.shape && convTestMaxAbs(g) == 0)
        let p = Tensor.conv2d(Tensor.zeros([0, 3, 8, 8]), rand([4, 3, 4, 4], seed: 83), stride: 4)
        #expect(p.shape == [0, 4, 2, 2])
        // No input channels: the output is the bias alone, on both paths.
        let b = rand([3], seed: 85)
        for stride in [1, 2] {
            let z = Tensor.conv2d(Tensor.zeros([2, 0, 4, 4]), Tensor.zeros([3, 0, 2, 2]), bias: b, stride: Size2D(stride))
            #expect(z.shape == [2, 3, 4 / stride - (stride == 1 ? 1 : 0), 4 / stride - (stride == 1 ? 1 : 0)])
            #expect(maxAbsDiff(z, b.reshaped(to: [1, 3, 1, 1]).expanded(to: z.shape)) == 0)
        }
        #expect(Tensor.convTranspose2d(Tensor.zeros([0, 2, 3, 3]), rand([2, 2, 2, 2], seed: 84)).shape == [0, 2, 4, 4])
    }

    @Test func nanPropagates() {
        var x = rand([1, 1, 4, 4], seed: 90)
        x[0, 0, 1, 1] = .nan
        let y = Tensor.conv2d(x, Tensor.ones([1, 1, 2, 2]))
        #expect(y[0, 0, 0, 0].isNaN && y[0, 0, 1, 1].isNaN && !y[0, 0, 2, 2].isNaN)
        let p = Tensor.conv2d(x, Tensor.ones([1, 1, 2, 2]), stride: 2)
        #expect(p[0, 0, 0, 0].isNaN && !p[0, 0, 1, 1].isNaN)
    }
}
