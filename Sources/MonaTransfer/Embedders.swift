import MonaNN
import MonaTensor

/// Maps target inputs into the token space of a body: the trainable embedder f_φ.
///
/// Subclasses are the 1-D `SeriesEmbedder`, the 2-D `FieldEmbedder` and the `TokenEmbedder`.
open class TargetEmbedder: Module {
    /// Token width D (the body's width).
    public let width: Int

    public init(width: Int) {
        self.width = width
        super.init()
    }

    /// Every embedder's position table and CLS token (where it has them) are exempt from weight decay.
    override open class var positionalParameters: [String] { ["positionEmbeddings", "clsToken"] }

    /// Embeds a batch.
    open func embed(_ input: ModelInput) -> EmbeddedTokens {
        fatalError("TargetEmbedder subclasses implement embed(_:)")
    }

    /// Number of tokens produced for one sample of shape `sampleShape` ([C, L], [C, H, W] or [T]).
    open func tokenCount(forSampleShape sampleShape: [Int]) -> Int {
        fatalError("TargetEmbedder subclasses implement tokenCount(forSampleShape:)")
    }

    public func callAsFunction(_ input: ModelInput) -> EmbeddedTokens { embed(input) }
}

// MARK: 1-D

/// Embeds [B, C, L] series as ⌈L/p⌉ tokens the way the body's own embedding layer builds its inputs: a Conv1d
/// with kernel = stride = p (the series is zero-padded on the right to a multiple of p) gives each patch's
/// content, position embeddings initialised from the body's are added, and a LayerNorm initialised from the
/// body's embedding LayerNorm (BERT) normalises the sum.
///
/// p is the smallest patch that keeps the token count within `maxTokens` (`patchSize(length:maxTokens:)`), as
/// ORCA picks its "stack number". Unlike ORCA, positions are added *before* the LayerNorm, and the Conv1d is
/// initialised at the scale of the body's token embeddings: BERT mixes word and position embeddings in that
/// proportion before its LayerNorm, whereas positions added after a LayerNorm are tiny next to it (for
/// MiniLM 0.47 against a token norm of about 12), which leaves the body nearly blind to order — GunPoint
/// fine-tuning stalled that way.
public final class SeriesEmbedder: TargetEmbedder {
    /// The patchifier: weight [D, C, p].
    public let projection: Conv1d
    public let norm: LayerNorm
    /// [T, D] for the series length the embedder was built for (interpolated for other lengths).
    @Parameter public var positionEmbeddings: Tensor
    public let channels: Int
    public let patchSize: Int

    /// The smallest p ≥ 1 with ⌈length / p⌉ ≤ maxTokens, i.e. ⌈length / maxTokens⌉.
    public static func patchSize(length: Int, maxTokens: Int) -> Int {
        precondition(length >= 1 && maxTokens >= 1, "SeriesEmbedder: length \(length) and maxTokens \(maxTokens) must be ≥ 1")
        return (length + maxTokens - 1) / maxTokens
    }

    /// - Parameters:
    ///   - channels: C.
    ///   - length: L of the task's series (sets the patch size and the position table).
    ///   - maxTokens: the token cap (default 512).
    ///   - body: the body whose width, positions and embedding LayerNorm initialise this embedder.
    public init(channels: Int, length: Int, maxTokens: Int = 512, body: TransformerBody, generator: inout SeededGenerator) {
        let p = SeriesEmbedder.patchSize(length: length, maxTokens: maxTokens)
        let d = body.width
        let conv = Conv1d(channels, d, kernel: p, stride: p, generator: &generator)
        rescaleToTokenEmbeddings(conv, body: body)
        projection = conv
        let tokens = (length + p - 1) / p
        norm = body.makeEmbeddingNorm() ?? LayerNorm(d, epsilon: 1e-6)
        _positionEmbeddings = Parameter(wrappedValue: body.sequencePositions(tokens))
        self.channels = channels
        patchSize = p
        super.init(width: d)
    }

    override public func tokenCount(forSampleShape s: [Int]) -> Int { (s[s.count - 1] + patchSize - 1) / patchSize }

    override public func embed(_ input: ModelInput) -> EmbeddedTokens {
        guard case .series(let x) = input else { preconditionFailure("SeriesEmbedder: expects series [B, C, L] input") }
        precondition(x.rank == 3 && x.shape[1] == channels,
                     "SeriesEmbedder: input must be [batch, \(channels), length], got \(x.shape)")
        let l = x.shape[2], t = (l + patchSize - 1) / patchSize
        let padded = t * patchSize == l ? x : x.padded(axis: 2, before: 0, after: t * patchSize - l)   // [B, C, T·p]
        let tokens = Tensor.patchEmbedding1d(padded, projection.weight, bias: projection.bias)          // [B, T, D]
        return EmbeddedTokens(tokens: norm(tokens + positions(t)))
    }

    /// [T, D] position rows for T tokens.
    func positions(_ t: Int) -> Tensor {
        let table = positionEmbeddings
        if t == table.shape[0] { return table }
        return resampleRows(table, to: t)
    }
}

/// Scales a freshly initialised (Kaiming-uniform) projection so that unit-variance inputs give outputs with the
/// root mean square of the body's token embeddings, i.e. the proportion of content to position the body's
/// embedding LayerNorm saw in pre-training. Bodies without token embeddings (DINOv2) keep the initialisation.
func rescaleToTokenEmbeddings(_ conv: Module, body: TransformerBody) {
    guard let target = body.tokenEmbeddingRMS, target > 0,
          let weight = conv.namedParameters().first(where: { $0.name == "weight" })?.parameter.value else { return }
    let fanIn = Float(weight.count / weight.shape[0])
    // Kaiming uniform, bound 1/√fanIn on weight and bias: output variance (fanIn + 1)/(3·fanIn) per unit input.
    let scale = target / ((1 + 1 / fanIn) / 3).squareRoot()
    for (_, p) in conv.namedParameters() {
        let w = p.value
        p.assign(withoutGradients { w * scale })
    }
}

/// `table` [P, D] linearly resampled to [count, D] (differentiable in `table`).
func resampleRows(_ table: Tensor, to count: Int) -> Tensor {
    let p = table.shape[0], d = table.shape[1]
    if p == count { return table }
    return table.transposed().reshaped(to: [1, d, p]).resizedLinear(to: count).reshaped(to: [d, count]).transposed()
}

// MARK: 2-D

/// Embeds [B, C, H, W] images or fields as patch tokens: the input is resized (bilinear) to the next multiple
/// of the patch p when needed, a Conv2d with kernel = stride = p maps each patch to the body's width, and
/// position embeddings (plus a CLS token for DINOv2 bodies) are added.
///
/// Initialisation follows ORCA: the kernel starts from the body's patch embedding — resized to p×p by area
/// averaging (or bilinear upsampling), its input channels repeated or cropped to C, and rescaled by
/// (p_body/p)² · 3/C so a smooth input gives tokens of the body's usual magnitude. Positions (and CLS) come from
/// the body, interpolated to the grid. With a BERT body (no patch embedding) the kernel is random at the scale of
/// the body's token embeddings, the body's 1-D positions are used in row-major order, and a LayerNorm
/// initialised from the body's normalises patch + position, as for `SeriesEmbedder`.
public final class FieldEmbedder: TargetEmbedder {
    public let projection: Conv2d
    /// LayerNorm after the patchifier (BERT bodies only: DINOv2 feeds raw patch tokens to pre-LN blocks).
    public let norm: LayerNorm?
    /// [1, 1, D] CLS token (DINOv2 bodies only).
    private let _clsToken: Parameter?
    /// [prefix + rows·cols, D]
    @Parameter public var positionEmbeddings: Tensor
    public let channels: Int
    public let patchSize: Int
    /// The grid the positions were built for.
    public let grid: (rows: Int, cols: Int)

    override public class var childKeys: [String: String] { ["clsToken": "cls_token"] }

    public var clsToken: Tensor? { _clsToken?.value }

    /// The patch size for an H×W input: `requested` if given, else the body's patch size shrunk so the grid has
    /// at least 8 patches per side (small PDE fields), then grown until the token count is within `maxTokens`.
    public static func patchSize(height: Int, width: Int, bodyPatch: Int, maxTokens: Int, requested: Int? = nil) -> Int {
        if let r = requested { return max(1, r) }
        var p = max(1, min(bodyPatch, min(height, width) / 8))
        while ((height + p - 1) / p) * ((width + p - 1) / p) > maxTokens { p += 1 }
        return p
    }

    public init(channels: Int, height: Int, width: Int, maxTokens: Int = 512, patchSize requested: Int? = nil,
                body: TransformerBody, generator: inout SeededGenerator) {
        let d = body.width
        let bodyPatch = body.patchKernel?.weight.shape[2] ?? body.config.patchSize
        let p = FieldEmbedder.patchSize(height: height, width: width, bodyPatch: bodyPatch, maxTokens: maxTokens,
                                        requested: requested)
        let rows = (height + p - 1) / p, cols = (width + p - 1) / p
        let conv = Conv2d(channels, d, kernel: (p, p), stride: (p, p), generator: &generator)
        if let k = body.patchKernel {
            conv.weight = FieldEmbedder.adaptKernel(k.weight, channels: channels, patch: p)
            conv.bias = k.bias
        } else {
            rescaleToTokenEmbeddings(conv, body: body)
        }
        projection = conv
        norm = body.makeEmbeddingNorm()
        if let cls = body.clsToken, let pos = body.gridPositions(rows: rows, cols: cols) {
            _clsToken = Parameter(wrappedValue: cls)
            _positionEmbeddings = Parameter(wrappedValue: pos)
        } else {
            _clsToken = nil
            _positionEmbeddings = Parameter(wrappedValue: body.sequencePositions(rows * cols))
        }
        self.channels = channels
        patchSize = p
        grid = (rows, cols)
        super.init(width: d)
    }

    /// The body's kernel [D, 3, k, k] as a [D, C, p, p] kernel (see the type's documentation).
    static func adaptKernel(_ w: Tensor, channels c: Int, patch p: Int) -> Tensor {
        withoutGradients {
            let k = w.shape[2]
            let spatial: Tensor
            if p == k { spatial = w }
            else if p < k { spatial = w.adaptiveAvgPool2d(outputSize: (p, p)) }
            else { spatial = w.resizedBilinear(to: (p, p)) }                      // [D, 3, p, p]
            let source = w.shape[1]
            let picked = Tensor.concat((0..<c).map { spatial.slice(axis: 1, start: $0 % source, end: $0 % source + 1) },
                                       axis: 1)                                     // [D, C, p, p]
            let scale = Float(k * k) / Float(p * p) * Float(source) / Float(c)
            return (picked * scale).detached()
        }
    }

    public var prefixTokens: Int { _clsToken == nil ? 0 : 1 }

    override public func tokenCount(forSampleShape s: [Int]) -> Int {
        let h = s[s.count - 2], w = s[s.count - 1]
        return prefixTokens + ((h + patchSize - 1) / patchSize) * ((w + patchSize - 1) / patchSize)
    }

    override public func embed(_ input: ModelInput) -> EmbeddedTokens {
        guard case .fields(let x) = input else { preconditionFailure("FieldEmbedder: expects fields [B, C, H, W] input") }
        precondition(x.rank == 4 && x.shape[1] == channels,
                     "FieldEmbedder: input must be [batch, \(channels), height, width], got \(x.shape)")
        let b = x.shape[0], p = patchSize
        let rows = (x.shape[2] + p - 1) / p, cols = (x.shape[3] + p - 1) / p
        let sized = (rows * p == x.shape[2] && cols * p == x.shape[3]) ? x : x.resizedBilinear(to: (rows * p, cols * p))
        var tokens = Tensor.patchEmbedding2d(sized, projection.weight, bias: projection.bias)    // [B, N, D]
        if let cls = clsToken {
            tokens = Tensor.concat([cls.expanded(to: [b, 1, width]), tokens], axis: 1)          // [B, 1 + N, D]
        }
        tokens = tokens + positions(rows: rows, cols: cols)
        if let norm { tokens = norm(tokens) }
        return EmbeddedTokens(tokens: tokens, prefixTokens: prefixTokens, grid: (rows, cols))
    }

    /// [prefix + rows·cols, D] positions for a grid (the stored grid's, resized bicubically for other grids).
    func positions(rows: Int, cols: Int) -> Tensor {
        let table = positionEmbeddings
        if rows == grid.rows && cols == grid.cols { return table }
        let pre = prefixTokens
        let body = table.slice(axis: 0, start: pre, end: table.shape[0])                         // [r·c, D]
            .transposed().reshaped(to: [1, width, grid.rows, grid.cols])
            .resizedBicubic(to: (rows, cols)).reshaped(to: [width, rows * cols]).transposed()    // [rows·cols, D]
        return pre == 0 ? body : Tensor.concat([table.slice(axis: 0, start: 0, end: pre), body], axis: 0)
    }
}

// MARK: Tokens

/// Embeds token ids (DNA bases or k-mers, amino acids) like BERT's embedding layer: a trainable table over the
/// task's vocabulary (drawn at the scale of the body's token embeddings) plus the body's position embeddings,
/// then a LayerNorm initialised from the body's.
public final class TokenEmbedder: TargetEmbedder {
    public let tokenEmbeddings: Embedding
    public let norm: LayerNorm
    /// [maxLength, D]
    @Parameter public var positionEmbeddings: Tensor
    public let vocabularySize: Int
    public let maxLength: Int

    public init(vocabularySize: Int, maxLength: Int, body: TransformerBody, generator: inout SeededGenerator) {
        let d = body.width
        tokenEmbeddings = Embedding(vocabularySize, d, generator: &generator)
        tokenEmbeddings.weight = Tensor.randomNormal([vocabularySize, d], std: body.tokenEmbeddingRMS ?? 0.02,
                                                     generator: &generator)
        norm = body.makeEmbeddingNorm() ?? LayerNorm(d, epsilon: 1e-6)
        _positionEmbeddings = Parameter(wrappedValue: body.sequencePositions(maxLength))
        self.vocabularySize = vocabularySize
        self.maxLength = maxLength
        super.init(width: d)
    }

    override public func tokenCount(forSampleShape s: [Int]) -> Int { min(s[0], maxLength) }

    override public func embed(_ input: ModelInput) -> EmbeddedTokens {
        guard case .tokens(let ids, let b, let t, let mask) = input else {
            preconditionFailure("TokenEmbedder: expects token-id input")
        }
        precondition(t <= maxLength, "TokenEmbedder: \(t) tokens exceed the maximum length \(maxLength)")
        let x = tokenEmbeddings(ids, shape: [b, t])                                              // [B, T, D]
        return EmbeddedTokens(tokens: norm(x + positionEmbeddings.slice(axis: 0, start: 0, end: t)), mask: mask)
    }
}
