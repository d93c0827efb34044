import Foundation
import Testing
import MonaTensor
@testable import MonaFormats

/// The Swift half of scripts/check_safetensors_compat.py: reads what Python wrote into
/// `MONA_INTEROP_DIR` and writes files for Python to check. Skipped unless that variable is set.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["MONA_INTEROP_DIR"] != nil))
struct InteropTests {
    @Test func roundTripThroughPython() throws {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["MONA_INTEROP_DIR"]!)
        let fromPython = try SafeTensors.load(contentsOf: dir.appendingPathComponent("from_python.safetensors"))
        try SafeTensors.save(fromPython, metadata: ["source": "mona", "format": "pt"],
                             to: dir.appendingPathComponent("from_swift.safetensors"))
        try SafeTensors.save(fromPython, to: dir.appendingPathComponent("from_swift_plain.safetensors"))
        try NumPyArray.save(fromPython["matrix"]!, to: dir.appendingPathComponent("from_swift.npy"))
        try NumPyArchive.save(fromPython, to: dir.appendingPathComponent("from_swift.npz"))
        // Python also wrote a torch checkpoint and an npz with the same tensors: all three must agree.
        let fromTorch = try TorchCheckpoint.load(contentsOf: dir.appendingPathComponent("from_python.pt"))
        let fromNumPy = try NumPyArchive.load(contentsOf: dir.appendingPathComponent("from_python.npz"))
        for (name, t) in fromPython {
            #expect(sameTensor(fromTorch[name], t), "\(name) (torch)")
            if let n = fromNumPy[name] { #expect(sameTensor(n, t), "\(name) (npz)") }
        }
    }
}
