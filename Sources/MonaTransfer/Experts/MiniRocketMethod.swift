/// `minirocket`: MiniRocket features + ridge (α by leave-one-out on the training split), for series tasks.
public struct MiniRocketMethod: TransferMethod {
    public static let summary = "expert baseline: MiniRocket (84 kernels × dilations, PPV) + ridge with leave-one-out α; series tasks"
    public init(options: NoOptions) {}

    public func makeLearner(task: TaskSpec, context: LearnerContext) throws -> (any Learner)? {
        guard Experts.kind(for: task) == "minirocket" else {
            throw TransferError.badConfig("method minirocket: needs series inputs with class or regression targets "
                                          + "(task '\(task.name)' has \(task.input.rawValue) → \(task.output.rawValue))")
        }
        return ExpertLearner(kind: "minirocket")
    }
}
