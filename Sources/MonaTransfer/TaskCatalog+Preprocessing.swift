import Foundation
import MonaData

/// The input settings of the catalogue tasks that read files with their own loaders (TaskCatalog+Suite.swift),
/// written as a task spec plus what the loader fixed, so that `mona predict` reads a new file of the task's raw
/// format exactly as the loader read the training file (`InputPreprocessing`).
extension TaskCatalog {
    /// The settings of catalogue task `name` as loaded (`loaded`: the spoken words' frame count comes from its
    /// training clips); nil for tasks whose inputs are arrays (`mona predict` reads those without settings).
    static func preprocessing(of name: String, loaded: LoadedTask, dataRoot: URL) throws -> InputPreprocessing? {
        guard let entry = known.first(where: { $0.name == name.lowercased() }), case .suite(let task) = entry.source else {
            return nil
        }
        let paths = files(of: task).paths.map { dataRoot.appendingPathComponent($0).path }
        switch task {
        case .peptides:
            // `SEQUENCE,0|1` rows (the `count,features,<names>` first line is skipped by the table reader as
            // metadata); amino-acid characters, class indices named by the header line.
            var spec = TaskFileSpec(format: .csv, train: .init(paths[0]))
            spec.name = task.rawValue
            spec.header = false
            spec.input.type = .tokens
            spec.input.tokenizer = .characters
            spec.target.type = .classification
            var p = InputPreprocessing(spec: spec)
            p.table = .init(header: nil, columnCount: 2, features: [], sequence: 0, targets: [1], labelsAreIndices: true)
            p.vocabulary = Vocabulary.aminoAcids.tokens
            return p
        case .rrna16s:
            var spec = TaskFileSpec(format: .fasta, train: .init(paths[0]))
            spec.name = task.rawValue
            spec.input.type = .tokens
            spec.input.tokenizer = .kmers
            spec.input.k = rrnaK
            spec.input.stride = rrnaK
            spec.input.maxLength = rrnaMaxTokens
            spec.target.type = .classification
            spec.target.rule = "lineage:phylum"
            var p = InputPreprocessing(spec: spec)
            p.vocabulary = Vocabulary.allKmers(k: rrnaK).tokens
            return p
        case .spokenwords:
            guard let x = loaded.training.inputTensor, x.rank == 3 else { return nil }
            let folder = URL(fileURLWithPath: paths[0])
            guard let first = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
                .filter({ $0.pathExtension.lowercased() == "wav" })
                .min(by: { $0.lastPathComponent < $1.lastPathComponent }) else { return nil }
            let f = try spokenWordsFeatures(sampleRate: try WAVFile.read(first).sampleRate)
            var spec = TaskFileSpec(format: .wav, train: .init(paths[0]))
            spec.name = task.rawValue
            spec.input.type = .logMel
            var p = InputPreprocessing(spec: spec)
            p.audio = .init(sampleRate: f.sampleRate, fftSize: f.fftSize, windowLength: f.windowLength, hopLength: f.hopLength,
                            bands: f.melBands, minFrequency: f.minFrequency, maxFrequency: f.maxFrequency, frames: x.shape[2])
            return p
        case .fashion:
            var spec = TaskFileSpec(format: .idx, train: .init(paths[0], targets: paths[1]),
                                    test: .init(paths[2], targets: paths[3]))
            spec.name = task.rawValue
            spec.input.type = .images
            spec.input.scale = 1.0 / 255
            return InputPreprocessing(spec: spec)
        case .burgers:
            return nil
        }
    }
}
