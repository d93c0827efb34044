import Foundation
import MonaData
import MonaFormats
import MonaTensor

/// The real-data suite tasks beyond the UCR/UEA archives (see the table in `TaskCatalog`). Files without a
/// published split are split here with a fixed seed (`splitSeed`, independent of the run's seed, so every run
/// sees the same test set), stratified by class.
extension TaskCatalog {
    /// The suite tasks a `Source.suite` names.
    public enum SuiteTask: String, Sendable, CaseIterable {
        case peptides, rrna16s, spokenwords, fashion, burgers
    }

    /// Seed of the fixed train/test splits and subsets of the suite tasks.
    public static let splitSeed: UInt64 = 0x6d6f_6e61_7375_6974

    /// Test share of the suite tasks split here (peptides, rrna16s, spokenwords).
    public static let suiteTestFraction = 0.25

    /// 16S task: phyla kept (the most frequent), k-mer length (disjoint k-mers over ACGT) and tokens kept per gene.
    public static let rrnaPhyla = 5, rrnaK = 4, rrnaMaxTokens = 256

    /// Fashion-MNIST subset sizes (seeded draws from the official training and test files).
    public static let fashionTrain = 2000, fashionTest = 1000

    /// Spoken words: log-mel features (40 mel bands over 22 050 Hz espeak-ng clips, 25 ms windows, 10 ms hop).
    public static let spokenMelBands = 40

    /// Burgers: the first `burgersTrain` samples train, the rest (200) test, as neuraloperator's loader splits.
    public static let burgersTrain = 1000

    /// Files of a suite task under `<assets>/data`, and the fetch target that brings them.
    static func files(of task: SuiteTask) -> (paths: [String], fetch: String) {
        switch task {
        case .peptides: return (["modlamp/AMPvsUniProt.csv"], "modlamp")
        case .rrna16s: return (["16s/rRNA16S.gold.fasta"], "16s")
        case .spokenwords: return (["audio/words"], "audio")
        case .fashion:
            return (["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                     "t10k-labels-idx1-ubyte.gz"].map { "fashion-mnist/" + $0 }, "fashion")
        case .burgers: return (["pde/burgers_lowres.pt"], "pde")
        }
    }

    /// Loads a suite task from `dataRoot` (`<assets>/data`).
    static func loadSuite(_ task: SuiteTask, dataRoot: URL) throws -> LoadedTask {
        let (paths, fetch) = files(of: task)
        let urls = paths.map { dataRoot.appendingPathComponent($0) }
        for url in urls where !FileManager.default.fileExists(atPath: url.path) {
            throw TransferError.badTask("task '\(task.rawValue)': data missing (\(url.path)); run "
                                        + "`scripts/fetch-data.sh \(fetch)` from the repository root")
        }
        do {
            let loaded: LoadedTask
            switch task {
            case .peptides: loaded = try peptides(urls[0])
            case .rrna16s: loaded = try rrna16s(urls[0])
            case .spokenwords: loaded = try spokenWords(urls[0])
            case .fashion: loaded = try fashion(urls)
            case .burgers: loaded = try burgers(urls[0])
            }
            return try loaded.checked(trainFile: urls[0].path, testFile: urls[urls.count > 2 ? 2 : 0].path)
        } catch let e as TransferError {
            throw e
        } catch {
            throw TransferError.badTask("task '\(task.rawValue)': \(error)")
        }
    }

    // MARK: Loaders

    /// modlamp's AMPvsUniProt.csv: a first line `count,features,<class 0 name>,<class 1 name>` (5200, 1, UniProt,
    /// AMP), then `SEQUENCE, label` rows. Amino-acid characters → ids of `Vocabulary.aminoAcids` (others → unknown).
    static func peptides(_ url: URL) throws -> LoadedTask {
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        guard let head = lines.first, head.count >= 4, Int(head[0]) != nil else {
            throw DataError(file: url.path, "expected a first line `count,features,<class 0>,<class 1>`")
        }
        let names = [String(head[2]), String(head[3])]
        lines.removeFirst()
        guard Int(head[0]) == lines.count else {
            throw DataError(file: url.path, line: 1, "the header declares \(head[0]) rows but the file holds \(lines.count)")
        }
        var sequences: [String] = [], labels: [Int] = []
        for (i, row) in lines.enumerated() {
            guard row.count == 2, let y = Int(row[1]), y == 0 || y == 1, !row[0].isEmpty else {
                throw DataError(file: url.path, line: i + 2, "expected `SEQUENCE, 0|1`")
            }
            sequences.append(String(row[0]))
            labels.append(y)
        }
        let all = try LabeledDataset.tokenized(name: "peptides", sequences: sequences, labels: labels, classNames: names,
                                               tokenizer: SequenceTokenizer(.character),
                                               vocabulary: Vocabulary.aminoAcids)
        return try stratifiedTask(all, name: "peptides", vocabularySize: Vocabulary.aminoAcids.count)
    }

    /// microbiomeutil's 16S "gold" FASTA: phylum from the lineage (last tab field, `Bacteria; <phylum>; …`), the
    /// `rrnaPhyla` most frequent phyla kept; each gene → disjoint `rrnaK`-mers over ACGT (other letters → unknown),
    /// cut to its first `rrnaMaxTokens` tokens (the first 1 024 bases).
    static func rrna16s(_ url: URL) throws -> LoadedTask {
        let vocabulary = Vocabulary.allKmers(k: rrnaK)
        let all = try FASTAFile.load(url, label: .lineage(.phylum), tokenizer: SequenceTokenizer(.kmer(k: rrnaK, stride: rrnaK)),
                                     vocabulary: vocabulary, maximumLength: rrnaMaxTokens)
        let counts = all.classCounts ?? []
        let names = all.classNames ?? []
        // Most frequent first; ties by name so the choice never depends on file order.
        let top = (0..<names.count).sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : names[$0] < names[$1] }
            .prefix(rrnaPhyla)
        var newIndex = [Int](repeating: -1, count: names.count)
        for (j, k) in top.enumerated() { newIndex[k] = j }
        let labels = all.labels ?? []
        let rows = (0..<all.count).filter { newIndex[labels[$0]] >= 0 }
        let kept = try LabeledDataset(name: "rrna16s", inputs: all.subset(rows).inputs,
                                      targets: .classes(rows.map { newIndex[labels[$0]] }, names: top.map { names[$0] }))
        return try stratifiedTask(kept, name: "rrna16s", vocabularySize: vocabulary.count)
    }

    /// espeak-ng words (`scripts/fetch-data.sh audio`): `audio/words/<word>_<voice>_s<speed>_p<pitch>.wav`, the
    /// word the class. Log-mel spectrograms [40 bands, frames] (padded to the longest clip with silence) as series
    /// whose channels are the mel bands.
    static func spokenWords(_ folder: URL) throws -> LoadedTask {
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension.lowercased() == "wav" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard files.count >= 8 else {
            throw TransferError.badTask("task 'spokenwords': only \(files.count) WAV files in \(folder.path); run "
                                        + "`scripts/fetch-data.sh audio` from the repository root")
        }
        let labels = files.map { String($0.deletingPathExtension().lastPathComponent.split(separator: "_", omittingEmptySubsequences: false)[0]) }
        let features = try spokenWordsFeatures(sampleRate: try WAVFile.read(files[0]).sampleRate)
        let fields = try WAVFile.logMelDataset(name: "spokenwords", files: files, labels: labels, features: features)
        guard let x = fields.inputTensor else { throw TransferError.badTask("task 'spokenwords': no features") }
        let all = try fields.replacingInputs(.series(x.reshaped(to: [x.shape[0], x.shape[2], x.shape[3]])))
        return try stratifiedTask(all, name: "spokenwords", vocabularySize: nil)
    }

    /// The spoken words' log-mel features for clips at `sampleRate` (the first clip's): 1024-point FFT, 10 ms hop.
    static func spokenWordsFeatures(sampleRate: Int) throws -> LogMelSpectrogram {
        try LogMelSpectrogram(sampleRate: sampleRate, fftSize: 1024, hopLength: sampleRate / 100, melBands: spokenMelBands)
    }

    /// Fashion-MNIST: `fashionTrain` images drawn (seeded, without replacement) from the training file and
    /// `fashionTest` from the test file; 1×28×28 fields scaled to [0, 1], the 10 classes.
    static func fashion(_ urls: [URL]) throws -> LoadedTask {
        func draw(images: URL, labels: URL, count: Int, stream: UInt64, name: String) throws -> LabeledDataset {
            let y = try IDXFile.read(labels).values.scalars.map { Int($0) }
            var g = SeededGenerator(seed: splitSeed).forked(stream)
            let picked = Tensor.randomPermutation(y.count, generator: &g).prefix(count).sorted()
            let x = try idxImages(images, rows: picked)
            return try LabeledDataset(name: name, inputs: .fields(x),
                                      targets: .classes(picked.map { y[$0] }, names: IDXFile.fashionMNISTClassNames))
        }
        let train = try draw(images: urls[0], labels: urls[1], count: fashionTrain, stream: 1, name: "fashion")
        let test = try draw(images: urls[2], labels: urls[3], count: fashionTest, stream: 2, name: "fashion")
        return LoadedTask(spec: try TaskSpec.inferred(name: "fashion", training: train), training: train, test: test)
    }

    /// Images `rows` of an IDX (optionally gzipped) unsigned-byte image file [N, H, W], as [rows, 1, H, W] / 255,
    /// without converting the whole file to floats.
    static func idxImages(_ url: URL, rows: [Int]) throws -> Tensor {
        var bytes = try [UInt8](Data(contentsOf: url))
        if Gzip.isCompressed(bytes) { bytes = try Gzip.decompress(bytes, file: url.path) }
        guard bytes.count >= 16, bytes[0] == 0, bytes[1] == 0, bytes[2] == 0x08, bytes[3] == 3 else {
            throw DataError(file: url.path, "not an IDX file of unsigned bytes [N, H, W]")
        }
        func be32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        let n = be32(4), h = be32(8), w = be32(12)
        // Each factor is below 2³², so n·h·w can overflow Int: compare through checked products.
        let (hw, o1) = h.multipliedReportingOverflow(by: w), (total, o2) = n.multipliedReportingOverflow(by: hw)
        guard !o1, !o2, bytes.count - 16 >= total, rows.allSatisfy({ $0 >= 0 && $0 < n }) else {
            throw DataError(file: url.path, "truncated IDX file or sample index out of range (\(n) images)")
        }
        let size = h * w
        return Tensor.build([rows.count, 1, h, w]) { dst in
            for (r, i) in rows.enumerated() {
                let src = 16 + i * size
                for j in 0..<size { dst[r * size + j] = Float(bytes[src + j]) / 255 }
            }
        }
    }

    /// neuraloperator's `burgers_lowres.pt`: `input` [1200, 16] initial conditions u(x, 0) and `output`
    /// [1200, 17, 16] the solution at 17 times; the task maps u(·, 0) [1, 16] to u(·, t_final) [1, 16] (the last
    /// time), dense 1-D regression scored by nRMSE (mean per-sample relative L2 error).
    static func burgers(_ url: URL) throws -> LoadedTask {
        let t = try TorchCheckpoint.load(contentsOf: url)
        guard let u0 = t["input"], let u = t["output"], u0.rank == 2, u.rank == 3, u.shape[0] == u0.shape[0],
              u.shape[2] == u0.shape[1], u0.shape[0] > burgersTrain else {
            throw DataError(file: url.path, "expected input [N, X] and output [N, T, X] with N > \(burgersTrain)")
        }
        let n = u0.shape[0], x = u0.shape[1], times = u.shape[1]
        let last = u.narrowed(axis: 1, start: times - 1, length: 1)                      // [N, 1, X]
        let inputs = u0.reshaped(to: [n, 1, x])
        func part(_ rows: Range<Int>) throws -> LabeledDataset {
            let idx = Array(rows)
            return try LabeledDataset(name: "burgers", inputs: .series(inputs.indexSelect(axis: 0, indices: idx)),
                                      targets: .fields(last.indexSelect(axis: 0, indices: idx)))
        }
        let train = try part(0..<burgersTrain), test = try part(burgersTrain..<n)
        var spec = try TaskSpec.inferred(name: "burgers", training: train)
        spec.metric = .nrmse
        spec.reportedMetrics = [.nrmse, .mse]
        return LoadedTask(spec: spec, training: train, test: test)
    }

    /// A seeded stratified train/test split (`suiteTestFraction` to test) of a file without a published split.
    static func stratifiedTask(_ all: LabeledDataset, name: String, vocabularySize: Int?) throws -> LoadedTask {
        let parts = try Split.stratified(labels: all.labels ?? [], validationFraction: suiteTestFraction, seed: splitSeed)
        var train = all.subset(parts.train), test = all.subset(parts.validation)
        train.name = name
        test.name = name
        let spec = try TaskSpec.inferred(name: name, training: train, vocabularySize: vocabularySize)
        return LoadedTask(spec: spec, training: train, test: test)
    }
}
