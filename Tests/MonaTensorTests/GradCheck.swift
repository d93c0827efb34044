import Testing
@_exported import MonaTestSupport
@testable import MonaTensor

/// `gradientCheck` (MonaTestSupport) as a Swift Testing expectation.
func checkGradients(_ inputs: [Tensor], step: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                    sourceLocation: SourceLocation = #_sourceLocation,
                    _ f: ([Tensor]) -> Tensor) {
    let r = gradientCheck(inputs, step: step, atol: atol, rtol: rtol, f)
    #expect(r.passed, "\(r.detail)", sourceLocation: sourceLocation)
}
