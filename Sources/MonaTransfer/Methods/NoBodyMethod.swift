import Foundation

/// The `no-body` control: the same embedder (initialised from the pretrained body) and head as every other
/// method, with the transformer body replaced by the identity; everything else as fine-tuning. It answers the
/// question every cross-modal result has to face: does the pretrained body help at all?
public struct NoBodyMethod: TransferMethod {
    public static let summary = "control: the same embedder and head with the body replaced by the identity, trained as fine-tuning"
    public init(options: NoOptions) {}
    public var body: BodyStart { .identity }
}
