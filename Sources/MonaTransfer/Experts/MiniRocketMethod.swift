/// `minirocket`: MiniRocket features + ridge (α by leave-one-out on the training split), for series tasks.
public struct MiniRocketMethod: SingleExpertMethod {
    public static let summary = "expert baseline: MiniRocket (84 kernels × dilations, PPV) + ridge with leave-one-out α; series tasks"
    public init(options: NoOptions) {}
    public static let kind = "minirocket"
    public static let needs = "series inputs with class or regression targets"
}
