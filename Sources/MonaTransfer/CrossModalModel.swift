import MonaNN
import MonaTensor

/// Everything needed to rebuild a cross-modal model's architecture (saved next to its checkpoints).
public struct ModelSpec: Codable, Sendable, Equatable {
    /// Body name as given by the user (a known body or a directory).
    public var bodyName: String
    /// The body family (`BodyRegistry`: a Hugging Face `model_type`, e.g. `bert`, `dinov2`).
    public var bodyFamily: String
    public var bodyConfig: TransformerConfig
    /// The task the embedder and head were built for.
    public var task: TaskSpec
    /// Token cap of the embedder.
    public var maxTokens: Int
    /// Explicit 2-D patch size (nil: automatic).
    public var patchSize: Int?
    /// The task as the user named it (known task name or data path), to reload its data for evaluation.
    public var taskSource: String?
    /// Per-channel input normalisation fitted on the training split (x' = (x − mean) / std), if any.
    public var inputMean: [Float]?
    public var inputStd: [Float]?
    /// The body is bypassed: embedded tokens go straight to the head (the `no-body` control). nil: false.
    public var bodyIsIdentity: Bool?

    public init(bodyName: String, bodyFamily: String, bodyConfig: TransformerConfig, task: TaskSpec,
                maxTokens: Int = 512, patchSize: Int? = nil) {
        self.bodyName = bodyName
        self.bodyFamily = bodyFamily
        self.bodyConfig = bodyConfig
        self.task = task
        self.maxTokens = maxTokens
        self.patchSize = patchSize
    }
}

/// embedder f_φ → body g_θ → head h_ψ.
///
/// Children are named `embedder`, `body` and `head`, so parameter names read `embedder.projection.weight`,
/// `body.encoder.layer.3.attention.self.query.weight`, `head.linear.weight`. MoNA substitutes θ′ with
/// `withParameters(["body.…": θ′, …])`.
///
/// With `spec.bodyIsIdentity` the body only initialises the embedder: it is not a child (no `body.*`
/// parameters are trained or saved) and the forward pass skips it.
public final class CrossModalModel: Module {
    override public class var childKeys: [String: String] { ["bodyChild": "body"] }

    public let embedder: TargetEmbedder
    /// The body as a child module (nil when it is bypassed).
    private let bodyChild: TransformerBody?
    public let head: PredictionHead
    public let spec: ModelSpec
    /// Not a child module, so that a bypassed body stays out of the parameter tree.
    private let bodyBox: BodyBox

    /// The transformer body (also when bypassed: it still describes the width and the source embedder).
    public var body: TransformerBody { bodyBox.body }
    public var bodyIsIdentity: Bool { spec.bodyIsIdentity == true }

    /// Builds the embedder and head for `spec.task` around `body`, initialising the embedder from the body
    /// (positions, patch kernel, LayerNorm); `seed` drives every random initialisation.
    public init(spec: ModelSpec, body: TransformerBody, seed: UInt64) {
        var g = SeededGenerator(seed: seed).forked(0x6D6F_6465_6C)
        let task = spec.task, d = body.width
        switch task.input {
        case .series:
            embedder = SeriesEmbedder(channels: task.sampleShape[0], length: task.sampleShape[1],
                                      maxTokens: spec.maxTokens, body: body, generator: &g)
        case .fields:
            embedder = FieldEmbedder(channels: task.sampleShape[0], height: task.sampleShape[1],
                                     width: task.sampleShape[2], maxTokens: spec.maxTokens, patchSize: spec.patchSize,
                                     body: body, generator: &g)
        case .tokens:
            embedder = TokenEmbedder(vocabularySize: task.vocabularySize ?? 1,
                                     maxLength: min(task.sampleShape[0], spec.maxTokens), body: body, generator: &g)
        }
        switch task.output {
        case .classification, .multiLabel, .regression:
            head = PooledHead(width: d, outputs: task.outputs, generator: &g)
        case .dense1D:
            let p = (embedder as? SeriesEmbedder)?.patchSize ?? 1
            head = DenseSequenceHead(width: d, patchSize: p, outputChannels: task.outputs, generator: &g)
        case .dense2D:
            let p = (embedder as? FieldEmbedder)?.patchSize ?? 1
            head = DenseFieldHead(width: d, patchSize: p, outputChannels: task.outputs, generator: &g)
        }
        bodyChild = spec.bodyIsIdentity == true ? nil : body
        bodyBox = BodyBox(body: body)
        self.spec = spec
        super.init()
    }

    /// input → predictions ([B, K] logits or values, [B, C, L] or [B, C, H, W] fields).
    public func callAsFunction(_ input: ModelInput) -> Tensor {
        let e = embedder(input)
        let hidden = bodyIsIdentity ? e.tokens : body(e.tokens, mask: e.mask)
        return head.predict(hidden, embedded: e, sampleShape: input.sampleShape)
    }

    /// The embedded tokens and the body's hidden states [B, T, D] (for analysis and alignment stages).
    public func hiddenStates(_ input: ModelInput, hook: ((Int, Tensor) -> Void)? = nil) -> (embedded: EmbeddedTokens, hidden: Tensor) {
        let e = embedder(input)
        return (e, bodyIsIdentity ? e.tokens : body(e.tokens, mask: e.mask, hook: hook))
    }

    /// Tokens per sample for the task's input shape.
    public var tokenCount: Int { embedder.tokenCount(forSampleShape: spec.task.sampleShape) }

    /// The parameters of each part: "embedder", "body", "head" → names.
    public func parameterNames(in part: String) -> [String] {
        namedParameters().map(\.name).filter { $0.hasPrefix(part + ".") }
    }
}

/// Holds the body outside the module tree (reflection only descends into `Module`s, arrays of them and
/// optionals).
private struct BodyBox {
    let body: TransformerBody
}
