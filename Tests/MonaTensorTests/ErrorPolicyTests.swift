import Testing
@testable import MonaTensor

/// The engine's error policy: shapes or axes an op cannot accept stop the process with a message naming the op
/// and the shapes (checked here with exit tests); NaN propagates instead of turning into a finite value.
@Suite struct ErrorPolicyTests {
    @Test func incompatibleShapesStop() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        await #expect(processExitsWith: .failure) {
            _ = Tensor.matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5]))
        }
        await #expect(processExitsWith: .failure) {
            _ = Tensor.conv2d(Tensor.zeros([1, 3, 8, 8]), Tensor.zeros([4, 2, 3, 3]), bias: nil)
        }
        await #expect(processExitsWith: .failure) {
            _ = Tensor.zeros([2, 3]).reshaped(to: [4, 2])
        }
    }

    @Test func badAxesStop() async {
        await #expect(processExitsWith: .failure) { _ = Tensor.zeros([2, 3]).sum(alongAxis: 2) }
        await #expect(processExitsWith: .failure) { _ = Tensor.zeros([2, 3]).permuted([0, 0]) }
        await #expect(processExitsWith: .failure) { _ = Tensor.zeros([2, 3]).slice(axis: 1, start: 2, end: 5) }
    }

    @Test func nanPropagates() {
        let x = Tensor([1, .nan, 3, 4], shape: [2, 2])
        #expect((x + 1).scalars[1].isNaN)
        #expect(x.sum().item.isNaN)
        #expect(x.maximum(alongAxis: 1).scalars[0].isNaN)
        #expect(Tensor.matmul(x, Tensor.ones([2, 2])).scalars[0].isNaN)
    }

    @Test func emptyTensorsWork() {
        let e = Tensor.zeros([0, 3])
        #expect((e + Tensor.ones([3])).shape == [0, 3])
        #expect(e.sum(alongAxis: 0).scalars == [0, 0, 0])
        #expect(Tensor.matmul(e, Tensor.ones([3, 2])).shape == [0, 2])
        #expect(Tensor.matmul(Tensor.ones([2, 0]), Tensor.ones([0, 4])).scalars == [Float](repeating: 0, count: 8))
    }
}
