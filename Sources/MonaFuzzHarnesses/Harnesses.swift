import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import MonaTransfer

/// One libFuzzer harness per reader of untrusted input. Each takes the fuzzer's bytes as a whole file; it may
/// throw (a clean rejection) but must never trap, hang or allocate without bound. The harness is chosen by
/// `MONA_FUZZ_HARNESS` (scripts/fuzz.sh); the regression test replays saved inputs through the same table.
/// Only public entry points are used, so this library builds in every configuration.
public enum Harnesses {
    public static let all: [(name: String, run: @Sendable ([UInt8]) throws -> Void)] = [
        ("safetensors", { _ = try SafeTensors.decode(Data($0), file: "fuzz") }),
        ("npy", { _ = try NumPyArray.decode(Data($0), file: "fuzz") }),
        ("npz", { _ = try NumPyArchive.decode(Data($0), file: "fuzz") }),
        ("torch", { _ = try TorchCheckpoint.decode(Data($0), file: "fuzz") }),
        ("onnx", { _ = try ONNXModel(data: Data($0), file: "fuzz") }),
        // The zip container (central directory, local headers, member lookup and size limits) as the .pt
        // inspector reads it, without materialising tensors; npz and torch cover member inflation.
        ("zip", { _ = try TorchCheckpoint.inspect(Data($0), file: "fuzz") }),
        ("gzip", { _ = try Gzip.decompress($0, file: "fuzz", maximumSize: 1 << 24) }),
        ("ts", { try Harnesses.dataset(TSFile.load(bytes: $0, file: "fuzz")) }),
        ("arff", { try Harnesses.dataset(ARFFFile.load(bytes: $0, file: "fuzz")) }),
        ("ucr", { try Harnesses.dataset(UCRTextFile.load(bytes: $0, file: "fuzz")) }),
        ("csv", { bytes in
            let table = try CSVTable.read(bytes: bytes, file: "fuzz")
            try Harnesses.dataset(table.dataset(label: 0))
        }),
        ("idx", { _ = try IDXFile.read(bytes: $0, file: "fuzz", maximumSize: 1 << 24) }),
        // FASTA and WAV go on as a task reads them: labels from the headers, k-mer tokens and a vocabulary;
        // log-mel features of every accepted clip's first 8 hops. The default hop follows the clip's sample rate
        // (one sample below 200 Hz), so whole clips cost up to one FFT per sample — nine tenths of this
        // harness's time went to FFTs — while the spectrogram's control flow depends only on the number of
        // frames (none, part of a window, one, several), which the prefix still varies from zero up.
        ("fasta", { bytes in
            let records = try FASTAFile.read(bytes: bytes, file: "fuzz")
            _ = try? FASTAFile.labels(of: records, rule: .field(1, separator: "|"), file: "fuzz")
            let tokenizer = SequenceTokenizer(.kmer(k: 3, stride: 2))
            let tokens = records.prefix(64).map { tokenizer.tokens($0.sequence) }
            let vocabulary = Vocabulary.built(from: tokens)
            _ = tokens.map { vocabulary.encode($0) }
        }),
        ("wav", { bytes in
            let clip = try WAVFile.read(bytes: bytes, file: "fuzz")
            let features = try LogMelSpectrogram(sampleRate: clip.sampleRate, fftSize: 256, melBands: 16)
            let frames = min(clip.frameCount, 8 * features.hopLength + features.fftSize)
            _ = features(clip.mono.narrowed(axis: 0, start: 0, length: frames))
        }),
        ("yaml", { bytes in
            guard let text = String(bytes: bytes, encoding: .utf8) else { return }
            _ = try ConfigFile.parse(text, source: "fuzz")
        }),
        ("modeljson", { bytes in
            let spec = try JSONDecoder().decode(ModelSpec.self, from: Data(bytes))
            try spec.validate(file: "fuzz", weightBytes: 1 << 20)
        }),
        ("statejson", { bytes in
            let state = try JSONDecoder().decode(TrainingState.self, from: Data(bytes))
            try state.validate(file: "fuzz")
        }),
        ("metrics", { bytes in
            try Data(bytes).write(to: Harnesses.scratch)
            _ = try MetricsLog.read(Harnesses.scratch)
        }),
    ]

    /// A loaded data set goes on through what the pipeline does next: the task's spec and the boundary checks.
    static func dataset(_ d: LabeledDataset) throws {
        try d.checkSampleShape(file: "fuzz")
        try d.checkFinite(file: "fuzz")
        _ = try TaskSpec.inferred(name: "fuzz", training: d)
    }

    /// metrics.jsonl is read from a file: one per process, in memory-backed /dev/shm when there is one.
    static let scratch: URL = {
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return URL(fileURLWithPath: dir).appendingPathComponent("mona-fuzz-\(getpid()).jsonl")
    }()

    /// The harness named by `MONA_FUZZ_HARNESS` (exits with a list of names when it names none).
    public static let selected: @Sendable ([UInt8]) throws -> Void = {
        let name = ProcessInfo.processInfo.environment["MONA_FUZZ_HARNESS"] ?? ""
        guard let h = all.first(where: { $0.name == name }) else {
            FileHandle.standardError.write(Data("MONA_FUZZ_HARNESS must be one of: \(all.map(\.name).joined(separator: " "))\n".utf8))
            exit(2)
        }
        return h.run
    }()
}

