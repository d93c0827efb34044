import Foundation
import MonaRunKit

/// Model-building options.
public struct ModelConfig: Codable, Sendable, Equatable {
    /// Token cap of the embedder (the 1-D patch size is the smallest that keeps ⌈L/p⌉ within it). Default 512.
    public var maxTokens = 512
    /// Patch size of the 2-D embedder (nil: automatic — the body's patch, shrunk for small fields). Default nil.
    public var patchSize: Int? = nil

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case maxTokens, patchSize }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), section: "model")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? 512
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize)
    }
}

/// Data options.
public struct DataConfig: Codable, Sendable, Equatable {
    /// z-score each input channel with statistics of the training split (after the validation split is
    /// carved out). Default true.
    public var normalize = true
    /// Use only the first N training samples (before the validation split; nil: all). Default nil.
    public var trainLimit: Int? = nil
    /// Use only the first N test samples (nil: all). Default nil.
    public var testLimit: Int? = nil
    /// The task described by the user's own files (TaskFileSpec.swift); replaces `task` when set. Default nil.
    public var spec: TaskFileSpec? = nil

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case normalize, trainLimit, testLimit, spec }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), section: "data")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        normalize = try c.decodeIfPresent(Bool.self, forKey: .normalize) ?? true
        trainLimit = try c.decodeIfPresent(Int.self, forKey: .trainLimit)
        testLimit = try c.decodeIfPresent(Int.self, forKey: .testLimit)
        spec = try c.decodeIfPresent(TaskFileSpec.self, forKey: .spec)
    }
}

/// Everything `mona fit` needs: the resolved form of a YAML config file plus command-line flags.
///
/// YAML keys are the property names, nested by section (or dotted: `training.learningRate: 3e-4`):
///
/// ```yaml
/// task: gunpoint            # known task or data path (required)
/// body: minilm-l6           # known body or a model directory
/// method:
///   name: finetune          # finetune | scratch | linear-probe | fpt | warmup-only | … (MethodCatalog)
///   warmupEpochs: 3
/// seed: 0
/// model: {maxTokens: 512}
/// training: {epochs: 10, batchSize: 16, learningRate: 1e-4, patience: 5}
/// data: {normalize: true}
/// ```
public struct FitConfig: Codable, Sendable, Equatable {
    /// Known task name or data path. Required.
    public var task = ""
    /// Known body name, built-in random body (`tiny-bert`, `tiny-vit`) or model directory. Default `minilm-l6`.
    public var body = "minilm-l6"
    public var method = MethodConfig()
    /// Seeds data splits, initialisation, shuffling and dropout. Default 0.
    public var seed: UInt64 = 0
    /// Run directory (nil: given on the command line). Default nil.
    public var output: String? = nil
    public var model = ModelConfig()
    public var training = TrainingConfig()
    public var data = DataConfig()
    /// Run directory of a `mona align` run whose aligned model (`checkpoints/aligned/`) fine-tuning starts from,
    /// instead of running the method's alignment stages (nil: run them). Default nil.
    public var fromAligned: String? = nil

    public init(task: String = "", body: String = "minilm-l6", method: String = "finetune", seed: UInt64 = 0) {
        self.task = task
        self.body = body
        self.method = MethodConfig(name: method)
        self.seed = seed
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case task, body, method, seed, output, model, training, data, fromAligned }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), section: "")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        task = try c.decodeIfPresent(String.self, forKey: .task) ?? ""
        body = try c.decodeIfPresent(String.self, forKey: .body) ?? "minilm-l6"
        method = try c.decodeIfPresent(MethodConfig.self, forKey: .method) ?? MethodConfig()
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        output = try c.decodeIfPresent(String.self, forKey: .output)
        model = try c.decodeIfPresent(ModelConfig.self, forKey: .model) ?? ModelConfig()
        training = try c.decodeIfPresent(TrainingConfig.self, forKey: .training) ?? TrainingConfig()
        data = try c.decodeIfPresent(DataConfig.self, forKey: .data) ?? DataConfig()
        fromAligned = try c.decodeIfPresent(String.self, forKey: .fromAligned)
    }

    /// Checks every section; throws `TransferError.badConfig` naming the option.
    public func validate() throws {
        if task.isEmpty && data.spec == nil { throw TransferError.badConfig("no task given (--task <name|path> or `task:` in the config file)") }
        try training.validate()
        if model.maxTokens < 1 { throw TransferError.badConfig("model.maxTokens: must be ≥ 1, got \(model.maxTokens)") }
        if let p = model.patchSize, p < 1 { throw TransferError.badConfig("model.patchSize: must be ≥ 1, got \(p)") }
        if method.warmupEpochs < 0 { throw TransferError.badConfig("method.warmupEpochs: must be ≥ 0, got \(method.warmupEpochs)") }
        if let n = data.trainLimit, n < 2 { throw TransferError.badConfig("data.trainLimit: must be ≥ 2, got \(n)") }
        if let n = data.testLimit, n < 1 { throw TransferError.badConfig("data.testLimit: must be ≥ 1, got \(n)") }
        _ = try MethodCatalog.make(method)
    }

    // MARK: Flat key–value form (YAML files, saved configs)

    /// Decodes a configuration from flat `dotted.key → value` pairs (as `ConfigFile.load` returns them); absent
    /// keys keep their defaults, unknown keys are errors.
    public init(pairs: [(String, RunValue)]) throws {
        var root: [(String, RunValue)] = []
        for (key, value) in pairs {
            let parts = key.split(separator: ".").map(String.init)
            guard !parts.isEmpty else { continue }
            // Method options are text whatever YAML made of them.
            var v = value
            if parts.count >= 2 && parts[0] == "method"
                && !MethodConfig.CodingKeys.allCases.map(\.rawValue).contains(parts[1]) {
                v = .string(FitConfig.text(value))
            }
            FitConfig.insert(v, at: parts[...], into: &root)
        }
        do {
            self = try JSONDecoder().decode(FitConfig.self, from: Data(RunValue.object(root).json.utf8))
        } catch let e as TransferError {
            throw e
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw TransferError.badConfig("option '\(key)': expected \(FitConfig.typeName(type))")
        } catch let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw TransferError.badConfig("option '\(key)': \(context.debugDescription)")
        } catch {
            throw TransferError.badConfig("configuration: \(error)")
        }
    }

    /// The configuration as flat, ordered `dotted.key → value` pairs (what `ConfigFile.write` saves).
    public func pairs() throws -> [(String, RunValue)] {
        let json = try RunValue.parse(json: try jsonData(self))
        var out: [(String, RunValue)] = []
        FitConfig.flatten(json, prefix: "", into: &out)
        let order = CodingKeys.allCases.map(\.rawValue)
        func rank(_ key: String) -> Int { order.firstIndex(of: String(key.split(separator: ".")[0])) ?? order.count }
        return out.enumerated().sorted { (rank($0.element.0), $0.offset) < (rank($1.element.0), $1.offset) }.map(\.element)
    }

    static func insert(_ value: RunValue, at path: ArraySlice<String>, into object: inout [(String, RunValue)]) {
        let head = path.first!
        let index = object.firstIndex { $0.0 == head }
        if path.count == 1 {
            if let i = index { object[i].1 = value } else { object.append((head, value)) }
            return
        }
        var child: [(String, RunValue)] = []
        if let i = index, case .object(let existing) = object[i].1 { child = existing }
        insert(value, at: path.dropFirst(), into: &child)
        if let i = index { object[i].1 = .object(child) } else { object.append((head, .object(child))) }
    }

    static func flatten(_ value: RunValue, prefix: String, into out: inout [(String, RunValue)]) {
        if case .object(let members) = value {
            for (k, v) in members { flatten(v, prefix: prefix.isEmpty ? k : prefix + "." + k, into: &out) }
        } else {
            out.append((prefix, value))
        }
    }

    static func text(_ v: RunValue) -> String {
        switch v {
        case .string(let s): return s
        case .number(let x): return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
        case .bool(let b): return String(b)
        case .null: return ""
        default: return v.json
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: return "an integer"
        case is Float.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "text"
        default: return "\(type)"
        }
    }
}

extension MethodConfig {
    public func encode(to encoder: Encoder) throws {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ s: String) { stringValue = s }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(name, forKey: Key("name"))
        try c.encode(warmupEpochs, forKey: Key("warmupEpochs"))
        try c.encodeIfPresent(warmupLearningRate, forKey: Key("warmupLearningRate"))
        for (k, v) in options.sorted(by: { $0.key < $1.key }) { try c.encode(v, forKey: Key(k)) }
    }
}
