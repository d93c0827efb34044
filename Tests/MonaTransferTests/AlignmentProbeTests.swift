import Foundation
import MonaTensor
import Testing
@testable import MonaTransfer

/// The linear probe against a case whose answer follows by hand.
@Suite struct AlignmentProbeTests {
    /// 1-D, two classes placed symmetrically about 0 (train: −2, −1 → class 0; 1, 2 → class 1). The standardised
    /// features keep the symmetry, so with zero initialisation both biases receive equal and opposite updates
    /// and the decision boundary stays at 0. Test points −3, 0.5, 3 fall on their class's side; −0.5 (labelled
    /// 1) does not: accuracy exactly 3/4, and the train half is fitted perfectly.
    @Test func symmetricProbeByHand() {
        let train = Tensor([-2, -1, 1, 2], shape: [4, 1])
        let test = Tensor([-3, 0.5, 3, -0.5], shape: [4, 1])
        let r = linearProbe(trainFeatures: train, trainLabels: [0, 0, 1, 1], testFeatures: test, testLabels: [0, 1, 1, 1])
        #expect(r.testAccuracy == 0.75, "\(r)")
        #expect(r.trainAccuracy == 1, "\(r)")
        // Swapping the class names mirrors the boundary: the same accuracy.
        let s = linearProbe(trainFeatures: train, trainLabels: [1, 1, 0, 0], testFeatures: test, testLabels: [1, 0, 0, 0])
        #expect(s.testAccuracy == 0.75, "\(s)")
    }
}
