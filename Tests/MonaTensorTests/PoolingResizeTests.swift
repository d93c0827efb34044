import Foundation
import Testing
@testable import MonaTensor

// MARK: Naive Double references (PyTorch semantics)

/// Applies `f(plane, h, w, oh, ow) -> value` to every output pixel of every [N·C] plane.
private func naivePlanes(_ x: Tensor, outSize: (Int, Int),
                         _ f: (_ plane: (Int, Int) -> Double, _ i: Int, _ j: Int) -> Double) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    var out = [Float]()
    for p in 0..<(n * c) {
        let base = p * h * w
        for i in 0..<outSize.0 { for j in 0..<outSize.1 {
            out.append(Float(f({ a, b in Double(x.data[base + a * w + b]) }, i, j)))
        } }
    }
    return Tensor(out, shape: [n, c, outSize.0, outSize.1])
}

private func poolOut(_ n: Int, _ k: Int, _ s: Int, _ p: Int) -> Int { (n + 2 * p - k) / s + 1 }

func naiveAvgPool2d(_ x: Tensor, kernel k: (Int, Int), stride s: (Int, Int), padding p: (Int, Int)) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3])
    return naivePlanes(x, outSize: (poolOut(h, k.0, s.0, p.0), poolOut(w, k.1, s.1, p.1))) { v, i, j in
        var acc = 0.0
        for a in 0..<k.0 { for b in 0..<k.1 {
            let y = i * s.0 - p.0 + a, z = j * s.1 - p.1 + b
            if y >= 0 && y < h && z >= 0 && z < w { acc += v(y, z) }
        } }
        return acc / Double(k.0 * k.1)
    }
}

func naiveMaxPool2d(_ x: Tensor, kernel k: (Int, Int), stride s: (Int, Int), padding p: (Int, Int)) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3])
    return naivePlanes(x, outSize: (poolOut(h, k.0, s.0, p.0), poolOut(w, k.1, s.1, p.1))) { v, i, j in
        var m = -Double.infinity
        for a in 0..<k.0 { for b in 0..<k.1 {
            let y = i * s.0 - p.0 + a, z = j * s.1 - p.1 + b
            if y >= 0 && y < h && z >= 0 && z < w { m = v(y, z).isNaN || m.isNaN ? .nan : max(m, v(y, z)) }
        } }
        return m
    }
}

func naiveAdaptiveAvgPool2d(_ x: Tensor, _ o: (Int, Int)) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3])
    return naivePlanes(x, outSize: o) { v, i, j in
        let h0 = Int(floor(Double(i * h) / Double(o.0))), h1 = Int(ceil(Double((i + 1) * h) / Double(o.0)))
        let w0 = Int(floor(Double(j * w) / Double(o.1))), w1 = Int(ceil(Double((j + 1) * w) / Double(o.1)))
        var acc = 0.0
        for a in h0..<h1 { for b in w0..<w1 { acc += v(a, b) } }
        return acc / Double((h1 - h0) * (w1 - w0))
    }
}

/// Source coordinate with align_corners=False (and PyTorch's clamp at 0 for linear modes).
private func sourceCoordinate(_ o: Int, scale: Double, clampNegative: Bool) -> Double {
    let s = scale * (Double(o) + 0.5) - 0.5
    return clampNegative ? max(s, 0) : s
}

func naiveBilinear(_ x: Tensor, _ o: (Int, Int), scale: (Double, Double)? = nil) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3])
    let sc = scale ?? (Double(h) / Double(o.0), Double(w) / Double(o.1))
    return naivePlanes(x, outSize: o) { v, i, j in
        let sy = sourceCoordinate(i, scale: sc.0, clampNegative: true)
        let sx = sourceCoordinate(j, scale: sc.1, clampNegative: true)
        let y0 = min(Int(sy), h - 1), x0 = min(Int(sx), w - 1)
        let y1 = min(y0 + 1, h - 1), x1 = min(x0 + 1, w - 1)
        let ly = sy - Double(y0), lx = sx - Double(x0)
        return (1 - ly) * ((1 - lx) * v(y0, x0) + lx * v(y0, x1)) + ly * ((1 - lx) * v(y1, x0) + lx * v(y1, x1))
    }
}

/// Keys cubic convolution kernel with A = −0.75.
private func cubicWeight(_ d: Double) -> Double {
    let a = -0.75, x = abs(d)
    if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
    if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    return 0
}

func naiveBicubic(_ x: Tensor, _ o: (Int, Int), scale: (Double, Double)? = nil) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3])
    let sc = scale ?? (Double(h) / Double(o.0), Double(w) / Double(o.1))
    return naivePlanes(x, outSize: o) { v, i, j in
        let sy = sourceCoordinate(i, scale: sc.0, clampNegative: false)
        let sx = sourceCoordinate(j, scale: sc.1, clampNegative: false)
        let fy = floor(sy), fx = floor(sx)
        var acc = 0.0
        for a in -1...2 { for b in -1...2 {
            let yy = min(max(Int(fy) + a, 0), h - 1), xx = min(max(Int(fx) + b, 0), w - 1)
            acc += cubicWeight(sy - (fy + Double(a))) * cubicWeight(sx - (fx + Double(b))) * v(yy, xx)
        } }
        return acc
    }
}

/// Hessian-vector product of Σ f(x)³ via double backward vs finite differences of gradients.
private func checkHessianVectorProduct(_ x: Tensor, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation,
                      _ f: (Tensor) -> Tensor) {
    let v = rand(x.shape, seed: seed)
    func grad(_ x: Tensor, createGraph: Bool) -> Tensor {
        let y = f(x)
        return gradients(of: (y * y * y).sum(), wrt: [x], createGraph: createGraph)[0]
    }
    let xv = x.requiringGradient()
    let hv = gradients(of: (grad(xv, createGraph: true) * v).sum(), wrt: [xv])[0]
    let h: Float = 1e-2
    let fd = (grad((x + v * h).requiringGradient(), createGraph: false)
              - grad((x - v * h).requiringGradient(), createGraph: false)) / (2 * h)
    #expect(maxAbsDiff(hv, fd) <= 2e-3 * max(1, convTestMaxAbs(fd)), sourceLocation: sourceLocation)
}

/// Distinct values (gaps of 0.1) in random order, so that small perturbations never change a max-pool argmax.
private func distinctValues(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = SeededGenerator(seed: seed)
    let n = shape.reduce(1, *)
    return Tensor(Tensor.randomPermutation(n, generator: &g).map { Float($0) * 0.1 - Float(n) * 0.05 }, shape: shape)
}

@Suite struct PoolingResizeTests {
    static let windows: [(k: (Int, Int), s: (Int, Int), p: (Int, Int))] = [
        ((3, 2), (2, 1), (1, 1)), ((2, 2), (2, 2), (0, 0)), ((3, 3), (1, 2), (1, 0)), ((1, 3), (1, 3), (0, 1)),
        ((4, 5), (3, 2), (2, 2)),
    ]

    @Test func avgPoolMatchesNaiveLoops() {
        let x = rand([2, 3, 7, 9], seed: 1)
        for t in Self.windows {
            let got = x.avgPool2d(kernel: Size2D(t.k.0, t.k.1), stride: Size2D(t.s.0, t.s.1), padding: Size2D(t.p.0, t.p.1))
            let want = naiveAvgPool2d(x, kernel: t.k, stride: t.s, padding: t.p)
            #expect(got.shape == want.shape)
            #expect(maxAbsDiff(got, want) < 1e-6)
        }
        // Default stride = kernel.
        #expect(maxAbsDiff(x.avgPool2d(kernel: 2), naiveAvgPool2d(x, kernel: (2, 2), stride: (2, 2), padding: (0, 0))) < 1e-6)
        let x1 = rand([2, 3, 11], seed: 2)
        let got1 = x1.avgPool1d(kernel: 4, stride: 3, padding: 2)
        let want1 = naiveAvgPool2d(x1.reshaped(to: [2, 3, 1, 11]), kernel: (1, 4), stride: (1, 3), padding: (0, 2))
        #expect(got1.shape == [2, 3, 4])
        #expect(maxAbsDiff(got1, want1.reshaped(to: [2, 3, 4])) < 1e-6)
        // count_include_pad: a corner window of ones padded by 1 averages 4/9.
        #expect(abs(Tensor.ones([1, 1, 3, 3]).avgPool2d(kernel: 3, stride: 1, padding: 1)[0, 0, 0, 0] - 4.0 / 9) < 1e-6)
    }

    @Test func maxPoolMatchesNaiveLoops() {
        let x = rand([2, 3, 7, 9], seed: 3)
        for t in Self.windows {
            let got = x.maxPool2d(kernel: Size2D(t.k.0, t.k.1), stride: Size2D(t.s.0, t.s.1), padding: Size2D(t.p.0, t.p.1))
            let want = naiveMaxPool2d(x, kernel: t.k, stride: t.s, padding: t.p)
            #expect(got.shape == want.shape)
            #expect(maxAbsDiff(got, want) == 0)
        }
        let x1 = rand([2, 3, 10], seed: 4)
        let got1 = x1.maxPool1d(kernel: 3, stride: 2, padding: 1)
        let want1 = naiveMaxPool2d(x1.reshaped(to: [2, 3, 1, 10]), kernel: (1, 3), stride: (1, 2), padding: (0, 1))
        #expect(got1.shape == [2, 3, 5])
        #expect(maxAbsDiff(got1, want1.reshaped(to: [2, 3, 5])) == 0)
    }

    @Test func maxPoolNaNAndInfinities() {
        var x = Tensor([1, 2, 3, 4, -.infinity, -.infinity, -.infinity, -.infinity], shape: [1, 1, 2, 4])
        x[0, 0, 0, 1] = .nan
        let y = x.maxPool2d(kernel: [1, 2])                                          // windows of 2 along width
        #expect(y[0, 0, 0, 0].isNaN)
        #expect(y[0, 0, 0, 1] == 4)
        #expect(y[0, 0, 1, 0] == -.infinity && y[0, 0, 1, 1] == -.infinity)
        // An all −∞ window still routes its gradient to a real element (the first one).
        let xv = x.requiringGradient()
        let g = gradients(of: xv.maxPool2d(kernel: [1, 2]), wrt: [xv], seed: Tensor.ones([1, 1, 2, 2]))[0]
        #expect(g.scalars == [0, 1, 0, 1, 1, 0, 1, 0])
    }

    @Test func maxPoolGradientGoesToTheArgmax() {
        // Overlapping windows: an element that wins k windows receives k times the gradient.
        let x = Tensor([1, 5, 2, 0,
                        3, 4, 9, 1,
                        0, 8, 6, 7], shape: [1, 1, 3, 4]).requiringGradient()
        let g = gradients(of: x.maxPool2d(kernel: 2, stride: 1).sum(), wrt: [x])[0]
        #expect(g.scalars == [0, 1, 0, 0,
                              0, 0, 4, 0,
                              0, 1, 0, 0])
        checkGradients([distinctValues([2, 2, 4, 5], seed: 5)]) {
            $0[0].maxPool2d(kernel: [3, 2], stride: [1, 2], padding: [1, 1]).mul2().sum()
        }
        checkGradients([distinctValues([2, 2, 7], seed: 6)]) { $0[0].maxPool1d(kernel: 3, stride: 2).mul2().sum() }
        checkHessianVectorProduct(distinctValues([1, 2, 4, 4], seed: 7), seed: 8) { $0.maxPool2d(kernel: 2, stride: 1) }
    }

    @Test func adaptiveAvgPoolMatchesNaiveLoops() {
        for (input, out) in [((7, 5), (3, 2)), ((4, 4), (6, 5)), ((5, 6), (5, 6)), ((9, 10), (1, 1)), ((6, 8), (4, 3))] {
            let x = rand([2, 3, input.0, input.1], seed: 9)
            let got = x.adaptiveAvgPool2d(outputSize: out)
            let want = naiveAdaptiveAvgPool2d(x, out)
            #expect(got.shape == want.shape)
            #expect(maxAbsDiff(got, want) < 1e-6)
        }
        let x1 = rand([2, 3, 10], seed: 10)
        let got1 = x1.adaptiveAvgPool1d(outputSize: 4)
        #expect(got1.shape == [2, 3, 4])
        #expect(maxAbsDiff(got1, naiveAdaptiveAvgPool2d(x1.reshaped(to: [2, 3, 1, 10]), (1, 4)).reshaped(to: [2, 3, 4])) < 1e-6)
    }

    @Test func poolGradients() {
        checkGradients([rand([2, 2, 5, 4], seed: 11)]) {
            $0[0].avgPool2d(kernel: [3, 2], stride: [2, 1], padding: [1, 1]).mul2().sum()
        }
        checkGradients([rand([2, 2, 7], seed: 12)]) { $0[0].avgPool1d(kernel: 3, stride: 2, padding: 1).mul2().sum() }
        checkGradients([rand([2, 2, 5, 4], seed: 13)]) { $0[0].adaptiveAvgPool2d(outputSize: (3, 3)).mul2().sum() }
        checkGradients([rand([2, 2, 7], seed: 14)]) { $0[0].adaptiveAvgPool1d(outputSize: 3).mul2().sum() }
        checkHessianVectorProduct(rand([2, 2, 5, 5], seed: 15), seed: 16) { $0.avgPool2d(kernel: 3, stride: 2, padding: 1) }
        checkHessianVectorProduct(rand([2, 2, 5, 7], seed: 17), seed: 18) { $0.adaptiveAvgPool2d(outputSize: (2, 3)) }
    }

    @Test func bilinearMatchesPyTorchValues() {
        // torch.nn.functional.interpolate([[1, 2], [3, 4]], size=(4, 4), mode="bilinear", align_corners=False).
        let x = Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2])
        let want: [Float] = [1.00, 1.25, 1.75, 2.00,
                             1.50, 1.75, 2.25, 2.50,
                             2.50, 2.75, 3.25, 3.50,
                             3.00, 3.25, 3.75, 4.00]
        let got = x.resizedBilinear(to: (4, 4))
        #expect(got.shape == [1, 1, 4, 4])
        #expect(maxAbsDiff(got, Tensor(want, shape: [1, 1, 4, 4])) < 1e-6)
        // Downsampling 4 → 2 takes the mean of pixel pairs (coordinates 0.5 and 2.5).
        let y = Tensor((0..<16).map(Float.init), shape: [1, 1, 4, 4]).resizedBilinear(to: (2, 2))
        #expect(maxAbsDiff(y, Tensor([2.5, 4.5, 10.5, 12.5], shape: [1, 1, 2, 2])) < 1e-6)
        // Same size is the identity.
        let z = rand([2, 3, 5, 4], seed: 19)
        #expect(maxAbsDiff(z.resizedBilinear(to: (5, 4)), z) < 1e-6)
    }

    @Test func bilinearMatchesNaiveLoops() {
        let x = rand([2, 3, 7, 5], seed: 20)
        for out in [(3, 8), (13, 4), (1, 1), (7, 11)] {
            let got = x.resizedBilinear(to: out)
            #expect(got.shape == [2, 3, out.0, out.1])
            #expect(maxAbsDiff(got, naiveBilinear(x, out)) < 2e-6)
        }
        // scale_factor semantics: output ⌊7·1.7⌋ × ⌊5·0.55⌋, source coordinates with 1/scale.
        let s = x.resizedBilinear(scaleFactor: (1.7, 0.55))
        #expect(s.shape == [2, 3, 11, 2])
        #expect(maxAbsDiff(s, naiveBilinear(x, (11, 2), scale: (1 / 1.7, 1 / 0.55))) < 2e-6)
        let x1 = rand([2, 3, 6], seed: 21)
        let l1 = x1.resizedLinear(to: 10)
        #expect(l1.shape == [2, 3, 10])
        #expect(maxAbsDiff(l1, naiveBilinear(x1.reshaped(to: [2, 3, 1, 6]), (1, 10)).reshaped(to: [2, 3, 10])) < 2e-6)
    }

    @Test func bicubicMatchesPyTorchValues() {
        // torch.nn.functional.interpolate([[1, 2], [3, 4]], size=(4, 4), mode="bicubic", align_corners=False).
        let x = Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2])
        let want: [Float] = [0.68359375, 1.015625, 1.5625, 1.89453125,
                             1.34765625, 1.6796875, 2.2265625, 2.55859375,
                             2.44140625, 2.7734375, 3.3203125, 3.65234375,
                             3.10546875, 3.4375, 3.984375, 4.31640625]
        #expect(maxAbsDiff(x.resizedBicubic(to: (4, 4)), Tensor(want, shape: [1, 1, 4, 4])) < 1e-6)
        let z = rand([1, 2, 4, 6], seed: 22)
        #expect(maxAbsDiff(z.resizedBicubic(to: (4, 6)), z) < 1e-6)
    }

    @Test func bicubicMatchesNaiveLoops() {
        let x = rand([2, 3, 7, 5], seed: 23)
        for out in [(3, 8), (13, 4), (1, 2), (16, 16)] {
            let got = x.resizedBicubic(to: out)
            #expect(got.shape == [2, 3, out.0, out.1])
            #expect(maxAbsDiff(got, naiveBicubic(x, out)) < 5e-6)
        }
        // DINOv2's position-embedding interpolation: 4×4 grid, scale_factor (6 + 0.1)/4.
        let pos = rand([1, 8, 4, 4], seed: 24)
        let sf = 6.1 / 4
        let got = pos.resizedBicubic(scaleFactor: (sf, sf))
        #expect(got.shape == [1, 8, 6, 6])
        #expect(maxAbsDiff(got, naiveBicubic(pos, (6, 6), scale: (1 / sf, 1 / sf))) < 5e-6)
    }

    @Test func resizeGradientsAndAdjoint() {
        checkGradients([rand([1, 2, 3, 4], seed: 25)]) { $0[0].resizedBilinear(to: (5, 3)).mul2().sum() }
        checkGradients([rand([1, 2, 3, 4], seed: 26)]) { $0[0].resizedBicubic(to: (5, 7)).mul2().sum() }
        checkGradients([rand([1, 2, 3, 3], seed: 27)]) { $0[0].resizedBicubic(scaleFactor: (1.3, 0.7)).mul2().sum() }
        checkGradients([rand([2, 2, 5], seed: 28)]) { $0[0].resizedLinear(to: 3).mul2().sum() }
        checkHessianVectorProduct(rand([1, 2, 3, 4], seed: 29), seed: 30) { $0.resizedBilinear(to: (5, 6)) }
        checkHessianVectorProduct(rand([1, 2, 4, 3], seed: 31), seed: 32) { $0.resizedBicubic(to: (3, 5)) }
        // ⟨R x, y⟩ = ⟨x, Rᵀ y⟩ for the resampling pair.
        let rows = Tensor.cubicTaps(inSize: 6, outSize: 9, scaleFactor: nil)
        let cols = Tensor.linearTaps(inSize: 5, outSize: 3, scaleFactor: nil)
        let x = rand([2, 3, 6, 5], seed: 33), y = rand([2, 3, 9, 3], seed: 34)
        let rx = Tensor.resample2d(x, rows: rows, cols: cols, op: "t")
        let rty = Tensor.resample2dAdjoint(y, rows: rows, cols: cols, op: "t")
        #expect(abs(convTestDot(rx, y) - convTestDot(x, rty)) < 1e-4)
    }

    @Test func nanAndEmpty() {
        var x = rand([1, 1, 4, 4], seed: 35)
        x[0, 0, 0, 0] = .nan
        #expect(x.avgPool2d(kernel: 2)[0, 0, 0, 0].isNaN && !x.avgPool2d(kernel: 2)[0, 0, 1, 1].isNaN)
        #expect(x.adaptiveAvgPool2d(outputSize: (1, 1))[0, 0, 0, 0].isNaN)
        #expect(x.resizedBilinear(to: (8, 8))[0, 0, 0, 0].isNaN && !x.resizedBilinear(to: (8, 8))[0, 0, 7, 7].isNaN)
        #expect(x.maxPool2d(kernel: 2)[0, 0, 0, 0].isNaN)
        let e = Tensor.zeros([0, 3, 5, 5])
        #expect(e.avgPool2d(kernel: 2).shape == [0, 3, 2, 2])
        #expect(e.maxPool2d(kernel: 2).shape == [0, 3, 2, 2])
        #expect(e.adaptiveAvgPool2d(outputSize: (3, 3)).shape == [0, 3, 3, 3])
        #expect(Tensor.zeros([2, 0, 5, 5]).resizedBicubic(to: (7, 7)).shape == [2, 0, 7, 7])
    }
}
