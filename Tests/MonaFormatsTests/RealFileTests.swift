import Foundation
import Testing
import MonaTensor
@testable import MonaFormats

/// Loads real downloaded files when `MONA_FORMATS_REAL_DIR` points at a folder holding any of them (they are
/// not committed): neuraloperator's `darcy_test_16.pt`, `burgers_lowres.pt`; MiniLM's `model.safetensors` and
/// `config.json`; SciPy's `ecg.dat` (an npz). Skipped otherwise.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["MONA_FORMATS_REAL_DIR"] != nil))
struct RealFileTests {
    let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["MONA_FORMATS_REAL_DIR"] ?? "/")

    func present(_ name: String) -> URL? {
        let url = dir.appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    @Test func neuraloperatorCheckpoints() throws {
        for name in ["darcy_test_16.pt", "darcy_test_32.pt", "darcy_train_16.pt", "burgers_lowres.pt"] {
            guard let url = present(name) else { continue }
            let listing = try TensorFile.inspect(contentsOf: url)
            let tensors = try TensorFile.load(contentsOf: url)
            for info in listing.tensors {
                let t = tensors[info.name]!
                #expect(t.shape == info.shape)
                let s = t.scalars
                // Position-weighted sum: catches a wrong element order, which min/max would not.
                let checksum = s.enumerated().reduce(0.0) { $0 + Double($1.element) * Double($1.offset % 1000) }
                print("\(name): \(info.name) \(info.dtype) \(info.shape) min \(s.min() ?? .nan) max \(s.max() ?? .nan) "
                      + "first \(Array(s.prefix(3))) checksum \(checksum)")
            }
        }
    }

    @Test func miniLMSafetensorsAndConfig() throws {
        if let url = present("model.safetensors") {
            let listing = try SafeTensors.inspect(contentsOf: url)
            let tensors = try SafeTensors.load(contentsOf: url)
            #expect(tensors.count == listing.tensors.count)
            print("model.safetensors: \(listing.tensors.count) tensors, metadata \(listing.metadata)")
            for info in listing.tensors.prefix(5) { print("  \(info.name) \(info.dtype) \(info.shape)") }
        }
        if let url = present("config.json") {
            let c = try HFConfig(contentsOf: url)
            try c.validate()
            print("config.json: \(c.modelType ?? "?") hidden \(c.hiddenSize ?? 0) layers \(c.numHiddenLayers ?? 0) heads \(c.numAttentionHeads ?? 0)")
        }
    }

    @Test func scipyECG() throws {
        guard let url = present("ecg.dat") else { return }
        let t = try NumPyArchive.load(contentsOf: url)
        let listing = try NumPyArchive.inspect(contentsOf: url)
        print("ecg.dat: \(listing.tensors) first \(Array(t["ecg"]!.scalars.prefix(4)))")
    }
}
