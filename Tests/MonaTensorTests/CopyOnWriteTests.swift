import Testing
@testable import MonaTensor

/// `data` is read-only; writes go through `mutableData` (or `withUnsafeMutableBufferPointer`), which copy storage
/// that another tensor or the graph shares.
@Suite struct CopyOnWriteTests {
    @Test func mutableDataCopiesSharedStorage() {
        let a = Tensor([1, 2, 3])
        var b = a
        b.mutableData[0] = 9
        #expect(a.scalars == [1, 2, 3] && b.scalars == [9, 2, 3])

        // A reshape shares storage: writing through it leaves the original alone.
        var r = a.reshaped(to: [3, 1])
        r.mutableData[2] = -1
        #expect(a.scalars == [1, 2, 3] && r.scalars == [1, 2, -1])

        // A tensor in the graph: the write leaves the graph, whose saved values are unchanged.
        let x = Tensor([1, 2]).requiringGradient()
        var y = x * x
        let loss = y.sum()
        y.mutableData[0] = 100
        #expect(y.gradOp == nil && y.requiresGrad)
        #expect(loss.item == 5)
        #expect(gradients(of: loss, wrt: [x])[0].scalars == [2, 4])
    }

    @Test func uniqueStorageIsWrittenInPlace() {
        var c = Tensor([1, 2, 3])
        let before = c.data
        c.mutableData[1] = 5
        #expect(c.data == before)
        #expect(c.scalars == [1, 5, 3])
    }
}
