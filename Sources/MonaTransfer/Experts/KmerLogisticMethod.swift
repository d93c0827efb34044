/// `kmer-logistic`: k-mer spectrum + L2 logistic regression (k and C on validation), for token classification.
public struct KmerLogisticMethod: TransferMethod {
    public static let summary = "expert baseline: k-mer spectrum (k ≤ 3) + L2 logistic regression, k and C on validation; token tasks"
    public init(options: NoOptions) {}

    public func makeLearner(task: TaskSpec, context: LearnerContext) throws -> (any Learner)? {
        guard Experts.kind(for: task) == "kmer-logistic" else {
            throw TransferError.badConfig("method kmer-logistic: needs token inputs with class targets "
                                          + "(task '\(task.name)' has \(task.input.rawValue) → \(task.output.rawValue))")
        }
        return ExpertLearner(kind: "kmer-logistic")
    }
}
