/// `resnet`: a residual dilated conv net trained for the run's epoch budget, best validation epoch kept; dense
/// 1-D / 2-D targets.
public struct ResidualConvNetMethod: TransferMethod {
    public static let summary = "expert baseline: residual dilated conv net, the run's epoch budget, best validation epoch; dense PDE tasks"
    public init(options: NoOptions) {}

    public func makeLearner(task: TaskSpec, context: LearnerContext) throws -> (any Learner)? {
        guard Experts.kind(for: task) == "resnet" else {
            throw TransferError.badConfig("method resnet: needs dense 1-D or 2-D targets "
                                          + "(task '\(task.name)' has \(task.input.rawValue) → \(task.output.rawValue))")
        }
        return ExpertLearner(kind: "resnet")
    }
}
