import Foundation
import MonaJSON
import MonaRunKit

/// Model-building options.
public struct ModelConfig: Codable, Sendable, Equatable {
    /// Token cap of the embedder (the 1-D patch size is the smallest that keeps ⌈L/p⌉ within it). Default 512.
    public var maxTokens = 512
    /// Patch size of the 2-D embedder (nil: automatic — the body's patch, shrunk for small fields). Default nil.
    public var patchSize: Int? = nil
    /// Dropout rate of every dropout layer of the model (nil: the body's own, e.g. 0.1 for BERTs). 0 makes
    /// training deterministic across data-parallel ranks (masks are drawn per rank). Default nil.
    public var dropout: Float? = nil

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case maxTokens, patchSize, dropout }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), section: "model")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? 512
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize)
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout)
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
    /// Version of the training protocol: bumped whenever a change alters what a run with the same keys computes,
    /// so that bench records made before it are re-run instead of mixed with new ones. A saved configuration
    /// without the key is of protocol 1 (`FitConfig.saved(pairs:)`); any other configuration is of the current
    /// one, the only protocol this build runs.
    /// 2: weight decay exemptions by module structure (the embedder's position table is no longer decayed).
    public var protocolVersion = FitConfig.currentProtocol
    public static let currentProtocol = 2

    public init(task: String = "", body: String = "minilm-l6", method: String = "finetune", seed: UInt64 = 0) {
        self.task = task
        self.body = body
        self.method = MethodConfig(name: method)
        self.seed = seed
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case task, body, method, seed, output, model, training, data, fromAligned
        case protocolVersion = "protocol"
    }

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
        protocolVersion = try c.decodeIfPresent(Int.self, forKey: .protocolVersion) ?? Self.currentProtocol
    }

    /// Checks every section; throws `TransferError.badConfig` naming the option.
    public func validate() throws {
        if protocolVersion != Self.currentProtocol {
            throw TransferError.badConfig("protocol: \(protocolVersion) is not run by this build; accepted: \(Self.currentProtocol)")
        }
        if task.isEmpty && data.spec == nil { throw TransferError.badConfig("no task given (--task <name|path> or `task:` in the config file)") }
        try training.validate()
        if model.maxTokens < 1 { throw TransferError.badConfig("model.maxTokens: must be ≥ 1, got \(model.maxTokens)") }
        if let p = model.patchSize, p < 1 { throw TransferError.badConfig("model.patchSize: must be ≥ 1, got \(p)") }
        if let d = model.dropout, !(d >= 0 && d < 1) {
            throw TransferError.badConfig("model.dropout: accepted: a rate from 0 (inclusive) to 1 (exclusive), got \(d)")
        }
        if let n = data.trainLimit, n < 2 { throw TransferError.badConfig("data.trainLimit: must be ≥ 2, got \(n)") }
        if let n = data.testLimit, n < 1 { throw TransferError.badConfig("data.testLimit: must be ≥ 1, got \(n)") }
        _ = try MethodCatalog.make(method)
    }

    // MARK: Flat key–value form (YAML files, saved configs)

    /// Decodes a configuration from flat `dotted.key → value` pairs (as `ConfigFile.load` returns them), merged
    /// into one tree in order (later pairs win); absent keys keep their defaults, unknown keys are errors.
    public init(pairs: [(String, RunValue)]) throws {
        var tree = ConfigTree()
        for (key, value) in pairs { try tree.set(value, at: key) }
        try self.init(tree: tree)
    }

    /// A configuration saved by a run (`config.yaml`): as `init(pairs:)`, except that a file without `protocol`
    /// was written before the key existed and is of protocol 1.
    public static func saved(pairs: [(String, RunValue)]) throws -> FitConfig {
        var config = try FitConfig(pairs: pairs)
        if !pairs.contains(where: { $0.0 == CodingKeys.protocolVersion.rawValue }) { config.protocolVersion = 1 }
        return config
    }

    /// Decodes the merged configuration tree strictly (`ConfigTreeDecoder`): errors name the dotted key and
    /// what it accepts.
    public init(tree: ConfigTree) throws {
        self = try FitConfig(from: ConfigTreeDecoder.make(tree.value))
    }

    /// The configuration of `layers` (flat pairs: a saved or aligned run's config, the YAML file, the flags — in
    /// that order, later ones winning), then `assignments` (`--set key=value`) applied to the merged tree.
    public static func resolve(layers: [(String, RunValue)], assignments: [String]) throws -> FitConfig {
        var tree = ConfigTree()
        for (key, value) in layers { try tree.set(value, at: key) }
        for a in assignments { try tree.assign(a) }
        return try FitConfig(tree: tree)
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

    static func flatten(_ value: RunValue, prefix: String, into out: inout [(String, RunValue)]) {
        if case .object(let members) = value {
            for (k, v) in members { flatten(v, prefix: prefix.isEmpty ? k : prefix + "." + k, into: &out) }
        } else {
            out.append((prefix, value))
        }
    }
}

extension MethodConfig: Codable {
    /// `name` and every other key as an option, its value as text (scalars only). The typed options are decoded
    /// from the text by the method (`MethodCatalog.make`).
    public init(from decoder: Decoder) throws {
        self.init()
        guard let tree = decoder as? JSONValueDecoder else {
            // Another decoder (e.g. JSON): text values only.
            let c = try decoder.container(keyedBy: TextKey.self)
            for key in c.allKeys {
                let s = try c.decode(String.self, forKey: key)
                if key.stringValue == "name" { name = s } else { options[key.stringValue] = s }
            }
            return
        }
        guard case .object(let pairs) = tree.value else { throw tree.mismatch("a mapping (method.name, method.<option>)") }
        for (key, value) in pairs {
            let child = tree.child(value, key: TextKey(key))
            if key == "name" {
                name = try child.singleValueContainer().decode(String.self)
                continue
            }
            switch value {
            case .string(let s): options[key] = s
            case .bool(let b): options[key] = String(b)
            case .null: options[key] = ""
            case .number(let x): options[key] = x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
            case .array, .object: throw child.mismatch("a single value")
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: TextKey.self)
        try c.encode(name, forKey: TextKey("name"))
        for (k, v) in options.sorted(by: { $0.key < $1.key }) { try c.encode(v, forKey: TextKey(k)) }
    }
}
