import Foundation
import Testing
@testable import MonaTensor

@Suite struct VectorMathTests {
    @Test func expMatchesDouble() {
        var worst = 0.0
        var x: Float = -87
        while x < 88.3 {
            let v = VectorMath.exp(SIMD8(repeating: x))
            let ref = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(v[0]) - ref) / ref)
            x += 0.0137
        }
        #expect(worst < 3e-7)
        let special = VectorMath.exp(SIMD8(-.infinity, .infinity, .nan, 0, -100, 100, 1, -1))
        #expect(special[0] == 0 && special[1] == .infinity && special[2].isNaN && special[3] == 1)
        #expect(special[4] == 0 && special[5] == .infinity)
    }
}
