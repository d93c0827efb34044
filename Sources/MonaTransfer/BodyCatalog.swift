import Foundation
import MonaFormats
import MonaNN
import MonaTensor

/// Where bodies come from: the pretrained bodies of `AssetRegistry`, a checkpoint directory, or small built-in
/// random bodies for tests and smoke runs.
public enum BodyCatalog {
    /// A body known by name, with a one-line summary.
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        /// Whether its files are on disk (always true for built-in random bodies).
        public let isPresent: Bool
        /// What to run when it is not.
        public let fetchHint: String?
    }

    /// Built-in random bodies (no assets): a 2-layer, 64-wide BERT and a 2-layer, 64-wide ViT with 4×4 patches.
    public static let builtInNames = ["tiny-bert", "tiny-vit"]

    /// Every known body and whether it can be used now.
    public static func entries(assets: AssetRegistry = AssetRegistry()) -> [Entry] {
        var out = assets.allBodies().map {
            Entry(name: $0.name, summary: $0.summary, isPresent: $0.isPresent,
                  fetchHint: $0.isPresent ? nil : "scripts/fetch-assets.sh \($0.group)")
        }
        out.append(Entry(name: "tiny-bert", summary: "built-in random BERT: 2 layers, 64 wide, 4 heads (tests, smoke runs)",
                         isPresent: true, fetchHint: nil))
        out.append(Entry(name: "tiny-vit", summary: "built-in random ViT: 2 layers, 64 wide, 4 heads, 4×4 patches",
                         isPresent: true, fetchHint: nil))
        return out
    }

    /// The configuration of a built-in body.
    public static func builtInConfig(_ name: String) -> (any TransformerBody.Type, TransformerConfig)? {
        var c = TransformerConfig(hiddenSize: 64, layers: 2, heads: 4, intermediateSize: 128)
        switch name {
        case "tiny-bert":
            c.vocabularySize = 128
            c.maxPositions = 512
            return (BertBody.self, c)
        case "tiny-vit":
            c.imageSize = 32
            c.patchSize = 4
            c.layerNormEpsilon = 1e-6
            c.activation = .gelu
            return (Dinov2Body.self, c)
        default:
            return nil
        }
    }

    /// Loads body `name` (a known body, a built-in random body, or a directory with `config.json` and
    /// `model.safetensors` of a Hugging Face BERT). With `pretrained` false the same architecture is
    /// re-initialised at random (BERT-style: weights N(0, 0.02), biases 0, norms 1) from `seed` — the
    /// "scratch" baseline. Built-in bodies are random either way.
    public static func load(_ name: String, pretrained: Bool = true, seed: UInt64 = 0,
                            assets: AssetRegistry = AssetRegistry()) throws -> TransformerBody {
        if let (family, config) = builtInConfig(name) {
            return randomBody(family: family, config: config, seed: seed)
        }
        let body = try loadPretrained(name, assets: assets)
        if !pretrained { reinitialize(body, seed: seed) }
        return body
    }

    /// A randomly initialised body of the given architecture (BERT-style initialisation).
    public static func randomBody(family: any TransformerBody.Type, config: TransformerConfig, seed: UInt64) -> TransformerBody {
        let body = family.random(config: config, seed: seed)
        reinitialize(body, seed: seed)
        return body
    }

    /// Re-draws every body weight (and the source embedder's) BERT-style: matrices, embeddings, CLS and position
    /// tokens N(0, 0.02); biases 0; LayerNorm weights 1; layer-scale factors keep the configured value.
    public static func reinitialize(_ body: TransformerBody, seed: UInt64) {
        var g = SeededGenerator(seed: seed).forked(0x7363_7261_7463_68)
        for m in [body as Module] + body.sourceModules {
            for (name, p) in m.namedParameters() {
                let shape = p.value.shape
                let leaf = name.split(separator: ".").last.map(String.init) ?? name
                let isNorm = name.lowercased().contains("norm")
                if leaf == "lambda1" { p.assign(.full(shape, body.config.layerScaleInit)) }
                else if leaf == "bias" { p.assign(.zeros(shape)) }
                else if isNorm && leaf == "weight" { p.assign(.ones(shape)) }
                else if name.hasSuffix("mask_token") { p.assign(.zeros(shape)) }
                else { p.assign(Tensor.randomNormal(shape, std: 0.02, generator: &g)) }
            }
        }
    }

    // MARK: Pretrained weights

    static func loadPretrained(_ name: String, assets: AssetRegistry) throws -> TransformerBody {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory), isDirectory.boolValue {
            let directory = URL(fileURLWithPath: name, isDirectory: true)
            let config = directory.appendingPathComponent("config.json")
            do {
                let hf = try HFConfig(contentsOf: config)
                let type = hf.modelType ?? "bert"
                guard let family = BodyRegistry.family(modelType: type) else {
                    throw FormatError(file: config.path, "model_type \"\(type)\" is not supported (expected "
                                      + BodyRegistry.modelTypes.joined(separator: ", ") + ")")
                }
                return try family.pretrained(directory: directory, config: hf)
            } catch {
                throw TransferError.badBody("body '\(name)': \(error)")
            }
        }
        guard AssetRegistry.bodyNames.contains(name) else {
            let known = (AssetRegistry.bodyNames + builtInNames).joined(separator: ", ")
            throw TransferError.badBody("unknown body '\(name)'; known bodies: \(known), or a directory holding "
                                        + "config.json and model.safetensors")
        }
        let entry = try assets.body(name)
        guard entry.isPresent else { throw TransferError.badBody(entry.missingMessage) }
        guard let family = BodyRegistry.family(modelType: entry.modelType) else {
            throw TransferError.badBody("body '\(name)': no body family loads model_type \(entry.modelType)")
        }
        do {
            return try family.pretrained(asset: entry)
        } catch {
            throw TransferError.badBody("body '\(name)': \(error)")
        }
    }
}
