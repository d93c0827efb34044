/// `expert`: the standard model of the task's family instead of the cross-modal model — MiniRocket + ridge for
/// series (and log-mel audio), k-mer logistic regression for token sequences, a residual conv net for dense PDE
/// targets (docs/experts.md).
public struct ExpertMethod: TransferMethod {
    public static let summary = "expert baseline of the task's family: MiniRocket + ridge (series, audio), k-mer "
        + "logistic regression (tokens), residual conv net (dense PDE targets); no body"
    public init(options: NoOptions) {}

    public func makeLearner(task: TaskSpec, context: LearnerContext) throws -> (any Learner)? {
        guard Experts.kind(for: task) != nil else {
            throw TransferError.badConfig("method expert: no expert baseline for \(task.input.rawValue) inputs with "
                                          + "\(task.output.rawValue) outputs (task '\(task.name)')")
        }
        return ExpertLearner(kind: nil)
    }
}

/// An expert baseline that serves one task family under its own method name (`minirocket`, `kmer-logistic`,
/// `resnet`): a new one is its `kind` (as `Experts.kind(for:)` names it) and what it needs, for the error.
public protocol SingleExpertMethod: TransferMethod where Options == NoOptions {
    static var kind: String { get }
    /// The inputs and targets it serves, as the error for another task says it.
    static var needs: String { get }
}

extension SingleExpertMethod {
    public func makeLearner(task: TaskSpec, context: LearnerContext) throws -> (any Learner)? {
        guard Experts.kind(for: task) == Self.kind else {
            throw TransferError.badConfig("method \(Self.kind): needs \(Self.needs) "
                                          + "(task '\(task.name)' has \(task.input.rawValue) → \(task.output.rawValue))")
        }
        return ExpertLearner(kind: Self.kind)
    }
}
