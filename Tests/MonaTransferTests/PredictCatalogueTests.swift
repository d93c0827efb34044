import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// `preprocessing.json` beyond the own-data formats: catalogue tasks read by their own loaders (peptides, 16S,
/// spoken words, Fashion-MNIST) save it too, and `mona predict` reads a raw file of the task's format exactly
/// as `mona evaluate` reads the test split; every checkpoint folder carries a copy; `--input` takes a task spec.
@Suite(.serialized) struct PredictCatalogueTests {
    typealias P = PredictOwnDataTests

    /// The test split as `mona fit --set data.testLimit=…` sees it.
    static func testSplit(_ task: String, limit: Int) throws -> LabeledDataset {
        let t = try TaskCatalog.load(task, dataRoot: repositoryAssets.appendingPathComponent("data", isDirectory: true))
        return t.test.subset(Array(0..<min(limit, t.test.count)))
    }

    /// Token ids back to text with `words` (the padding dropped; `<unk>` as `unknown`, which maps to `<unk>` again).
    static func text(_ ids: [Int], _ words: [String], unknown: String) -> String {
        ids.filter { $0 != Vocabulary.paddingID }.map { $0 == Vocabulary.unknownID ? unknown : words[$0] }.joined()
    }

    static func bigEndian(_ values: [Int]) -> [UInt8] {
        values.flatMap { v in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
    }

    /// The test split written in the task's raw format: (labelled input or nil, unlabelled input, predict flags).
    static func rawFiles(_ task: String, _ test: LabeledDataset, in dir: URL) throws -> (labelled: String?, unlabelled: String) {
        let fm = FileManager.default
        switch task {
        case "peptides":
            guard case .tokens(let ids) = test.inputs, let labels = test.labels else { throw CLITestError.noExecutable }
            let sequences = ids.map { text($0, Vocabulary.aminoAcids.tokens, unknown: "X") }
            // modlamp's layout: a `count,features,<class 0>,<class 1>` line, then `SEQUENCE,index` rows.
            let labelled = dir.appendingPathComponent("new-peptides.csv"), plain = dir.appendingPathComponent("sequences.csv")
            try P.write((["\(test.count),1,UniProt,AMP"] + zip(sequences, labels).map { "\($0),\($1)" }).joined(separator: "\n") + "\n", labelled)
            try P.write(sequences.joined(separator: "\n") + "\n", plain)
            return (labelled.path, plain.path)
        case "rrna16s":
            guard case .tokens(let ids) = test.inputs else { throw CLITestError.noExecutable }
            let words = Vocabulary.allKmers(k: TaskCatalog.rrnaK).tokens
            // Headers without a lineage: the label rule finds none, the genes are read unlabelled.
            let url = dir.appendingPathComponent("genes.fasta")
            try P.write(ids.enumerated().map { ">gene\($0)\n\(text($1, words, unknown: "NNNN"))" }.joined(separator: "\n") + "\n", url)
            return (nil, url.path)
        case "spokenwords":
            // The test clips are the stratified split of the sorted file list, as the loader draws it.
            let folder = repositoryAssets.appendingPathComponent("data/audio/words")
            let files = try fm.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension.lowercased() == "wav" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
            let labels = files.map { String($0.lastPathComponent.prefix { $0 != "_" }) }
            let names = TaskFileSpec.sortedNames(Set(labels))
            let parts = try Split.stratified(labels: labels.map { names.firstIndex(of: $0)! }, validationFraction: TaskCatalog.suiteTestFraction,
                                             seed: TaskCatalog.splitSeed)
            let clips = dir.appendingPathComponent("clips")
            try fm.createDirectory(at: clips, withIntermediateDirectories: true)
            for (k, i) in parts.validation.prefix(test.count).enumerated() {
                // Numbered so that the folder's sorted order is the split's order.
                try fm.copyItem(at: files[i], to: clips.appendingPathComponent(String(format: "%03d-", k) + files[i].lastPathComponent))
            }
            return (nil, clips.path)
        case "fashion":
            let x = try #require(test.inputTensor), n = test.count
            let images = dir.appendingPathComponent("t10k-images-idx3-ubyte"), labels = dir.appendingPathComponent("t10k-labels-idx1-ubyte")
            try Data([0, 0, 8, 3] + bigEndian([n, 28, 28]) + x.scalars.map { UInt8(($0 * 255).rounded()) }).write(to: images)
            try Data([0, 0, 8, 1] + bigEndian([n]) + (test.labels ?? []).map { UInt8($0) }).write(to: labels)
            let alone = dir.appendingPathComponent("alone/t10k-images-idx3-ubyte")
            try fm.createDirectory(at: alone.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: images, to: alone)
            return (images.path, alone.path)
        default:
            throw CLITestError.noExecutable
        }
    }

    static let catalogueData = ["peptides": "data/modlamp/AMPvsUniProt.csv", "rrna16s": "data/16s/rRNA16S.gold.fasta",
                                "spokenwords": "data/audio/words", "fashion": "data/fashion-mnist/t10k-images-idx3-ubyte.gz"]

    @Test(arguments: ["peptides", "rrna16s", "spokenwords", "fashion"])
    func catalogueRunPredictsRawFiles(task: String) throws {
        guard monaExecutable() != nil else { print("SKIPPED catalogueRunPredictsRawFiles: mona not built"); return }
        guard assetsPresent(Self.catalogueData[task]!, test: "catalogueRunPredictsRawFiles(\(task))") else { return }
        let dir = TemporaryDirectory()
        let run = dir.url.appendingPathComponent("run")
        let limit = 12
        let fit = try runMona(["fit", "--task", task, "--body", task == "fashion" ? "tiny-vit" : "tiny-bert", "--epochs", "1",
                               "--batch-size", "8", "--max-tokens", "32", "--set", "data.trainLimit=32",
                               "--set", "data.testLimit=\(limit)", "--quiet", "--output", run.path])
        try #require(fit.status == 0, "\(task): \(fit.err)")
        // Saved beside config.yaml and, byte for byte, in every checkpoint folder.
        let saved = try Data(contentsOf: run.appendingPathComponent(InputPreprocessing.fileName))
        for name in ["best", "last"] {
            #expect(try Data(contentsOf: run.appendingPathComponent("checkpoints/\(name)/\(InputPreprocessing.fileName)")) == saved,
                    "\(task): checkpoints/\(name)")
        }
        let p = try InputPreprocessing.read(run.appendingPathComponent(InputPreprocessing.fileName))
        #expect(p.spec.name == task)

        let evaluated = dir.url.appendingPathComponent("evaluate.csv")
        let eval = try runMona(["evaluate", run.path, "--predictions", evaluated.path])
        try #require(eval.status == 0, "\(task): \(eval.err)")
        // evaluate scores the whole test split; its first rows are the ones written as a raw file below.
        let all = try P.predictions(evaluated)
        try #require(all.rows.count >= limit, "\(task): \(all.rows.count) rows")
        let expected = (header: all.header, rows: Array(all.rows.prefix(limit)))

        let files = try Self.rawFiles(task, try Self.testSplit(task, limit: limit), in: dir.url)
        var inputs = [(files.unlabelled, false)]
        if let l = files.labelled { inputs.append((l, true)) }
        for (input, labelled) in inputs {
            let out = dir.url.appendingPathComponent("predicted-\(labelled).csv")
            let predict = try runMona(["predict", run.path, "--input", input, "--output", out.path, "--truncate"])
            try #require(predict.status == 0, "\(task) \(input): \(predict.err)")
            let got = try P.predictions(out)
            #expect(got.header == expected.header)
            try #require(got.rows.count == expected.rows.count, "\(task): \(got.rows.count) rows")
            for (i, (g, e)) in zip(got.rows, expected.rows).enumerated() {
                #expect(g.predicted == e.predicted, "\(task) row \(i): \(g.predicted) vs \(e.predicted)")
                #expect(g.label == (labelled ? e.label : ""), "\(task) row \(i): label \(g.label) vs \(e.label)")
                #expect(g.p.count == e.p.count && zip(g.p, e.p).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(task) row \(i): \(g.p) vs \(e.p)")
            }
        }
    }

    /// A fitted own-data run (series CSV) with its held-out files.
    static func fitted(in dir: URL) throws -> (run: URL, c: P.Case) {
        let c = try P.makeCase("series-csv", in: dir)
        let run = dir.appendingPathComponent("run")
        let fit = try runMona(["fit", "--task", c.task, "--body", "tiny-bert", "--epochs", "1", "--batch-size", "8", "--quiet",
                               "--output", run.path])
        try #require(fit.status == 0, "\(fit.err)")
        return (run, c)
    }

    static func predict(_ args: [String], to out: URL) throws -> [String] {
        let r = try runMona(["predict"] + args + ["--output", out.path])
        try #require(r.status == 0, "\(args): \(r.err)")
        return try P.lines(out)
    }

    /// A checkpoint folder copied elsewhere predicts on its own; a checkpoint copy that disagrees with its run's
    /// is refused in one line; a run from before checkpoints carried the file still reads the run folder's.
    @Test func checkpointCarriesItsPreprocessing() throws {
        guard monaExecutable() != nil else { print("SKIPPED checkpointCarriesItsPreprocessing: mona not built"); return }
        let dir = TemporaryDirectory()
        let (run, c) = try Self.fitted(in: dir.url)
        let reference = try Self.predict([run.path, "--input", c.heldOut], to: dir.url.appendingPathComponent("reference.csv"))

        let elsewhere = dir.url.appendingPathComponent("shipped/model")
        try FileManager.default.createDirectory(at: elsewhere.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: run.appendingPathComponent("checkpoints/best"), to: elsewhere)
        #expect(try Self.predict([elsewhere.path, "--input", c.heldOut], to: dir.url.appendingPathComponent("copied.csv")) == reference)

        // The run folder's copy edited (another vocabulary-free but different record): the checkpoint's disagrees.
        let runFile = run.appendingPathComponent(InputPreprocessing.fileName)
        let original = try Data(contentsOf: runFile)
        var edited = try InputPreprocessing.read(runFile)
        edited.spec.name = "another-run"
        try edited.write(to: run)
        try P.expectRefused(["predict", run.path, "--input", c.heldOut], ["differs from", InputPreprocessing.fileName, "checkpoints/best"])

        // An old run: no copies in the checkpoints, the run folder's (original) file is used.
        try original.write(to: runFile)
        for name in ["best", "last"] {
            try FileManager.default.removeItem(at: run.appendingPathComponent("checkpoints/\(name)/\(InputPreprocessing.fileName)"))
        }
        #expect(try Self.predict([run.path, "--input", c.heldOut], to: dir.url.appendingPathComponent("old.csv")) == reference)
        #expect(try Self.predict([run.appendingPathComponent("checkpoints/last").path, "--input", c.heldOut],
                                 to: dir.url.appendingPathComponent("old-last.csv")).count == reference.count)
    }

    /// `--input` a task spec: its test file (else its train file), laid out as it says, equals the file itself;
    /// spec errors are fit's (exit 2, one line naming the field and the file), and settings that would change
    /// the model's inputs are refused.
    @Test func predictTakesATaskSpec() throws {
        guard monaExecutable() != nil else { print("SKIPPED predictTakesATaskSpec: mona not built"); return }
        let dir = TemporaryDirectory()
        let (run, c) = try Self.fitted(in: dir.url)
        let reference = try Self.predict([run.path, "--input", c.heldOut], to: dir.url.appendingPathComponent("reference.csv"))
        let folder = URL(fileURLWithPath: c.heldOut).deletingLastPathComponent()
        func spec(_ name: String, _ text: String) throws -> String {
            let url = folder.appendingPathComponent(name)
            try P.write(text, url)
            return url.path
        }
        let heldOut = URL(fileURLWithPath: c.heldOut).lastPathComponent
        #expect(try Self.predict([run.path, "--input", try spec("new.yaml", "train: \(heldOut)\nheader: true\n")],
                                 to: dir.url.appendingPathComponent("spec.csv")) == reference)
        // The training spec itself: its test file.
        #expect(try Self.predict([run.path, "--input", c.task], to: dir.url.appendingPathComponent("task.csv")) == reference)
        // Another layout described by the spec: semicolons, a comment line before the header.
        let semicolons = try P.lines(URL(fileURLWithPath: c.heldOut)).map { $0.replacingOccurrences(of: ",", with: ";") }
        try P.write((["# exported by the logger"] + semicolons).joined(separator: "\n") + "\n", folder.appendingPathComponent("semi.csv"))
        #expect(try Self.predict([run.path, "--input", try spec("semi.yaml", "train: semi.csv\nseparator: ';'\nskipLines: 1\n")],
                                 to: dir.url.appendingPathComponent("semi-out.csv")) == reference)

        let unknownKey = try spec("typo.yaml", "train: \(heldOut)\ntarget: {colum: label}\n")
        try P.expectRefused(["predict", run.path, "--input", unknownKey], ["typo.yaml", "target.colum"])
        let missing = try spec("missing.yaml", "train: nowhere.csv\n")
        try P.expectRefused(["predict", run.path, "--input", missing], ["missing.yaml", "train", "nowhere.csv"])
        let otherFormat = try spec("fasta.yaml", "train: \(heldOut)\nformat: fasta\ntarget: {rule: 'field:1'}\n")
        try P.expectRefused(["predict", run.path, "--input", otherFormat], ["fasta.yaml", "format", "csv"])
        let otherShape = try spec("shape.yaml", "train: \(heldOut)\ninput: {type: series, shape: [2, 3]}\n")
        try P.expectRefused(["predict", run.path, "--input", otherShape], ["shape.yaml", "input.shape", InputPreprocessing.fileName])
        let badValue = try spec("bad.yaml", "train: \(heldOut)\nskipLines: -3\n")
        try P.expectRefused(["predict", run.path, "--input", badValue], ["bad.yaml", "skipLines"])
    }
}
