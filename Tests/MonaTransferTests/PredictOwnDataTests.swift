import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// `mona predict` on each "your own data" format: a run fitted (tiny body, one epoch) on training rows of a
/// committed fixture predicts held-out rows of the same format exactly as `mona evaluate` does for the same
/// samples — labelled and unlabelled — and hostile inputs get one line and exit 2.
@Suite(.serialized) struct PredictOwnDataTests {
    /// A data set split into files by hand: training rows, held-out rows (labelled), the same held-out rows
    /// unlabelled; `task` and `flags` are what `mona fit` is given.
    struct Case {
        var task: String
        var flags: [String] = []
        var heldOut: String
        var unlabelled: String?
        /// Token inputs: the held-out sequences may be longer than any training sequence.
        var truncate = false
        /// Whether `heldOut` holds the targets too (an x array alone does not).
        var heldOutLabelled = true
    }

    static func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init).filter { !$0.isEmpty }
    }

    static func write(_ text: String, _ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Training rows, then held-out rows of a csv fixture; the spec reads them as train and test files.
    static func tableCase(_ fixture: String, in dir: URL, input: String) throws -> Case {
        let rows = try lines(URL(fileURLWithPath: ownDataPath(fixture)))
        let header = rows[0], body = Array(rows.dropFirst())
        let train = dir.appendingPathComponent("train.csv"), test = dir.appendingPathComponent("test.csv")
        try write(([header] + body.prefix(24)).joined(separator: "\n") + "\n", train)
        try write(([header] + body.dropFirst(24)).joined(separator: "\n") + "\n", test)
        // The same rows without the label column (the last one in both fixtures).
        let strip = { (line: String) in line.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",") }
        let unlabelled = dir.appendingPathComponent("unlabelled.csv")
        try write(([strip(header)] + body.dropFirst(24).map(strip)).joined(separator: "\n") + "\n", unlabelled)
        let spec = dir.appendingPathComponent("task.yaml")
        try write("train: train.csv\ntest: test.csv\n\(input)target: {type: classification, column: label}\n", spec)
        return Case(task: spec.path, heldOut: test.path, unlabelled: unlabelled.path)
    }

    static func makeCase(_ format: String, in dir: URL) throws -> Case {
        let fm = FileManager.default
        switch format {
        case "series-csv":
            return try tableCase("sensors.csv", in: dir, input: "")
        case "sequence-csv":
            // Overlapping 2-mers: held-out rows hold 2-mers the training rows lack, which become <unk>.
            var c = try tableCase("peptides.csv", in: dir, input: "input: {type: tokens, column: sequence, tokenizer: kmers, k: 2, stride: 1}\n")
            c.truncate = true
            return c
        case "fasta":
            // Records: a header line and the sequence lines up to the next header.
            var records: [[String]] = []
            for line in try lines(URL(fileURLWithPath: ownDataPath("genes.fasta"))) {
                if line.hasPrefix(">") { records.append([line]) } else { records[records.count - 1].append(line) }
            }
            let train = dir.appendingPathComponent("genes_train.fasta"), test = dir.appendingPathComponent("genes_test.fasta")
            try write(records.prefix(24).joined().joined(separator: "\n") + "\n", train)
            let held = Array(records.dropFirst(24).joined())
            try write(held.joined(separator: "\n") + "\n", test)
            // Headers without the family field: the rule finds no label, the records are read unlabelled.
            let unlabelled = dir.appendingPathComponent("anonymous.fasta")
            try write(held.map { $0.hasPrefix(">") ? ">" + $0.dropFirst().prefix { $0 != "|" } : $0 }.joined(separator: "\n") + "\n", unlabelled)
            return Case(task: train.path, flags: ["--label", "field:1"], heldOut: test.path, unlabelled: unlabelled.path, truncate: true)
        case "wav":
            let root = dir.appendingPathComponent("words"), flat = dir.appendingPathComponent("clips")
            try fm.createDirectory(at: flat, withIntermediateDirectories: true)
            for cls in ["high", "low"] {
                for k in 0..<6 {
                    let part = k < 4 ? "train" : "test"
                    let to = root.appendingPathComponent("\(part)/\(cls)/\(cls)\(k).wav")
                    try fm.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try fm.copyItem(at: ownData.appendingPathComponent("words/\(cls)/\(cls)\(k).wav"), to: to)
                    // Held-out clips side by side: sorted by name they keep the class folders' order.
                    if k >= 4 { try fm.copyItem(at: to, to: flat.appendingPathComponent("\(cls)\(k).wav")) }
                }
            }
            return Case(task: root.path, heldOut: root.appendingPathComponent("test").path, unlabelled: flat.path)
        case "npy":
            return Case(task: ownDataPath("arrays/X_train.npy"), heldOut: ownDataPath("arrays/X_test.npy"), heldOutLabelled: false)
        case "idx":
            let alone = dir.appendingPathComponent("alone/t10k-images-idx3-ubyte")
            try fm.createDirectory(at: alone.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: ownData.appendingPathComponent("images/t10k-images-idx3-ubyte"), to: alone)
            return Case(task: ownDataPath("images/train-images-idx3-ubyte"), heldOut: ownDataPath("images/t10k-images-idx3-ubyte"),
                        unlabelled: alone.path)
        default:
            throw CLITestError.noExecutable
        }
    }

    /// Rows of a predictions CSV: label, predicted class and probabilities.
    static func predictions(_ url: URL) throws -> (header: String, rows: [(label: String, predicted: String, p: [Double])]) {
        let all = try lines(url)
        return (all[0], all.dropFirst().map { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return (f[1], f[2], f.dropFirst(3).map { Double($0) ?? .nan })
        })
    }

    @Test(arguments: ["series-csv", "sequence-csv", "fasta", "wav", "npy", "idx"])
    func predictMatchesEvaluate(format: String) throws {
        guard monaExecutable() != nil else { print("SKIPPED predictMatchesEvaluate: mona not built"); return }
        let dir = TemporaryDirectory()
        let c = try Self.makeCase(format, in: dir.url)
        let run = dir.url.appendingPathComponent("run").path
        let fit = try runMona(["fit", "--task", c.task, "--body", "tiny-bert", "--epochs", "1", "--batch-size", "8",
                               "--max-tokens", "32", "--quiet", "--output", run] + c.flags)
        try #require(fit.status == 0, "\(format): \(fit.err)")
        let saved = URL(fileURLWithPath: run).appendingPathComponent(InputPreprocessing.fileName)
        #expect(FileManager.default.fileExists(atPath: saved.path), "\(format): no preprocessing.json")

        let evaluated = dir.url.appendingPathComponent("evaluate.csv")
        let eval = try runMona(["evaluate", run, "--predictions", evaluated.path])
        try #require(eval.status == 0, "\(format): \(eval.err)")
        let expected = try Self.predictions(evaluated)
        #expect(expected.rows.count >= 4 && expected.rows.allSatisfy { !$0.label.isEmpty }, "\(format): \(expected.rows.count) rows")

        var inputs = [(c.heldOut, c.heldOutLabelled)]
        if let u = c.unlabelled { inputs.append((u, false)) }
        for (input, labelled) in inputs {
            let out = dir.url.appendingPathComponent("predicted-\(labelled).csv")
            let predict = try runMona(["predict", run, "--input", input, "--output", out.path] + (c.truncate ? ["--truncate"] : []))
            try #require(predict.status == 0, "\(format) \(input): \(predict.err)")
            let got = try Self.predictions(out)
            #expect(got.header == expected.header, "\(format): \(got.header) vs \(expected.header)")
            try #require(got.rows.count == expected.rows.count, "\(format) \(input): \(got.rows.count) rows, evaluate \(expected.rows.count)")
            for (i, (g, e)) in zip(got.rows, expected.rows).enumerated() {
                #expect(g.predicted == e.predicted, "\(format) \(input) row \(i): \(g.predicted) vs \(e.predicted)")
                #expect(g.label == (labelled ? e.label : ""), "\(format) \(input) row \(i): label \(g.label) vs \(e.label)")
                #expect(g.p.count == e.p.count && zip(g.p, e.p).allSatisfy { abs($0 - $1) <= 1e-5 },
                        "\(format) \(input) row \(i): \(g.p) vs \(e.p)")
            }
        }
    }

    /// What the token formats save: the training vocabulary, <pad> and <unk> first, and the k-mer tokenizer.
    @Test func savedVocabularyIsTheTrainingOne() throws {
        let dir = TemporaryDirectory()
        let c = try Self.makeCase("sequence-csv", in: dir.url)
        let data = try TaskFileSpec.load(URL(fileURLWithPath: c.task)).load()
        let p = try #require(data.preprocessing)
        let vocabulary = try #require(p.vocabulary)
        #expect(vocabulary.prefix(2) == [Vocabulary.paddingToken, Vocabulary.unknownToken])
        #expect(vocabulary.count == data.task.spec.vocabularySize)
        #expect(p.spec.input.tokenizer == .kmers && p.spec.input.k == 2 && p.table?.sequence == 0 && p.table?.targets == [1])
        // Written and read back unchanged.
        try p.write(to: dir.url)
        #expect(try InputPreprocessing.read(dir.url.appendingPathComponent(InputPreprocessing.fileName)) == p)
        // Held-out 2-mers the training rows lack are <unk> (id 1), as the test split's own encoding has them.
        guard case .tokens(let test) = data.task.test.inputs else { Issue.record("not tokens"); return }
        #expect(test.contains { $0.contains(Vocabulary.unknownID) })

        let wav = try Self.makeCase("wav", in: dir.url.appendingPathComponent("w"))
        let wavSpec = try #require(try TaskInference.spec(forPath: wav.task))
        let audio = try #require(try wavSpec.load().preprocessing?.audio)
        #expect(audio.sampleRate == 8000 && audio.fftSize == 256 && audio.windowLength == 200 && audio.hopLength == 80)
        #expect(audio.bands == 40 && audio.maxFrequency == 4000)
    }

    // MARK: Hostile inputs

    /// Exit 2, one line on standard error, mentioning each of `mentions`.
    static func expectRefused(_ args: [String], _ mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try runMona(args)
        let lines = r.err.split(separator: "\n")
        #expect(r.status == 2 && lines.count == 1, "\(args.suffix(3)): status \(r.status): \(r.err)", sourceLocation: sourceLocation)
        for m in mentions { #expect(r.err.contains(m), "\(args.suffix(3)): \(r.err) lacks \(m)", sourceLocation: sourceLocation) }
    }

    @Test func hostileInputsToPredict() throws {
        guard monaExecutable() != nil else { print("SKIPPED hostileInputsToPredict: mona not built"); return }
        let dir = TemporaryDirectory()
        func fit(_ c: Case, _ name: String) throws -> String {
            let run = dir.url.appendingPathComponent(name).path
            let r = try runMona(["fit", "--task", c.task, "--body", "tiny-bert", "--epochs", "1", "--batch-size", "8",
                                 "--max-tokens", "32", "--quiet", "--output", run] + c.flags)
            try #require(r.status == 0, "\(name): \(r.err)")
            return run
        }
        func file(_ name: String, _ text: String) throws -> String {
            let url = dir.url.appendingPathComponent("inputs/" + name)
            try Self.write(text, url)
            return url.path
        }
        let sensors = try fit(try Self.makeCase("series-csv", in: dir.url.appendingPathComponent("s")), "sensors")
        let header = (0..<16).map { "t\($0)" }.joined(separator: ",")
        let row = (0..<16).map { String(Double($0) / 10) }.joined(separator: ",")
        // The held-out rows work; each hostile variant is refused naming the file.
        #expect(try runMona(["predict", sensors, "--input", try file("ok.csv", "\(header)\n\(row)\n")]).status == 0)
        let short = try file("short.csv", "\(header)\n\(row)\n0.1,0.2\n")
        try Self.expectRefused(["predict", sensors, "--input", short], ["short.csv"])
        let unknownColumn = try file("extra.csv", "\(header),t16\n\(row),1\n")
        try Self.expectRefused(["predict", sensors, "--input", unknownColumn], ["extra.csv", "'t16' is not a column of the training data"])
        let missingColumn = try file("fewer.csv", "\((0..<15).map { "t\($0)" }.joined(separator: ","))\n\((0..<15).map { String($0) }.joined(separator: ","))\n")
        try Self.expectRefused(["predict", sensors, "--input", missingColumn], ["fewer.csv", "no column 't15'"])
        let infinite = try file("inf.csv", "\(header)\n\(row.replacingOccurrences(of: "0.5", with: "inf"))\n")
        try Self.expectRefused(["predict", sensors, "--input", infinite], ["inf.csv:2", "not a finite number"])
        let allMissing = try file("nan.csv", "\(header)\n\(Array(repeating: "NaN", count: 16).joined(separator: ","))\n")
        try Self.expectRefused(["predict", sensors, "--input", allMissing], ["nan.csv", "only missing values"])
        try Self.expectRefused(["predict", sensors, "--input", try file("empty.csv", "")], ["empty.csv"])
        try Self.expectRefused(["predict", sensors, "--input", try file("header-only.csv", "\(header)\n")], ["header-only.csv", "no data rows"])
        let unknownClass = try file("class.csv", "\(header),label\n\(row),triangle\n")
        try Self.expectRefused(["predict", sensors, "--input", unknownClass], ["class.csv:2", "'triangle' is not among the training classes"])
        try Self.expectRefused(["predict", sensors, "--input", ownDataPath("genes.fasta")], ["genes.fasta", "trained on csv data"])
        var nan = try NumPyArray.load(contentsOf: URL(fileURLWithPath: ownDataPath("arrays/X_test.npy")))
        nan = Tensor([Float.nan] + Array(nan.scalars.dropFirst()), shape: nan.shape)
        let nanArray = dir.url.appendingPathComponent("inputs/x_nan.npy")
        try NumPyArray.save(nan, to: nanArray)
        try Self.expectRefused(["predict", sensors, "--input", nanArray.path], ["x_nan.npy", "sample 0, channel 0, position 0"])

        // A headerless table: the column count must be the training one, with or without the label.
        let plain = dir.url.appendingPathComponent("plain/sensors.csv")
        try Self.write(try Self.lines(URL(fileURLWithPath: ownDataPath("sensors.csv"))).dropFirst().joined(separator: "\n") + "\n", plain)
        let plainRun = try fit(Case(task: plain.path, heldOut: ""), "plain-run")
        #expect(try runMona(["predict", plainRun, "--input", try file("p-ok.csv", row + "\n")]).status == 0)
        #expect(try runMona(["predict", plainRun, "--input", try file("p-labelled.csv", row + ",sine\n")]).status == 0)
        try Self.expectRefused(["predict", plainRun, "--input", try file("p-wide.csv", row + ",1,2\n")],
                               ["p-wide.csv", "18 columns; the training data had 17 (16 without the target column)"])

        // Sequences: longer than the model reads (refused unless --truncate); no k-mer at all.
        let peptides = try fit(try Self.makeCase("sequence-csv", in: dir.url.appendingPathComponent("p")), "peptides")
        let long = try file("long.csv", "sequence\n\(String(repeating: "KR", count: 100))\n")
        try Self.expectRefused(["predict", peptides, "--input", long], ["long.csv:2", "199 tokens", "--truncate"])
        #expect(try runMona(["predict", peptides, "--input", long, "--truncate"]).status == 0)
        try Self.expectRefused(["predict", peptides, "--input", try file("one.csv", "sequence\nK\n")], ["one.csv:2", "gives no 2-mer"])
        try Self.expectRefused(["predict", peptides, "--input", try file("blank.csv", "sequence\n\"\"\n")], ["blank.csv", "no data rows"])
        try Self.expectRefused(["predict", peptides, "--input", try file("blank2.csv", "sequence,label\n\"\",1\n")], ["blank2.csv:2", "empty sequence"])
        // Letters the training data never had are <unk>, not an error.
        let unseen = try file("unseen.csv", "sequence\nZZZZBBBB\n")
        let out = dir.url.appendingPathComponent("unseen-predictions.csv")
        let r = try runMona(["predict", peptides, "--input", unseen, "--output", out.path])
        #expect(r.status == 0, "\(r.err)")
        #expect(try Self.lines(out).count == 2)

        // FASTA: an empty file, bad characters.
        let genes = try fit(try Self.makeCase("fasta", in: dir.url.appendingPathComponent("g")), "genes")
        try Self.expectRefused(["predict", genes, "--input", try file("empty.fasta", "")], ["empty.fasta", "no FASTA records"])
        try Self.expectRefused(["predict", genes, "--input", try file("bad.fasta", ">x\nAC1GT\n")], ["bad.fasta:2", "invalid sequence character"])

        // WAV: another sample rate, a folder without clips, a class folder the model does not know.
        let words = try fit(try Self.makeCase("wav", in: dir.url.appendingPathComponent("w")), "words")
        let fast = dir.url.appendingPathComponent("inputs/fast.wav")
        let samples = Tensor((0..<1600).map { Float(sin(Double($0) / 5)) * 0.5 }, shape: [1, 1600])
        try Data(WAVFile.pcm16Bytes(samples: samples, sampleRate: 16000)).write(to: fast)
        try Self.expectRefused(["predict", words, "--input", fast.path], ["fast.wav", "16000 Hz", "8000 Hz"])
        let nothing = dir.url.appendingPathComponent("inputs/nothing")
        try FileManager.default.createDirectory(at: nothing, withIntermediateDirectories: true)
        try Self.expectRefused(["predict", words, "--input", nothing.path], ["nothing", "no .wav files"])
        let strange = dir.url.appendingPathComponent("inputs/classes/middle/a.wav")
        try FileManager.default.createDirectory(at: strange.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: ownData.appendingPathComponent("words/low/low0.wav"), to: strange)
        try Self.expectRefused(["predict", words, "--input", strange.deletingLastPathComponent().deletingLastPathComponent().path],
                               ["'middle' is not a training class"])
        #expect(try runMona(["predict", words, "--input", strange.path]).status == 0)

        // The run's saved settings: missing (a run from before they were saved), from a newer mona, or edited
        // so that they no longer fit the checkpoint. As in a run from before checkpoints carried a copy, only the
        // run folder's file is there.
        for name in ["best", "last"] {
            try FileManager.default.removeItem(atPath: sensors + "/checkpoints/\(name)/" + InputPreprocessing.fileName)
        }
        let settings = URL(fileURLWithPath: sensors).appendingPathComponent(InputPreprocessing.fileName)
        let original = try String(contentsOf: settings, encoding: .utf8)
        try original.replacingOccurrences(of: "\"version\": \(InputPreprocessing.currentVersion)", with: "\"version\": 7").write(to: settings, atomically: true, encoding: .utf8)
        try Self.expectRefused(["predict", sensors, "--input", short], [settings.path, "version: 7 was written by a newer mona"])
        #expect(try InputPreprocessing.read(URL(fileURLWithPath: peptides).appendingPathComponent(InputPreprocessing.fileName)).table?.sequence == 0)
        try original.replacingOccurrences(of: "\"columnCount\": 17", with: "\"columnCount\": 3").write(to: settings, atomically: true, encoding: .utf8)
        try Self.expectRefused(["predict", sensors, "--input", short], [settings.path, "table.header: 17 names for 3 columns"])
        try "{\"format\": \"mona-preprocessing\"".write(to: settings, atomically: true, encoding: .utf8)
        try Self.expectRefused(["predict", sensors, "--input", short], [settings.path, "not valid JSON"])
        try FileManager.default.removeItem(at: settings)
        try Self.expectRefused(["predict", sensors, "--input", short], ["no preprocessing.json", "train again"])
        // Array inputs still work without it.
        #expect(try runMona(["predict", sensors, "--input", ownDataPath("arrays/X_test.npy")]).status == 0)
        // And from a checkpoint folder, the run's settings are found two levels up.
        let fromCheckpoint = try runMona(["predict", peptides + "/checkpoints/best", "--input", unseen])
        #expect(fromCheckpoint.status == 0, "\(fromCheckpoint.err)")
    }
}
