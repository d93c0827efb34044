import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// The `mona` executable fed what a hostile-but-realistic user would: unusable data, edited checkpoint metadata,
/// foreign output folders, a full disk, terminal escapes in names, out-of-range flags. Each must end with exit
/// status 2 and one line on standard error naming the file or option — never a signal, never a silent metric.
@Suite(.serialized) struct HostileInputTests {
    /// `mona args` must be refused: status 2, one stderr line holding every `mention`.
    @discardableResult
    func expectRefused(_ args: [String], _ mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try runMona(args)
        let lines = r.err.split(separator: "\n").filter { !$0.isEmpty }
        #expect(r.status == 2, "mona \(args.joined(separator: " ")): status \(r.status), stderr \(r.err)",
                sourceLocation: sourceLocation)
        #expect(lines.count == 1, "expected one line, got: \(r.err)", sourceLocation: sourceLocation)
        for m in mentions {
            #expect(r.err.contains(m), "stderr lacks '\(m)': \(r.err)", sourceLocation: sourceLocation)
        }
        return r.err
    }

    func fitArgs(task: String, output: String) -> [String] {
        ["fit", "--task", task, "--body", "tiny-bert", "--method", "finetune", "--epochs", "1", "--seed", "0",
         "--max-tokens", "8", "--batch-size", "8", "--quiet", "--output", output]
    }

    /// An .npz task file with the given arrays.
    func npz(_ dir: URL, _ name: String, _ arrays: [String: Tensor]) throws -> String {
        let url = dir.appendingPathComponent(name)
        try NumPyArchive.save(arrays, to: url)
        return url.path
    }

    var waves: (x: Tensor, y: Tensor) {
        let d = try! waveDataset(count: 24)
        return (d.inputTensor!, Tensor(d.labels!.map(Float.init)))
    }

    /// A trained classification run on the waves task (one epoch of the tiny random body).
    func trainedRun(in dir: URL) throws -> String {
        let run = dir.appendingPathComponent("run").path
        let r = try runMona(fitArgs(task: try wavesTask(in: dir), output: run))
        try #require(r.status == 0, "fit failed: \(r.err)")
        return run
    }

    // MARK: Data the pipeline does not expect

    @Test func unusableDataIsRefusedBeforeTraining() throws {
        guard monaExecutable() != nil else { print("SKIPPED unusableDataIsRefusedBeforeTraining: mona not built"); return }
        let dir = TemporaryDirectory()
        let (x, y) = waves
        let out = dir.url.appendingPathComponent("out").path

        // Zero-length series [N, 1, 0].
        let empty = Tensor.zeros([24, 1, 0])
        try expectRefused(fitArgs(task: try npz(dir.url, "empty.npz", ["x_train": empty, "y_train": y, "x_test": empty, "y_test": y]),
                                  output: out), ["empty.npz (x_train, y_train)", "at least one channel and one value"])

        // NaN inside the test inputs: named by file, sample and channel (was "test accuracy 0.5000", exit 0).
        var values = x.scalars
        values[3 * 16 + 5] = .nan
        let poisoned = Tensor(values, shape: x.shape)
        try expectRefused(fitArgs(task: try npz(dir.url, "nan.npz", ["x_train": x, "y_train": y, "x_test": poisoned, "y_test": y]),
                                  output: out), ["nan.npz (x_test, y_test)", "sample 3, channel 0, position 5", "nan"])

        // Infinity in a regression target.
        var targets = (0..<24).map { Float($0) / 10 }
        targets[7] = .infinity
        try expectRefused(fitArgs(task: try npz(dir.url, "inf.npz", ["x_train": x, "y_train": Tensor(targets), "x_test": x,
                                                                      "y_test": Tensor((0..<24).map { Float($0) / 10 })]),
                                  output: out), ["inf.npz (x_train, y_train)", "target of sample 7", "inf"])

        // Train/test target widths differ: refused before any training (no checkpoint written).
        let wide = Tensor.full([24, 2], 0.5), wider = Tensor.full([24, 3], 0.5)
        try expectRefused(fitArgs(task: try npz(dir.url, "width.npz", ["x_train": x, "y_train": wide, "x_test": x, "y_test": wider]),
                                  output: out), ["width.npz (x_test, y_test)", "3 values per sample", "training targets 2"])
        #expect(!FileManager.default.fileExists(atPath: out + "/checkpoints/best"))

        // A test split of zero samples.
        try expectRefused(fitArgs(task: try npz(dir.url, "notest.npz", ["x_train": x, "y_train": y, "x_test": Tensor.zeros([0, 1, 16]),
                                                                         "y_test": Tensor.zeros([0])]),
                                  output: out), ["notest.npz (x_test, y_test)", "no samples"])

        // Test channels differ from training channels.
        try expectRefused(fitArgs(task: try npz(dir.url, "channels.npz", ["x_train": x, "y_train": y, "x_test": Tensor.zeros([4, 2, 16]),
                                                                           "y_test": Tensor([0, 1, 0, 1])]),
                                  output: out), ["channels.npz (x_test, y_test)", "2 channels"])
    }

    @Test func evaluateAndPredictCheckWhatTheyAreGiven() throws {
        guard monaExecutable() != nil else { print("SKIPPED evaluateAndPredictCheckWhatTheyAreGiven: mona not built"); return }
        let dir = TemporaryDirectory()
        let run = try trainedRun(in: dir.url)
        let (x, _) = waves

        // A classification run evaluated on a regression file (used to trap in the loss).
        let regression = try npz(dir.url, "reg.npz", ["x_train": x, "y_train": Tensor((0..<24).map { Float($0) / 7 }),
                                                      "x_test": x, "y_test": Tensor((0..<24).map { Float($0) / 7 })])
        try expectRefused(["evaluate", run, "--task", regression], ["reg.npz", "regression values", "classification"])

        // predict on NaN input and on zero-length series.
        var values = x.scalars
        values[2 * 16] = .nan
        let nanInput = dir.url.appendingPathComponent("nan.npy")
        try NumPyArray.save(Tensor(values, shape: x.shape), to: nanInput)
        try expectRefused(["predict", run, "--input", nanInput.path], ["nan.npy", "sample 2, channel 0, position 0"])
        let emptyInput = dir.url.appendingPathComponent("empty.npy")
        try NumPyArray.save(Tensor.zeros([3, 1, 0]), to: emptyInput)
        try expectRefused(["predict", run, "--input", emptyInput.path], ["empty.npy", "at least one channel"])

        // Batch sizes: 0, negative (was "Missing value"), and the predictions still work with a valid one.
        try expectRefused(["evaluate", run, "--batch-size", "0"], ["--batch-size 0"])
        try expectRefused(["evaluate", run, "--batch-size", "-1"], ["--batch-size -1"])
        try expectRefused(["predict", run, "--input", nanInput.path, "--batch-size", "-5"], ["--batch-size -5"])
        let ok = try runMona(["evaluate", run, "--batch-size", "7"])
        #expect(ok.status == 0 && ok.out.contains("test_accuracy"), "\(ok.err)")
    }

    @Test func derivedTaskReadersCheckTheirHeaders() throws {
        let dir = TemporaryDirectory()
        // A peptide CSV whose header declares far more rows than it holds.
        let csv = dir.url.appendingPathComponent("AMPvsUniProt.csv")
        try "5200,1,UniProt,AMP\nGLWSK, 1\nMKLLV, 0\nAAKKG, 1\nPPGGL, 0\n".write(to: csv, atomically: true, encoding: .utf8)
        #expect(throws: DataError.self) { _ = try TaskCatalog.peptides(csv) }
        do { _ = try TaskCatalog.peptides(csv) } catch { #expect("\(error)".contains("declares 5200 rows but the file holds 4")) }
        // An IDX image header declaring 2³² − 1 images of 2³² − 1 × 2³² − 1 pixels (the product overflows Int).
        let idx = dir.url.appendingPathComponent("images-idx3-ubyte")
        try Data([0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12) + [1, 2, 3]).write(to: idx)
        #expect(throws: DataError.self) { _ = try TaskCatalog.idxImages(idx, rows: [0]) }
    }

    // MARK: Checkpoint metadata we wrote, edited

    @Test func editedCheckpointMetadataIsRefused() throws {
        guard monaExecutable() != nil else { print("SKIPPED editedCheckpointMetadataIsRefused: mona not built"); return }
        let dir = TemporaryDirectory()
        let run = try trainedRun(in: dir.url)
        let modelJSON = URL(fileURLWithPath: run).appendingPathComponent("checkpoints/best/model.json")
        let original = try Data(contentsOf: modelJSON)

        func edited(_ change: (inout [String: Any]) -> Void) throws {
            var object = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
            change(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: modelJSON)
        }
        func body(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
            { o in var c = o["bodyConfig"] as! [String: Any]; c[key] = value; o["bodyConfig"] = c }
        }
        func task(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
            { o in var c = o["task"] as! [String: Any]; c[key] = value; o["task"] = c }
        }
        let cases: [((inout [String: Any]) -> Void, [String])] = [
            (body("heads", 5), ["bodyConfig.heads", "does not divide"]),
            (body("layers", 1_000_000), ["bodyConfig.layers", "1000000"]),
            (body("layers", 500), ["bodyConfig", "weights file"]),
            (body("hiddenSize", 0), ["bodyConfig.hiddenSize"]),
            ({ $0["maxTokens"] = 0 }, ["maxTokens", "is 0"]),
            ({ $0["maxTokens"] = -3 }, ["maxTokens", "is -3"]),
            (task("outputs", 0), ["task.outputs"]),
            (task("sampleShape", [1]), ["task.sampleShape"]),
            ({ $0["inputMean"] = [Float](); $0["inputStd"] = [Float]() }, ["inputMean/inputStd", "1 channels"]),
            ({ $0["inputMean"] = [0.0]; $0["inputStd"] = [0.0] }, ["inputStd", "> 0"]),
            (task("loss", "mse"), ["task.loss", "'mse'"]),
            ({ $0["task"] = "x" }, ["model.json", "task"]),
        ]
        for (change, mentions) in cases {
            try edited(change)
            try expectRefused(["evaluate", run], [modelJSON.path] + mentions)
        }
        try original.write(to: modelJSON)
        #expect(try runMona(["evaluate", run]).status == 0)

        // A negative step in state.json: --resume refuses it (used to trap).
        let stateURL = URL(fileURLWithPath: run).appendingPathComponent("checkpoints/last/state.json")
        var state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: stateURL)) as? [String: Any])
        state["step"] = -4
        try JSONSerialization.data(withJSONObject: state).write(to: stateURL)
        try expectRefused(fitArgs(task: try wavesTask(in: dir.url), output: run) + ["--resume"],
                          ["state.json", "'step' is -4"])
    }

    // MARK: Run folders and the user's files

    @Test func foreignFoldersAreNeverOverwritten() throws {
        guard monaExecutable() != nil else { print("SKIPPED foreignFoldersAreNeverOverwritten: mona not built"); return }
        let dir = TemporaryDirectory()
        let task = try wavesTask(in: dir.url)
        let mine = dir.url.appendingPathComponent("my-results", isDirectory: true)
        try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
        let predictions = mine.appendingPathComponent("predictions.csv")
        try "my own predictions\n".write(to: predictions, atomically: true, encoding: .utf8)

        try expectRefused(fitArgs(task: task, output: mine.path), [mine.path, "not a mona run directory", "--force"])
        try expectRefused(fitArgs(task: task, output: mine.path) + ["--force"], ["predictions.csv", "would overwrite"])
        #expect(try String(contentsOf: predictions, encoding: .utf8) == "my own predictions\n")
        #expect(!FileManager.default.fileExists(atPath: mine.appendingPathComponent("checkpoints").path))

        // With --force and no name collision the run goes ahead and leaves the user's file alone.
        try FileManager.default.moveItem(at: predictions, to: mine.appendingPathComponent("notes.txt"))
        let forced = try runMona(fitArgs(task: task, output: mine.path) + ["--force"])
        #expect(forced.status == 0, "\(forced.err)")
        #expect(try String(contentsOf: mine.appendingPathComponent("notes.txt"), encoding: .utf8) == "my own predictions\n")
        #expect(FileManager.default.fileExists(atPath: mine.appendingPathComponent(RunDirectory.markerName).path))

        // A new folder is created and marked; reusing it without --resume is the existing "already holds a run".
        let fresh = dir.url.appendingPathComponent("fresh").path
        #expect(try runMona(fitArgs(task: task, output: fresh)).status == 0)
        #expect(FileManager.default.fileExists(atPath: fresh + "/" + RunDirectory.markerName))
        try expectRefused(fitArgs(task: task, output: fresh), ["already holds a run"])
    }

    @Test func secondBenchOnOneFolderRefusesNamingTheHolder() throws {
        guard monaExecutable() != nil else { print("SKIPPED secondBenchOnOneFolderRefusesNamingTheHolder: mona not built"); return }
        let dir = TemporaryDirectory()
        let lock = dir.url.appendingPathComponent("bench.lock")
        try FolderLock.lock(lock, what: dir.url.path, advice: "wait")   // this test process plays the first bench
        defer { FolderLock.unlock(lock) }
        try expectRefused(["bench", "--suite", "micro", "--no-gap", "--output", dir.url.path],
                          [dir.url.path, "in use by process \(getpid())"])
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("runs").path))
    }

    @Test func fullDiskIsReportedWithThePathAndLeavesNoPartialFolder() throws {
        guard monaExecutable() != nil else { print("SKIPPED fullDiskIsReported…: mona not built"); return }
        let dir = TemporaryDirectory()
        let task = try wavesTask(in: dir.url)
        let mount = dir.url.appendingPathComponent("tiny", isDirectory: true)
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        // A 96 kB file system: the configuration and log fit, the first checkpoint does not.
        let m = Process()
        m.executableURL = URL(fileURLWithPath: "/bin/mount")
        m.arguments = ["-t", "tmpfs", "-o", "size=96k", "tmpfs", mount.path]
        m.standardError = FileHandle.nullDevice
        try? m.run()
        m.waitUntilExit()
        guard m.terminationStatus == 0 else {
            print("SKIPPED fullDiskIsReportedWithThePathAndLeavesNoPartialFolder: cannot mount a small tmpfs (needs root)")
            return
        }
        defer {
            let u = Process()
            u.executableURL = URL(fileURLWithPath: "/bin/umount")
            u.arguments = [mount.path]
            try? u.run()
            u.waitUntilExit()
        }
        let out = mount.appendingPathComponent("run").path
        let err = try expectRefused(fitArgs(task: task, output: out), ["No space left on device", out])
        #expect(!err.contains("FormatError error"))
        let leftovers = FileManager.default.enumerator(atPath: out)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".partial") }
        #expect(leftovers == [], "temporary folders left: \(leftovers ?? [])")
    }

    @Test func ioErrorsSayWhatTheOperatingSystemSaid() {
        let denied = CocoaError(.fileWriteNoPermission, userInfo: [NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(EACCES))])
        #expect(describeIOError(denied) == "Permission denied")
        #expect(describeIOError(POSIXError(.ENOSPC)) == "No space left on device")
        #expect(describeIOError(FormatError(file: "/x/model.safetensors", "write failed (No space left on device)"))
                == "/x/model.safetensors: write failed (No space left on device)")
        #expect(FormatError(file: "f", "m").localizedDescription == "f: m")
    }

    // MARK: Terminal safety and option values

    @Test func namesFromFilesCannotForgeTerminalOutput() throws {
        guard monaExecutable() != nil else { print("SKIPPED namesFromFilesCannotForgeTerminalOutput: mona not built"); return }
        let dir = TemporaryDirectory()
        let url = dir.url.appendingPathComponent("evil.safetensors")
        try SafeTensors.save(["a\u{1B}[2J\nFORGED line\u{202E}": Tensor([1, 2])], metadata: ["k\u{7}": "v\r\nFORGED"], to: url)
        let r = try runMona(["inspect", url.path])
        #expect(r.status == 0)
        #expect(!r.out.contains("\u{1B}") && !r.out.contains("\u{7}") && !r.out.contains("\r") && !r.out.contains("\u{202E}"))
        #expect(!r.out.split(separator: "\n").contains { $0.hasPrefix("FORGED") })
        #expect(r.out.contains("a\\u{1B}[2J\\u{A}FORGED line\\u{202E}"))
        #expect(TerminalText.escaped("ok\ttab") == "ok\\u{9}tab")
        #expect(TerminalText.escaped("a,b\nc\n", keepingNewlines: true) == "a,b\nc\n")
    }

    @Test func loaderErrorsNameTheFileThatIsWrong() throws {
        guard monaExecutable() != nil else { print("SKIPPED loaderErrorsNameTheFileThatIsWrong: mona not built"); return }
        let dir = TemporaryDirectory()
        try "1 0.5 0.25 0.75\n2 0.1 0.2 0.3\n".write(to: dir.url.appendingPathComponent("Toy_TRAIN.txt"), atomically: true, encoding: .utf8)
        try "1 0.5 0.25 0.75\n2 0.1 oops 0.3\n".write(to: dir.url.appendingPathComponent("Toy_TEST.txt"), atomically: true, encoding: .utf8)
        let out = dir.url.appendingPathComponent("out").path
        let err = try expectRefused(fitArgs(task: dir.url.appendingPathComponent("Toy_TRAIN.txt").path, output: out), ["Toy_TEST.txt"])
        #expect(!err.contains("Toy_TRAIN.txt"))
    }

    @Test func outOfRangeFlagValuesNameTheOption() throws {
        guard monaExecutable() != nil else { print("SKIPPED outOfRangeFlagValuesNameTheOption: mona not built"); return }
        let dir = TemporaryDirectory()
        let task = try wavesTask(in: dir.url)
        let out = dir.url.appendingPathComponent("out").path
        func with(_ flag: String, _ value: String) -> [String] {
            var a = fitArgs(task: task, output: out)
            if let i = a.firstIndex(of: flag) { a[i + 1] = value } else { a += [flag, value] }
            return a
        }
        try expectRefused(with("--epochs", "9223372036854775807"), ["--epochs"])
        try expectRefused(with("--seed", "-1"), ["--seed"])
        try expectRefused(with("--seed", "18446744073709551615"), ["--seed"])
        try expectRefused(with("--max-tokens", "-9223372036854775808"), ["--max-tokens"])
        try expectRefused(with("--lr", "nan"), ["--lr"])
        let negative = try runMona(with("--epochs", "-1"))
        #expect(negative.status == 2 && !negative.err.contains("Missing value"), "\(negative.err)")
        #expect(!FileManager.default.fileExists(atPath: out + "/checkpoints/best"))
    }
}
