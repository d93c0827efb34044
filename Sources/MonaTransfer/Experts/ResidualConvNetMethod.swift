/// `resnet`: a residual dilated conv net trained for the run's epoch budget, best validation epoch kept; dense
/// 1-D / 2-D targets.
public struct ResidualConvNetMethod: SingleExpertMethod {
    public static let summary = "expert baseline: residual dilated conv net, the run's epoch budget, best validation epoch; dense PDE tasks"
    public init(options: NoOptions) {}
    public static let kind = "resnet"
    public static let needs = "dense 1-D or 2-D targets"
}
