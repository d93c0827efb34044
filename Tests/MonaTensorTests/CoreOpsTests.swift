import Testing
@testable import MonaTensor

@Suite struct CoreOpsTests {
    @Test func broadcastArithmeticValues() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = Tensor([10, 20, 30], shape: [3])
        #expect((a + b).scalars == [11, 22, 33, 14, 25, 36])
        #expect((a * Tensor([2, 3], shape: [2, 1])).scalars == [2, 4, 6, 12, 15, 18])
        #expect((a - 1).scalars == [0, 1, 2, 3, 4, 5])
        #expect((Tensor(12) / a).scalars == [12, 6, 4, 3, 2.4, 2])
    }

    @Test func arithmeticGradients() {
        let a = rand([3, 4], seed: 1), b = rand([4], seed: 2), c = rand([3, 1], seed: 3, low: 0.5, high: 2)
        checkGradients([a, b]) { ($0[0] + $0[1]).mul2().sum() }
        checkGradients([a, b]) { ($0[0] - $0[1]).mul2().sum() }
        checkGradients([a, b]) { ($0[0] * $0[1]).mul2().sum() }
        checkGradients([a, c]) { ($0[0] / $0[1]).mul2().sum() }
        checkGradients([a]) { (-$0[0] * 3 + 2).mul2().mean() }
    }

    @Test func reductionsAndShapes() {
        let a = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        #expect(a.sum(alongAxis: 1).scalars == [12, 15, 18, 21, 48, 51, 54, 57])
        #expect(a.sum(alongAxes: [0, 2], keepingDims: true).shape == [1, 3, 1])
        #expect(a.sum(alongAxes: [0, 2]).scalars == [60, 92, 124])
        #expect(a.sum().item == 276)
        #expect(a.mean(alongAxis: -1).shape == [2, 3])
        let x = rand([2, 3, 4])
        checkGradients([x]) { $0[0].sum(alongAxes: [0, 2]).mul2().sum() }
        checkGradients([x]) { $0[0].mean(alongAxis: 1, keepingDims: true).mul2().sum() }
        checkGradients([rand([3, 1])]) { $0[0].expanded(to: [2, 3, 4]).mul2().sum() }
        checkGradients([x]) { $0[0].reshaped(to: [6, -1]).sum(alongAxis: 0).mul2().sum() }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulAgainstNaive(_ flags: (Bool, Bool)) {
        let (ta, tb) = flags
        for (m, k, n) in [(1, 1, 1), (3, 5, 7), (17, 9, 33), (64, 1, 3)] {
            let a = rand(ta ? [k, m] : [m, k], seed: 5), b = rand(tb ? [n, k] : [k, n], seed: 6)
            let c = Tensor.matmul(a, b, transposeA: ta, transposeB: tb)
            #expect(c.shape == [m, n])
            var worst: Double = 0
            for i in 0..<m { for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    s += Double(ta ? a[p, i] : a[i, p]) * Double(tb ? b[j, p] : b[p, j])
                }
                worst = max(worst, abs(s - Double(c[i, j])))
            } }
            #expect(worst < 1e-4)
            if m * n * k > 1000 { continue }
            checkGradients([a, b]) { Tensor.matmul($0[0], $0[1], transposeA: ta, transposeB: tb).mul2().sum() }
        }
    }

    @Test func batchedMatmulGradients() {
        checkGradients([rand([2, 3, 4], seed: 1), rand([2, 4, 5], seed: 2)]) { Tensor.matmul($0[0], $0[1]).mul2().sum() }
        checkGradients([rand([2, 3, 4], seed: 1), rand([4, 5], seed: 2)]) { Tensor.matmul($0[0], $0[1]).mul2().sum() }
        checkGradients([rand([2, 4, 3], seed: 1), rand([5, 4], seed: 2)]) {
            Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: true).mul2().sum()
        }
    }

    @Test func secondOrderThroughProducts() {
        // f(x) = sum((W x)^2)·... : Hessian-vector product via double backward equals finite differences of grads.
        let w = rand([4, 3], seed: 9), x = rand([3, 2], seed: 10), v = rand([3, 2], seed: 11)
        func grad(_ x: Tensor, createGraph: Bool) -> Tensor {
            let xv = x.requiresGrad ? x : x.requiringGradient()
            let y = Tensor.matmul(w, xv)
            return gradients(of: (y * y * y).sum(), wrt: [xv], createGraph: createGraph)[0]
        }
        let xv = x.requiringGradient()
        let g = grad(xv, createGraph: true)
        let hv = gradients(of: (g * v).sum(), wrt: [xv])[0]
        let h: Float = 1e-2
        let fd = (grad(x + v * h, createGraph: false) - grad(x - v * h, createGraph: false)) / (2 * h)
        #expect(maxAbsDiff(hv, fd) < 2e-3)
    }

    @Test func accumulationWhenReused() {
        let x = Tensor([1, 2, 3]).requiringGradient()
        let y = x * x + x * 3 + x  // dy/dx = 2x + 4
        #expect(gradients(of: y.sum(), wrt: [x])[0].scalars == [6, 8, 10])
    }

    @Test func seededRandomIsBitIdentical() {
        var g1 = SeededGenerator(seed: 42), g2 = SeededGenerator(seed: 42)
        let a = Tensor.randomNormal([1000], generator: &g1), b = Tensor.randomNormal([1000], generator: &g2)
        #expect(a.scalars == b.scalars)
        var g3 = SeededGenerator(seed: 43)
        #expect(Tensor.randomNormal([1000], generator: &g3).scalars != a.scalars)
        let m = a.mean().item
        #expect(abs(m) < 0.1)
        var g4 = SeededGenerator(seed: 1)
        #expect(Tensor.randomPermutation(10, generator: &g4).sorted() == Array(0..<10))
    }
}
