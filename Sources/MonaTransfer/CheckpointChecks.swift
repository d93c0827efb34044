import Foundation
import MonaData
import MonaNN
import MonaRunKit

/// Checkpoint metadata is read back as untrusted input: a `model.json` or `state.json` edited by hand (or by
/// another tool) must give an error naming the file and field, never a trap in a layer or a huge allocation.
///
/// Limits are far above any real body (MiniLM: 384 wide, 6 layers; DINOv2-S: 384, 12) yet keep what a
/// random body of that architecture allocates bounded; the encoder's weight bytes must also fit in the
/// checkpoint's weights file, which holds them.
enum CheckpointLimits {
    static let maxWidth = 16_384
    static let maxLayers = 512
    static let maxIntermediate = 131_072
    static let maxVocabulary = 4_000_000
    static let maxPositions = 1 << 20
    static let maxTokens = 1 << 20
    static let maxOutputs = 1 << 20
    /// Floats of the embedding tables a body allocates besides its saved encoder (vocabulary and positions × width).
    static let maxEmbeddingFloats = 1 << 30
    /// Largest metadata file read (class names included).
    static let maxJSONBytes = 64 << 20
}

extension ModelSpec {
    /// Reads and checks `model.json`; `weights` (the checkpoint's `model.safetensors`), when given, bounds the
    /// encoder size the spec may describe.
    static func read(_ url: URL, weights: URL? = nil) throws -> ModelSpec {
        let spec = try decodeMetadata(ModelSpec.self, url, what: "a model description")
        let weightBytes = weights.flatMap { try? FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Int }
        try spec.validate(file: url.path, weightBytes: weightBytes)
        return spec
    }

    /// Throws `TransferError.badCheckpoint` naming `file` and the field when the spec cannot describe a model.
    public func validate(file: String, weightBytes: Int? = nil) throws {
        func fail(_ field: String, _ why: String) -> TransferError {
            .badCheckpoint("\(file): field '\(field)' \(why)")
        }
        func range(_ field: String, _ value: Int, _ r: ClosedRange<Int>) throws {
            guard r.contains(value) else { throw fail(field, "is \(value); accepted: \(r.lowerBound)…\(r.upperBound)") }
        }
        guard let family = BodyRegistry.family(modelType: bodyFamily) else {
            throw fail("bodyFamily", "is \"\(bodyFamily)\"; accepted: \(BodyRegistry.families.map { $0.family }.joined(separator: ", "))")
        }
        let c = bodyConfig
        try range("bodyConfig.hiddenSize", c.hiddenSize, 1...CheckpointLimits.maxWidth)
        try range("bodyConfig.heads", c.heads, 1...c.hiddenSize)
        guard c.hiddenSize % c.heads == 0 else {
            throw fail("bodyConfig.heads", "is \(c.heads), which does not divide hiddenSize \(c.hiddenSize)")
        }
        try range("bodyConfig.layers", c.layers, 1...CheckpointLimits.maxLayers)
        try range("bodyConfig.intermediateSize", c.intermediateSize, 1...CheckpointLimits.maxIntermediate)
        guard c.layerNormEpsilon.isFinite, c.layerNormEpsilon > 0 else {
            throw fail("bodyConfig.layerNormEpsilon", "is \(c.layerNormEpsilon); accepted: a finite number > 0")
        }
        for (field, p) in [("hiddenDropout", c.hiddenDropout), ("attentionDropout", c.attentionDropout)]
        where !(p >= 0 && p < 1) {
            throw fail("bodyConfig.\(field)", "is \(p); accepted: 0 ≤ p < 1")
        }
        guard c.layerScaleInit.isFinite else { throw fail("bodyConfig.layerScaleInit", "is \(c.layerScaleInit); must be finite") }
        try range("bodyConfig.vocabularySize", c.vocabularySize, 0...CheckpointLimits.maxVocabulary)
        try range("bodyConfig.maxPositions", c.maxPositions, 1...CheckpointLimits.maxPositions)
        try range("bodyConfig.typeVocabularySize", c.typeVocabularySize, 0...1024)
        try range("bodyConfig.positionOffset", c.positionOffset, 0...(c.maxPositions - 1))
        try range("bodyConfig.padTokenID", c.padTokenID, 0...max(c.vocabularySize - 1, 0))
        if family.sourceModality == .pixels {
            try range("bodyConfig.imageSize", c.imageSize, 1...8192)
            try range("bodyConfig.patchSize", c.patchSize, 1...c.imageSize)
            try range("bodyConfig.channels", c.channels, 1...64)
        }
        // What the body allocates: embedding tables (not saved with the model) and the encoder (saved).
        let tableRows = family.embeddingTableRows(c)
        guard tableRows * c.hiddenSize <= CheckpointLimits.maxEmbeddingFloats else {
            throw fail("bodyConfig", "describes embedding tables of \(tableRows) × \(c.hiddenSize) values, more than "
                       + "\(CheckpointLimits.maxEmbeddingFloats)")
        }
        let perLayer = 4 * c.hiddenSize * c.hiddenSize + 2 * c.hiddenSize * c.intermediateSize
        let (encoderFloats, overflow) = perLayer.multipliedReportingOverflow(by: c.layers)
        // A `no-body` model (bodyIsIdentity) saves no encoder weights, so only the layer limit bounds it.
        if let weightBytes, bodyIsIdentity != true, overflow || encoderFloats > weightBytes / 4 {
            throw fail("bodyConfig", "describes \(c.layers) layers of width \(c.hiddenSize) (\(overflow ? "overflowing" : String(encoderFloats)) "
                       + "weights), more than the \(weightBytes)-byte weights file holds")
        }

        let t = task
        let rank: Int
        switch t.input {
        case .series: rank = 2
        case .fields: rank = 3
        case .tokens: rank = 1
        }
        guard t.sampleShape.count == rank, t.sampleShape.allSatisfy({ (1...CheckpointLimits.maxTokens * 64).contains($0) }) else {
            throw fail("task.sampleShape", "is \(t.sampleShape); a \(t.input.rawValue) task needs \(rank) dimensions, each ≥ 1")
        }
        if t.input == .tokens {
            try range("task.vocabularySize", t.vocabularySize ?? 0, 1...CheckpointLimits.maxVocabulary)
            guard (t.vocabularySize ?? 0) * c.hiddenSize <= CheckpointLimits.maxEmbeddingFloats else {
                throw fail("task.vocabularySize", "is \(t.vocabularySize ?? 0): the token table would exceed "
                           + "\(CheckpointLimits.maxEmbeddingFloats) values")
            }
        }
        try range("task.outputs", t.outputs, 1...CheckpointLimits.maxOutputs)
        try range("maxTokens", maxTokens, 1...CheckpointLimits.maxTokens)
        if let p = patchSize { try range("patchSize", p, 1...max(t.sampleShape.max() ?? 1, 1)) }
        let lossFits: Bool
        switch t.output {
        case .classification:
            lossFits = t.loss == .crossEntropy
            if let names = t.classNames, names.count != t.outputs {
                throw fail("task.classNames", "has \(names.count) names for \(t.outputs) outputs")
            }
            guard t.outputs >= 2 else { throw fail("task.outputs", "is \(t.outputs); classification needs ≥ 2 classes") }
        case .multiLabel:
            lossFits = t.loss == .binaryCrossEntropy
        case .regression:
            lossFits = t.loss == .mse || t.loss == .relativeL2
        case .dense1D, .dense2D:
            lossFits = t.loss == .mse || t.loss == .relativeL2
            let expectedRank = t.output == .dense1D ? 2 : 3
            guard t.input == (t.output == .dense1D ? TaskSpec.InputKind.series : .fields), let shape = t.targetShape,
                  shape.count == expectedRank, shape[0] == t.outputs, shape.allSatisfy({ $0 >= 1 }) else {
                throw fail("task.targetShape", "is \(t.targetShape.map { "\($0)" } ?? "missing"); a \(t.output.rawValue) "
                           + "task needs [outputs, …] with \(expectedRank) dimensions matching its \(t.input.rawValue) input")
            }
        }
        guard lossFits else { throw fail("task.loss", "'\(t.loss.rawValue)' does not fit a \(t.output.rawValue) task") }
        guard !t.reportedMetrics.isEmpty else { throw fail("task.reportedMetrics", "is empty") }
        let usable: Set<MetricKind>
        switch t.output {
        case .classification: usable = [.accuracy, .errorRate, .macroF1, .auroc]
        case .multiLabel: usable = [.meanAveragePrecision]
        case .regression, .dense1D, .dense2D: usable = [.mse, .rmse, .nrmse, .relativeL2]
        }
        for (field, m) in [("task.metric", t.metric)] + t.reportedMetrics.map({ ("task.reportedMetrics", $0) })
        where !usable.contains(m) {
            throw fail(field, "'\(m.key)' is not a metric of a \(t.output.rawValue) task")
        }

        switch (inputMean, inputStd) {
        case (nil, nil):
            break
        case (let mean?, let std?):
            let channels = t.input == .tokens ? 0 : t.sampleShape[0]
            guard t.input != .tokens, mean.count == channels, std.count == channels else {
                throw fail("inputMean/inputStd", "hold \(mean.count) and \(std.count) values; the input has \(channels) channels")
            }
            guard mean.allSatisfy(\.isFinite) else { throw fail("inputMean", "holds a non-finite value") }
            guard std.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw fail("inputStd", "must hold finite values > 0") }
        default:
            throw fail(inputMean == nil ? "inputMean" : "inputStd", "is missing while the other normalisation field is present")
        }
    }
}

extension TrainingState {
    /// Reads and checks a checkpoint's `state.json`.
    static func read(_ url: URL) throws -> TrainingState {
        let state = try decodeMetadata(TrainingState.self, url, what: "a training state")
        try state.validate(file: url.path)
        return state
    }

    /// Throws `TransferError.badCheckpoint` naming `file` and the field when a counter is negative or a
    /// recorded value is not finite.
    public func validate(file: String) throws {
        let counters = [("epoch", epoch), ("batchInEpoch", batchInEpoch), ("epochSamples", epochSamples), ("step", step),
                        ("optimizerSteps", optimizerSteps), ("epochsWithoutImprovement", epochsWithoutImprovement),
                        ("bestEpoch", bestEpoch ?? 0), ("bestStep", bestStep ?? 0)]
        for (field, value) in counters where value < 0 {
            throw TransferError.badCheckpoint("\(file): field '\(field)' is \(value); accepted: an integer ≥ 0")
        }
        for (field, value) in [("epochLossSum", epochLossSum), ("elapsedSeconds", elapsedSeconds)] where !value.isFinite {
            throw TransferError.badCheckpoint("\(file): field '\(field)' is \(value); accepted: a finite number")
        }
        for (field, value) in [("bestMetric", bestMetric), ("bestLoss", bestLoss)] {
            if let value, value.isInfinite {
                throw TransferError.badCheckpoint("\(file): field '\(field)' is \(value); accepted: a finite number or null")
            }
        }
    }
}

/// The bytes of a metadata file, refusing files larger than `CheckpointLimits.maxJSONBytes`.
func readMetadata(_ url: URL) throws -> Data {
    let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
    guard size <= CheckpointLimits.maxJSONBytes else {
        throw TransferError.badCheckpoint("\(url.path): \(size) bytes, more than the \(CheckpointLimits.maxJSONBytes) "
                                          + "accepted for checkpoint metadata")
    }
    do {
        return try Data(contentsOf: url)
    } catch {
        throw TransferError.badCheckpoint("\(url.path): cannot read the file (\(describeIOError(error)))")
    }
}

/// A metadata file decoded as `T`, or an error naming the file, what it should have been and the field.
func decodeMetadata<T: Decodable>(_ type: T.Type, _ url: URL, what: String) throws -> T {
    let data = try readMetadata(url)
    do {
        return try JSONDecoder().decode(T.self, from: data)
    } catch {
        throw TransferError.badCheckpoint("\(url.path): not \(what) (\(decodingProblem(error)))")
    }
}

/// Which field a `DecodingError` is about, in one line.
func decodingProblem(_ error: Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    func path(_ c: DecodingError.Context) -> String {
        let p = c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? c.debugDescription : "field '\(p)': \(c.debugDescription)"
    }
    switch e {
    case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return path(c)
    case .keyNotFound(let key, let c):
        let parent = c.codingPath.map(\.stringValue).joined(separator: ".")
        return "field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)' is missing"
    @unknown default: return "\(e)"
    }
}
