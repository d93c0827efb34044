/// `kmer-logistic`: k-mer spectrum + L2 logistic regression (k and C on validation), for token classification.
public struct KmerLogisticMethod: SingleExpertMethod {
    public static let summary = "expert baseline: k-mer spectrum (k ≤ 3) + L2 logistic regression, k and C on validation; token tasks"
    public init(options: NoOptions) {}
    public static let kind = "kmer-logistic"
    public static let needs = "token inputs with class targets"
}
