import Testing
@testable import MonaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small MLP trained by hand: matmul + add + mul + sum, gradients, SGD into new tensors.
private struct TinyMLP {
    var w1: Tensor, b1: Tensor, w2: Tensor
    let x: Tensor, y: Tensor

    init() {
        w1 = rand([6, 16], seed: 21, low: -0.5, high: 0.5).requiringGradient()
        b1 = rand([16], seed: 22, low: -0.1, high: 0.1).requiringGradient()
        w2 = rand([16, 1], seed: 23, low: -0.5, high: 0.5).requiringGradient()
        x = rand([32, 6], seed: 24)
        y = rand([32, 1], seed: 25)
    }

    var parameters: [Tensor] { [w1, b1, w2] }

    func loss() -> Tensor {
        let h = Tensor.matmul(x, w1) + b1                          // [32, 16]
        let r = Tensor.matmul(h * h, w2) - y                       // [32, 1]
        return (r * r).sum() * (1 / Float(x.shape[0]))
    }

    /// One step; `secondOrder` descends on loss + ‖∇loss‖² through a create-graph gradient (double backward).
    mutating func step(secondOrder: Bool) {
        var objective = loss()
        if secondOrder {
            let g = gradients(of: objective, wrt: parameters, createGraph: true)
            objective = objective + g.map { ($0 * $0).sum() }.reduce(Tensor(0), +) * 0.1
        }
        let g = gradients(of: objective, wrt: parameters)
        let lr: Float = 1e-3
        withoutGradients {
            w1 = (w1 - g[0] * lr).requiringGradient()
            b1 = (b1 - g[1] * lr).requiringGradient()
            w2 = (w2 - g[2] * lr).requiringGradient()
        }
    }
}

/// `TensorStorage.liveBytes` is process-wide and other suites allocate concurrently, so a window compares the
/// live bytes after step 10 and after step 1000 of the same run of 1000 steps, and is retried until both are
/// taken while the rest of the process is quiet. A leak grows the count every step, so no window can pass.
private func expectFlatLiveBytes(sourceLocation: SourceLocation = #_sourceLocation, step: () -> Void) {
    let deadline = monotonicNanoseconds() + 120 * 1_000_000_000
    var last: (Int, Int) = (0, 0)
    repeat {
        var at10 = 0
        for i in 1...1000 {
            step()
            if i == 10 { at10 = TensorStorage.liveBytes.current }
        }
        let at1000 = TensorStorage.liveBytes.current
        if at10 == at1000 { return }
        last = (at10, at1000)
        usleep(10_000)
    } while monotonicNanoseconds() < deadline
    Issue.record("live bytes after step 10: \(last.0), after step 1000: \(last.1)", sourceLocation: sourceLocation)
}

@Suite struct MemoryTests {
    @Test func trainingLoopKeepsLiveBytesFlat() {
        var mlp = TinyMLP()
        let first = mlp.loss().item
        expectFlatLiveBytes { mlp.step(secondOrder: false) }
        #expect(mlp.loss().item < first)
    }

    @Test func doubleBackwardLoopKeepsLiveBytesFlat() {
        var mlp = TinyMLP()
        expectFlatLiveBytes { mlp.step(secondOrder: true) }
    }

    @Test func graphIsFreedWhenLossAndGradientsAreDropped() {
        let mlp = TinyMLP()
        weak var node: TensorImpl?
        weak var gradNode: TensorImpl?
        do {
            let loss = mlp.loss()
            let g = gradients(of: loss, wrt: mlp.parameters, createGraph: true)
            node = loss.impl
            gradNode = g[0].impl
            withExtendedLifetime((loss, g)) { #expect(node != nil && gradNode != nil) }
        }
        #expect(node == nil)
        #expect(gradNode == nil)
    }
}
