import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// The committed "your own data" fixtures (scripts/make-own-data-fixtures.py).
let ownData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/own-data", isDirectory: true)

func ownDataPath(_ relative: String) -> String { ownData.appendingPathComponent(relative).path }

/// Task specs, inference from a bare path, and `mona data` / `mona fit` on one fixture of each format.
@Suite struct OwnDataTests {
    // MARK: Inference and loading (library)

    @Test func seriesCSVByPath() throws {
        let spec = try #require(try TaskInference.spec(forPath: ownDataPath("sensors.csv")))
        #expect(spec.format == .csv && spec.inputType == .series && spec.header == true)
        #expect(spec.target.column == "label" && spec.input.missing == .interpolate && spec.test == nil)
        let d = try spec.load()
        #expect(d.task.training.count == 24 && d.task.test.count == 8)
        #expect(d.task.spec.input == .series && d.task.spec.sampleShape == [1, 16])
        #expect(d.task.spec.classNames == ["ramp", "sine"])
        #expect(d.task.training.classCounts == [12, 12] && d.task.test.classCounts == [4, 4])
        #expect(d.missingValues == 1)
        #expect(d.task.training.inputTensor!.scalars.allSatisfy { $0.isFinite })
        // The same split every time (fixed seed), whatever the run's seed.
        let again = try spec.load()
        #expect(again.task.test.inputTensor!.scalars == d.task.test.inputTensor!.scalars)
    }

    @Test func sequenceCSVByPath() throws {
        let spec = try #require(try TaskInference.spec(forPath: ownDataPath("peptides.csv")))
        #expect(spec.inputType == .tokens && spec.input.column == "sequence" && spec.input.tokenizer == .characters)
        let d = try spec.load()
        #expect(d.task.spec.input == .tokens && d.task.spec.classNames == ["0", "1"])
        #expect(d.task.training.count == 24 && d.task.test.count == 8)
        // Vocabulary from the training split only: <pad>, <unk> and the letters seen there.
        guard case .tokens(let ids) = d.task.training.inputs else { Issue.record("not tokens"); return }
        let letters = Set(try String(contentsOfFile: ownDataPath("peptides.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().flatMap { $0.split(separator: ",")[0] })
        #expect(d.task.spec.vocabularySize! <= letters.count + 2)
        #expect(ids.allSatisfy { $0.allSatisfy { $0 >= 2 } })  // no <unk> or <pad> in training
    }

    @Test func fastaNeedsALabelRule() throws {
        #expect(throws: TransferError.self) { try TaskInference.spec(forPath: ownDataPath("genes.fasta")) }
        let spec = try #require(try TaskInference.spec(forPath: ownDataPath("genes.fasta"), label: "field:1"))
        let d = try spec.load()
        #expect(d.task.spec.classNames == ["alpha", "beta"] && d.task.spec.input == .tokens)
        #expect(d.task.training.count == 24 && d.task.test.count == 8)
        #expect(d.task.spec.vocabularySize == 6)  // ACGT + <pad> + <unk>
    }

    @Test func wavFolderByPath() throws {
        let spec = try #require(try TaskInference.spec(forPath: ownDataPath("words")))
        #expect(spec.format == .wav && spec.inputType == .logMel)
        let d = try spec.load()
        #expect(d.task.spec.classNames == ["high", "low"])
        #expect(d.task.training.count == 8 && d.task.test.count == 4)
        // 8 kHz clips, 25 ms windows in a 256-point FFT, 10 ms hop: 40 bands × (1 + 1760 / 80) frames.
        #expect(d.task.spec.input == .series && d.task.spec.sampleShape == [40, 23])
    }

    @Test func npyAndIDXPairsByPath() throws {
        let npy = try #require(try TaskInference.spec(forPath: ownDataPath("arrays/y_train.npy")))
        #expect(npy.train.inputs.hasSuffix("X_train.npy") && npy.test?.targets?.hasSuffix("y_test.npy") == true)
        let a = try npy.load()
        #expect(a.task.training.count == 24 && a.task.test.count == 8 && a.task.spec.sampleShape == [1, 16])
        let idx = try #require(try TaskInference.spec(forPath: ownDataPath("images/train-images-idx3-ubyte")))
        #expect(idx.test?.inputs.hasSuffix("t10k-images-idx3-ubyte") == true)
        let b = try idx.load()
        #expect(b.task.spec.input == .fields && b.task.spec.sampleShape == [1, 8, 8])
        #expect(b.task.training.count == 24 && b.task.test.count == 8)
        #expect(b.task.training.inputTensor!.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// A spec with k-mers, a regression target and a given metric; the spec survives config.yaml's round trip.
    @Test func specFileOptionsAndConfigRoundTrip() throws {
        let dir = TemporaryDirectory()
        let file = dir.url.appendingPathComponent("genes.yaml")
        try """
        name: genes
        train: \(ownDataPath("genes.fasta"))
        split: {testFraction: 0.5, seed: 3}
        input: {tokenizer: kmers, k: 3, stride: 3, maxLength: 8}
        target: {rule: "field:1"}
        metric: macro_f1
        """.write(to: file, atomically: true, encoding: .utf8)
        let spec = try TaskFileSpec.load(file)
        let d = try spec.load()
        #expect(d.task.training.count == 16 && d.task.test.count == 16)
        #expect(d.task.spec.metric == .macroF1 && d.task.spec.reportedMetrics.first == .macroF1)
        #expect(d.task.spec.sampleShape == [8] && d.truncatedSequences > 0)
        var config = FitConfig(task: "genes", body: "tiny-bert")
        config.data.spec = spec
        let back = try FitConfig(pairs: try ConfigFile.parse(try ConfigFile.yaml(try config.pairs())))
        #expect(back == config)

        // Regression from a table: two target columns, RMSE.
        let csv = dir.url.appendingPathComponent("reg.csv")
        let rows = (0..<12).map { i in "\(i),\(2 * i),1,\(Double(i) / 2),\(i % 3)" }
        try ("a,b,c,y1,y2\n" + rows.joined(separator: "\n")).write(to: csv, atomically: true, encoding: .utf8)
        let regSpec = dir.url.appendingPathComponent("reg.yaml")
        try "train: reg.csv\ntarget: {type: regression, columns: [y1, y2]}\nmetric: rmse\n"
            .write(to: regSpec, atomically: true, encoding: .utf8)
        let r = try TaskFileSpec.load(regSpec).load()
        #expect(r.task.spec.output == .regression && r.task.spec.outputs == 2 && r.task.spec.metric == .rmse)
        #expect(r.task.spec.sampleShape == [1, 3] && r.task.training.count + r.task.test.count == 12)
    }

    /// The table rules: no header, TSV, `--label` by name, a flat WAV folder, and paths the catalog keeps.
    @Test func inferenceRules() throws {
        let dir = TemporaryDirectory()
        func write(_ name: String, _ text: String) throws -> String {
            let url = dir.url.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let rows = (0..<12).map { i in "\(i),\(i * i),\(i % 2 == 0 ? "a" : "b")" }.joined(separator: "\n")
        let plain = try #require(try TaskInference.spec(forPath: try write("plain.csv", rows)))
        #expect(plain.header == false && plain.target.column == "2" && plain.inputType == .series)
        #expect(try plain.load().task.spec.sampleShape == [1, 2])
        let tsv = try #require(try TaskInference.spec(forPath: try write("t.tsv", "y\tf1\tf2\n"
            + (0..<12).map { i in "\(i % 3)\t\(i)\t\(-i)" }.joined(separator: "\n"))))
        #expect(tsv.format == .tsv && tsv.target.column == "f2")  // no `label` column: the last one
        let byFlag = try #require(try TaskInference.spec(forPath: tsv.train.inputs, label: "y"))
        #expect(byFlag.target.column == "y" && byFlag.header == true)
        #expect(try byFlag.load().task.spec.classNames == ["0", "1", "2"])
        // A value that overflows Float never reaches training as infinity: the table reader refuses it, naming
        // the file (spec loaders also end with the shared NaN/Inf and shape checks, TaskChecks.swift).
        let overflow = try write("overflow.csv", (0..<12).map { i in "\(i == 5 ? "1e39" : String(i)),\(i),\(i % 2)" }
            .joined(separator: "\n"))
        do { _ = try TaskInference.spec(forPath: overflow)?.load(); Issue.record("1e39 accepted") }
        catch { #expect("\(error)".contains(overflow), "\(error)") }
        // Mixed text and numbers, or a regression-like label, are not guessed.
        #expect(throws: TransferError.self) {
            try TaskInference.spec(forPath: try write("mixed.csv", "name,x,label\n" + (0..<6).map { "n\($0),\($0),\($0 % 2)" }.joined(separator: "\n")))
        }
        #expect(throws: TransferError.self) {
            try TaskInference.spec(forPath: try write("reg.csv", (0..<60).map { "\($0),\(Double($0) * 0.37)" }.joined(separator: "\n")))
        }
        // Clips directly in the folder (no class folders): a clear error rather than the UCR reader's.
        let flat = dir.url.appendingPathComponent("clips", isDirectory: true)
        try FileManager.default.createDirectory(at: flat, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: ownData.appendingPathComponent("words/high/high0.wav"), to: flat.appendingPathComponent("a.wav"))
        #expect(throws: TransferError.badTask("\(flat.path): .wav files need one sub-folder per class (<folder>/<class>/*.wav); "
                                              + "this folder holds the clips directly")) { try TaskInference.spec(forPath: flat.path) }
        // UCR names and archives stay with TaskCatalog.
        #expect(try TaskInference.spec(forPath: try write("Name_TRAIN.tsv", "1\t2\t3\n")) == nil)
        #expect(try TaskInference.spec(forPath: try wavesTask(in: dir.url)) == nil)
    }

    /// `data.spec` in a config: used when `task` is left out; a different `--task` replaces a saved spec; a
    /// hand-written spec next to another task is refused.
    @Test func configResolution() throws {
        var spec = TaskFileSpec(format: .csv, train: .init(ownDataPath("sensors.csv")))
        spec.name = "mine"
        var config = FitConfig(task: "")
        config.data.spec = spec
        let (resolved, line) = try TaskInference.resolve(config, label: nil)
        #expect(resolved.task == "mine" && resolved.data.spec == spec && line == nil)
        config.task = "gunpoint"
        #expect(throws: TransferError.self) { try TaskInference.resolve(config, label: nil) }
        var saved = try TaskInference.resolve(FitConfig(task: ownDataPath("peptides.csv")), label: nil).config
        #expect(saved.data.spec?.from == ownDataPath("peptides.csv"))
        saved.task = ownDataPath("sensors.csv")
        let replaced = try TaskInference.resolve(saved, label: nil)
        #expect(replaced.config.data.spec?.inputType == .series && replaced.inferred?.hasPrefix("inferred task 'sensors'") == true)
        #expect(throws: TransferError.self) { try TaskInference.resolve(FitConfig(task: "gunpoint"), label: "field:1") }
    }

    /// Hostile or mistaken specs: one error naming the file and the field.
    @Test(arguments: [
        ("format: csv\n", "train: missing"),
        ("train: 5\n", "train: expected a path"),
        ("train: nope.csv\n", "train: no such file or folder"),
        ("train: SENSORS\ninput: {tokenizer: kmers, k: 1e12}\n", "input.k: must be in 1...32"),
        ("train: SENSORS\nsplit: {testFraction: 1.5}\n", "split.testFraction: must be in (0, 1)"),
        ("train: SENSORS\nsplit: {testFraction: .nan}\n", "split.testFraction: expected a finite number"),
        ("train: SENSORS\ninputs: {}\n", "inputs: unknown key"),
        ("train: SENSORS\ninput: {shape: [3, 7]}\n", "input.shape: [3, 7] holds 21 values but there are 16 feature columns"),
        ("train: SENSORS\ninput: {shape: [100000000, 100000000, 100000000]}\n", "input.shape[0]: must be in 1..."),
        ("train: SENSORS\nmetric: mse\n", "metric: mse does not score a classification task"),
        ("train: SENSORS\nmetric: f2\n", "metric: unknown metric"),
        ("train: SENSORS\ninput: {missing: error}\n", "sensors.csv:7: missing value in column t7"),
        ("train: SENSORS\ntarget: {column: nope}\n", "target.column: no column 'nope'"),
        ("train: GENES\n", "target.rule: missing"),
        ("train: GENES\ntarget: {rule: \"field:x\"}\n", "target.rule: field index"),
        ("train: WORDS\ninput: {fftSize: 1000}\n", "input.fftSize: must be a power of two"),
        ("train: WORDS\ninput: {type: tokens}\n", "input.type: wav data can be read as log-mel"),
        ("train: WORDS\ninput: {bands: 512, frames: 10000}\n", "input.frames: bands × frames must stay within"),
        ("train: WORDS\ninput: {k: 3}\n", "input.k: only used with input type tokens"),
        ("train: SENSORS\nseparator: \";;\"\n", "separator: expected one character"),
        ("train: [1, 2\n", "invalid YAML"),
        // A null inside a list (it used to trap on a force unwrap).
        ("train: SENSORS\ninput: {shape: [~, 16]}\n", "input.shape[0]: expected a value"),
        ("train: SENSORS\ninput: {columns: [t0, ~]}\n", "input.columns[1]: expected a value"),
    ])
    func hostileSpecs(text: String, message: String) throws {
        let dir = TemporaryDirectory()
        let file = dir.url.appendingPathComponent("task.yaml")
        try text.replacingOccurrences(of: "SENSORS", with: ownDataPath("sensors.csv"))
            .replacingOccurrences(of: "GENES", with: ownDataPath("genes.fasta"))
            .replacingOccurrences(of: "WORDS", with: ownDataPath("words"))
            .write(to: file, atomically: true, encoding: .utf8)
        do {
            _ = try TaskFileSpec.load(file).load()
            Issue.record("accepted: \(text)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
            let e = "\(error)"
            #expect(e.contains(file.path) || e.contains("task '") || e.contains(ownData.path), "\(e)")
        }
        guard monaExecutable() != nil else { return }
        let r = try runMona(["data", file.path])
        #expect(r.status == 2 && r.err.contains(message), "\(r.status) \(r.err)")
        #expect(r.err.split(separator: "\n").count == 1)
    }

    /// Relative paths are taken from the spec's folder, and `..` is allowed (a spec names data like a path does).
    @Test func relativePathsAndTraversal() throws {
        let dir = TemporaryDirectory()
        let sub = dir.url.appendingPathComponent("specs/deeper", isDirectory: true)
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: ownData.appendingPathComponent("sensors.csv"),
                                         to: dir.url.appendingPathComponent("sensors.csv"))
        let file = sub.appendingPathComponent("t.yaml")
        try "train: ../../sensors.csv\n".write(to: file, atomically: true, encoding: .utf8)
        let spec = try TaskFileSpec.load(file)
        #expect(spec.train.inputs == dir.url.appendingPathComponent("sensors.csv").standardizedFileURL.path)
        let loaded = try spec.load()
        #expect(loaded.task.training.count == 24)
    }

    // MARK: The mona executable

    /// `mona data` then `mona fit` (tiny-bert, one epoch) on each format, given by path (FASTA with --label)
    /// or by a spec; the guess is announced in one line and the resolved spec lands in config.yaml.
    @Test(arguments: [
        ("sensors.csv", [String](), "2 classes"),
        ("peptides.csv", [], "vocabulary:"),
        ("genes.fasta", ["--label", "field:1"], "vocabulary: 6 tokens"),
        ("words", [], "series [C, L] = [40, 23]"),
        ("arrays/X_train.npy", [], "series [C, L] = [1, 16]"),
        ("images/train-images-idx3-ubyte", [], "fields [C, H, W] = [1, 8, 8]"),
        ("SPEC", [], "vocabulary:"),
    ])
    func dataAndFitCommands(path: String, flags: [String], expected: String) throws {
        guard monaExecutable() != nil else {
            print("SKIPPED dataAndFitCommands: the mona executable is not built next to the tests")
            return
        }
        let dir = TemporaryDirectory()
        var task = ownDataPath(path)
        if path == "SPEC" {
            task = dir.url.appendingPathComponent("peptides.yaml").path
            try """
            train: \(ownDataPath("peptides.csv"))
            input: {type: tokens, column: sequence, tokenizer: kmers, k: 2, stride: 1}
            target: {type: classification, column: label}
            metric: accuracy
            """.write(toFile: task, atomically: true, encoding: .utf8)
        }
        let shown = try runMona(["data", task] + flags)
        #expect(shown.status == 0, "\(shown.err)")
        #expect(shown.out.contains(expected) && shown.out.contains("samples: train"), "\(shown.out)")
        if path != "SPEC" { #expect(shown.out.hasPrefix("inferred task"), "\(shown.out)") }

        let run = dir.url.appendingPathComponent("run").path
        let fit = try runMona(["fit", "--task", task, "--body", "tiny-bert", "--epochs", "1", "--batch-size", "8",
                               "--max-tokens", "32", "--output", run] + flags)
        #expect(fit.status == 0, "\(fit.err)")
        let lines = fit.out.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("inferred task") }.count == (path == "SPEC" ? 0 : 1), "\(fit.out)")
        #expect(lines.last?.hasPrefix("test accuracy") == true, "\(fit.out)")
        // The saved config holds the resolved spec, so the run can be repeated from it alone.
        let saved = try FitConfig(pairs: try ConfigFile.load(URL(fileURLWithPath: run).appendingPathComponent("config.yaml")))
        let spec = try #require(saved.data.spec)
        #expect(spec.from == task)
        let reloaded = try spec.load().task.test.count
        let summary = try DataSummary.load(task, label: flags.last, dataRoot: ownData)
        #expect(reloaded == summary.task.test.count)
        let again = try runMona(["data", "--json", task] + flags)
        #expect(again.status == 0)
        let json = try RunValue.parse(json: again.out)
        #expect(json["task"]?.stringValue == spec.taskName)
    }

    /// Bad paths and flags from the command line: exit 2 and one line.
    @Test func commandLineMistakes() throws {
        guard monaExecutable() != nil else { return }
        let fasta = try runMona(["data", ownDataPath("genes.fasta")])
        #expect(fasta.status == 2 && fasta.err.contains("needs a label rule"), "\(fasta.err)")
        let column = try runMona(["data", ownDataPath("sensors.csv"), "--label", "nope"])
        #expect(column.status == 2 && column.err.contains("--label nope: no such column"), "\(column.err)")
        let missing = try runMona(["data", "/nonexistent/file.csv"])
        #expect(missing.status == 2 && missing.err.contains("no such file or folder"), "\(missing.err)")
        let dir = TemporaryDirectory()
        let fit = try runMona(["fit", "--task", ownDataPath("genes.fasta"), "--body", "tiny-bert", "--output",
                               dir.url.appendingPathComponent("run").path])
        #expect(fit.status == 2 && fit.err.contains("needs a label rule"), "\(fit.err)")
        // A hostile spec given to fit: the same one line as `mona data`, exit 2, no run started.
        let bad = dir.url.appendingPathComponent("bad.yaml")
        try "train: \(ownDataPath("peptides.csv"))\ninput: {tokenizer: kmers, k: 1e12}\n".write(to: bad, atomically: true, encoding: .utf8)
        let hostile = try runMona(["fit", "--task", bad.path, "--body", "tiny-bert", "--output", dir.url.appendingPathComponent("run2").path])
        #expect(hostile.status == 2 && hostile.err.contains("\(bad.path): input.k: must be in 1...32"), "\(hostile.err)")
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("run2/metrics.jsonl").path))
    }

    /// The `data.spec` section of a config file describes the task without `task:`.
    @Test func configDataSection() throws {
        guard monaExecutable() != nil else { return }
        let dir = TemporaryDirectory()
        let config = dir.url.appendingPathComponent("config.yaml")
        try """
        body: tiny-bert
        training: {epochs: 1, batchSize: 8}
        data:
          spec:
            name: beams
            train: {inputs: \(ownDataPath("images/train-images-idx3-ubyte")), targets: \(ownDataPath("images/train-labels-idx1-ubyte"))}
            split: {testFraction: 0.25, seed: 5}
            metric: macro_f1
        """.write(to: config, atomically: true, encoding: .utf8)
        let run = dir.url.appendingPathComponent("run")
        let fit = try runMona(["fit", "--config", config.path, "--output", run.path])
        #expect(fit.status == 0, "\(fit.err)")
        #expect(fit.out.split(separator: "\n").last?.hasPrefix("test macro_f1") == true, "\(fit.out)")
        let saved = try FitConfig(pairs: try ConfigFile.load(run.appendingPathComponent("config.yaml")))
        #expect(saved.task == "beams" && saved.data.spec?.split?.seed == 5 && saved.data.spec?.format == .idx)
        // A wrong type inside the section names its key.
        try "body: tiny-bert\ndata: {spec: {train: 5}}\n".write(to: config, atomically: true, encoding: .utf8)
        let bad = try runMona(["fit", "--config", config.path, "--output", dir.url.appendingPathComponent("run2").path])
        #expect(bad.status == 2 && bad.err.contains("config data.spec: train: expected a path"), "\(bad.err)")
    }

    /// `mona evaluate RUN` without --task reads the data through the spec saved in the run's config.yaml: a FASTA
    /// file needs its --label rule and a spec file's k-mer tokenizer and split (re-reading `--task` as a path or
    /// name would fail, or read other data). The metric is the one fit reported, from the run folder and from a
    /// checkpoint folder alike.
    @Test(arguments: ["FASTA", "SPEC"])
    func evaluateUsesTheSavedSpec(kind: String) throws {
        guard monaExecutable() != nil else { print("SKIPPED evaluateUsesTheSavedSpec: mona not built"); return }
        let dir = TemporaryDirectory()
        var task = ownDataPath("genes.fasta"), flags = ["--label", "field:1"]
        if kind == "SPEC" {
            // Named like a catalogue task, so reading the name again would load other data.
            task = dir.url.appendingPathComponent("peptides.yaml").path
            flags = []
            try """
            train: \(ownDataPath("peptides.csv"))
            split: {testFraction: 0.5, seed: 11}
            input: {type: tokens, column: sequence, tokenizer: kmers, k: 2, stride: 1}
            target: {type: classification, column: label}
            """.write(toFile: task, atomically: true, encoding: .utf8)
        }
        let run = dir.url.appendingPathComponent("run").path
        let fit = try runMona(["fit", "--task", task, "--body", "tiny-bert", "--epochs", "1", "--batch-size", "8",
                               "--max-tokens", "32", "--json", "--output", run] + flags)
        try #require(fit.status == 0, "\(fit.err)")
        let result = try #require(fit.out.split(separator: "\n").last.map { try RunValue.parse(json: String($0)) })
        let accuracy = try #require(result["test_accuracy"]?.doubleValue)
        for path in [run, run + "/checkpoints/best"] {
            let eval = try runMona(["evaluate", path, "--json"])
            #expect(eval.status == 0, "\(path): \(eval.err)")
            let metrics = try RunValue.parse(json: eval.out)
            #expect(metrics["test_accuracy"]?.doubleValue == accuracy, "\(eval.out) vs \(accuracy)")
            #expect(metrics["samples"]?.doubleValue == (kind == "SPEC" ? 16 : 8), "\(eval.out)")
        }
        // An explicit --task still wins (here: the training split of the same data, read by its path).
        if kind == "FASTA" {
            let other = try runMona(["evaluate", run, "--task", task])
            #expect(other.status == 2 && other.err.contains("needs a label rule"), "\(other.err)")
        }
    }

    /// NaN or infinity in data read through a spec is refused naming the file (and the sample and channel, or
    /// the line): arrays of an npy pair, a table's regression target, and a table cell when missing values are
    /// errors — not only a value that overflows Float.
    @Test func nonFiniteDataThroughASpec() throws {
        let dir = TemporaryDirectory()
        func refused(_ spec: String, _ mentions: [String]) throws {
            let file = dir.url.appendingPathComponent("spec-\(UUID().uuidString).yaml")
            try spec.write(to: file, atomically: true, encoding: .utf8)
            do {
                _ = try TaskFileSpec.load(file).load()
                Issue.record("accepted: \(spec)")
            } catch {
                for m in mentions { #expect("\(error)".contains(m), "\(error) lacks \(m)") }
                #expect(!"\(error)".contains("\n"))
            }
        }
        // x_train with NaN at sample 3, channel 0, position 5.
        var x = try NumPyArray.load(contentsOf: URL(fileURLWithPath: ownDataPath("arrays/X_train.npy")))
        var values = x.scalars
        let perSample = values.count / x.shape[0]
        values[3 * perSample + 5] = .nan
        x = Tensor(values, shape: x.shape)
        let nanX = dir.url.appendingPathComponent("X_nan.npy")
        try NumPyArray.save(x, to: nanX)
        try refused("format: npy\ntrain: {inputs: \(nanX.path), targets: \(ownDataPath("arrays/y_train.npy"))}\n",
                    [nanX.path, "sample 3", "channel 0", "nan"])
        // Infinity in the test inputs of a pair.
        values[3 * perSample + 5] = .infinity
        let infX = dir.url.appendingPathComponent("X_inf.npy")
        try NumPyArray.save(Tensor(values, shape: x.shape), to: infX)
        try refused("""
            format: npy
            train: {inputs: \(ownDataPath("arrays/X_train.npy")), targets: \(ownDataPath("arrays/y_train.npy"))}
            test: {inputs: \(infX.path), targets: \(ownDataPath("arrays/y_train.npy"))}

            """, [infX.path, "sample 3", "inf"])
        // A WAV folder with one 32-bit float clip holding NaN samples: named by its file.
        let words = dir.url.appendingPathComponent("words")
        try FileManager.default.copyItem(at: ownData.appendingPathComponent("words"), to: words)
        let clip = words.appendingPathComponent("high/zz-nan.wav")
        try Self.floatWAV(rate: 8000, samples: (0..<1760).map { $0 % 97 == 5 ? .nan : Float(sin(Double($0) / 3)) / 2 }).write(to: clip)
        try refused("format: wav\ntrain: \(words.path)\n", [clip.path, "non-finite"])
        // A table: "nan" as a regression target, and as an input cell with `missing: error`.
        let csv = dir.url.appendingPathComponent("table.csv")
        try ("a,b,y\n" + (0..<12).map { i in "\(i),\(i == 4 ? "nan" : String(2 * i)),\(i == 7 ? "NaN" : String(Double(i) / 2))" }
            .joined(separator: "\n")).write(to: csv, atomically: true, encoding: .utf8)
        try refused("train: \(csv.path)\ntarget: {type: regression, column: y}\n", [csv.path + ":9:", "not a finite number"])
        try refused("train: \(csv.path)\ninput: {missing: error}\ntarget: {type: regression, column: a}\n",
                    [csv.path + ":6:", "missing value in column b"])
    }

    /// A mono RIFF/WAVE file of 32-bit IEEE float samples.
    static func floatWAV(rate: Int, samples: [Float]) -> Data {
        var d = Data()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { d.append(contentsOf: $0) } }
        d.append(contentsOf: Array("RIFF".utf8)); u32(36 + 4 * samples.count); d.append(contentsOf: Array("WAVE".utf8))
        d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(3); u16(1); u32(rate); u32(4 * rate); u16(4); u16(32)
        d.append(contentsOf: Array("data".utf8)); u32(4 * samples.count)
        for x in samples { withUnsafeBytes(of: x.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }
}
