import Foundation

/// The pretrained bodies that `scripts/fetch-assets.sh` installs, and where their files live.
///
/// The assets root is, in order: the `root` passed in, the `MONA_ASSETS` environment variable, or `.assets` in the
/// current directory. Nothing is downloaded at run time: a missing file gives a message telling the user which
/// command fetches it.
public struct AssetRegistry: Sendable {
    /// The asset group that holds every body.
    public static let bodiesGroup = "bodies"

    /// How a body's weights are stored.
    public enum WeightFormat: String, Sendable {
        case safetensors
        case onnx
    }

    /// One pretrained body and its files.
    public struct Body: Sendable {
        public let name: String
        public let summary: String
        /// The Hugging Face `model_type` of the weights (`bert`, `dinov2`): which body family loads them.
        public let modelType: String
        public let format: WeightFormat
        /// The weights (a safetensors or ONNX file).
        public let weights: URL
        /// Hugging Face `config.json`, when shipped.
        public let config: URL?
        /// WordPiece `vocab.txt` for text bodies.
        public let vocabulary: URL?
        /// The `scripts/fetch-assets.sh` group that installs the files.
        public let group: String

        /// Every file the body needs.
        public var files: [URL] { [weights] + [config, vocabulary].compactMap { $0 } }

        /// The files that are not on disk.
        public var missingFiles: [URL] { files.filter { !FileManager.default.fileExists(atPath: $0.path) } }

        /// Whether every file is on disk.
        public var isPresent: Bool { missingFiles.isEmpty }

        /// What to tell the user when files are missing.
        public var missingMessage: String {
            let missing = missingFiles.map(\.path).joined(separator: ", ")
            return "body '\(name)' is not installed (missing \(missing)); run `scripts/fetch-assets.sh \(group)` "
                + "from the repository root, or set MONA_ASSETS to the folder that holds the assets"
        }

        /// Throws `missingMessage` unless every file is present.
        public func requirePresent() throws {
            guard isPresent else { throw FormatError(file: weights.path, missingMessage) }
        }
    }

    /// Names accepted by `body(_:)`.
    public static let bodyNames = ["minilm-l6", "minilm-l3", "minilm-l6-int8", "dinov2-s14"]

    public let root: URL

    /// A registry rooted at `root`, else `$MONA_ASSETS`, else `./.assets`.
    public init(root: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let root {
            self.root = root
        } else if let env = environment["MONA_ASSETS"], !env.isEmpty {
            self.root = URL(fileURLWithPath: env, isDirectory: true)
        } else {
            self.root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
                .appendingPathComponent(".assets", isDirectory: true)
        }
    }

    /// The body called `name` (one of `bodyNames`). Its files may or may not be present.
    public func body(_ name: String) throws -> Body {
        func file(_ path: String) -> URL { root.appendingPathComponent(path) }
        // The three MiniLM variants share the uncased BERT WordPiece vocabulary (30522 entries) shipped with
        // all-MiniLM-L6-v2; the ONNX packages do not include one.
        let sharedVocabulary = file("minilm-l6/vocab.txt")
        switch name {
        case "minilm-l6":
            return Body(name: name, summary: "all-MiniLM-L6-v2: BERT, 6 layers, 384 wide, 12 heads (fp32 safetensors)",
                        modelType: "bert", format: .safetensors, weights: file("minilm-l6/model.safetensors"),
                        config: file("minilm-l6/config.json"), vocabulary: sharedVocabulary, group: Self.bodiesGroup)
        case "minilm-l3":
            return Body(name: name, summary: "paraphrase-MiniLM-L3-v2: BERT, 3 layers, 384 wide, 12 heads (fp32 ONNX)",
                        modelType: "bert", format: .onnx, weights: file("minilm-l3/paraphrase-MiniLM-L3-v2.onnx"),
                        config: nil, vocabulary: sharedVocabulary, group: Self.bodiesGroup)
        case "minilm-l6-int8":
            return Body(name: name, summary: "all-MiniLM-L6-v2 with int8 weights (ONNX, dequantised on load)",
                        modelType: "bert", format: .onnx, weights: file("minilm-l6-int8/model.onnx"),
                        config: nil, vocabulary: sharedVocabulary, group: Self.bodiesGroup)
        case "dinov2-s14":
            return Body(name: name, summary: "DINOv2 ViT-S/14 backbone: 12 layers, 384 wide, 6 heads (fp32 ONNX)",
                        modelType: "dinov2", format: .onnx, weights: file("dinov2-s14/vit_s_focus.onnx"),
                        config: nil, vocabulary: nil, group: Self.bodiesGroup)
        default:
            throw FormatError(file: name, "unknown body; known bodies: \(Self.bodyNames.joined(separator: ", "))")
        }
    }

    /// Every known body.
    public func allBodies() -> [Body] { Self.bodyNames.compactMap { try? body($0) } }
}
