import Foundation
import MonaRunKit
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// Every option and argument of every `mona` subcommand, read from ArgumentParser's own description of the
/// command tree (`mona --experimental-dump-help`), and every configuration key, read from the configuration
/// types by reflection, is given each hostile value class through the built executable. A value must be refused
/// with exit status 2 and one line on standard error naming the flag or key, unless it is listed below as a
/// valid value of that option (and then it must work). New flags, subcommands and keys are covered without
/// editing this file; a new subcommand only needs a base invocation in `bases`.
@Suite(.serialized) struct GeneratedOptionTests {
    /// The hostile value classes.
    static let hostile: [(name: String, value: String)] = [
        ("zero", "0"), ("minus-one", "-1"), ("fraction", "2.7"), ("huge", "1e308"), ("inf", "inf"), ("-inf", "-inf"),
        ("nan", "nan"), ("empty", ""), ("10kB", String(repeating: "x", count: 10_000)), ("unicode", "ünïcødé-名前-🙂"),
        ("control", "a\u{1B}[31mb\u{07}c\td"),
    ]

    /// Values that are valid for an option (command path + flag, or `--set key`), by class name. Everything not
    /// listed must be refused.
    static let accepted: [String: Set<String>] = {
        // A folder or file name: any non-empty name the file system takes.
        let names: Set<String> = ["zero", "minus-one", "fraction", "huge", "inf", "-inf", "nan", "unicode"]
        return [
            "fit --seed": ["zero"], "align --seed": ["zero"], "generate --seed": ["zero"], "analyze gap --seed": ["zero"],
            "bench --seeds": ["zero"],
            "fit --output": names, "align --output": names, "predict --output": names, "bench --output": names,
            "evaluate --predictions": names,
            // Seconds between resume checkpoints: 0 (every step) and any finite non-negative number.
            // `--set` values are typed like YAML scalars: 0 or 2.7 are numbers, not the text an output needs.
            "fit --set seed": ["zero"], "fit --set output": ["inf", "-inf", "nan", "unicode"],
            // 0: no source-knowledge measurement; run index 0: the suite's first cell.
            "bench --analysis-every": ["zero"], "bench --run-index": ["zero"], "align --lr": ["fraction"],
            // ≤ 0 means no clipping; 0 disables the warm-up, periodic checkpoints, validation or weight decay;
            // momentum and Adam's betas may be 0.
            // Positive real hyperparameters take 2.7 (large, but a value the optimizer can use).
            "fit --set training.clipNorm": ["zero", "minus-one", "fraction"], "fit --set training.warmupSteps": ["zero"],
            "fit --set training.warmupFraction": ["zero"], "fit --set training.checkpointEvery": ["zero"],
            "fit --set training.validationFraction": ["zero"], "fit --set training.weightDecay": ["zero", "fraction"],
            "fit --set training.learningRate": ["fraction"], "fit --set training.epsilon": ["fraction"],
            "fit --set training.gamma": ["fraction"], "fit --lr": ["fraction"], "fit --checkpoint-interval": ["zero", "fraction", "huge"],
            // PDE data: no test samples, a final time of 0 (the initial condition), a standing wave (β = 0).
            "generate --test-samples": ["zero"], "generate --time": ["zero", "fraction"],
            "generate --beta": ["zero", "minus-one", "fraction"], "convert --output": names,
            "fit --set training.momentum": ["zero"], "fit --set training.beta1": ["zero"],
            "fit --set training.beta2": ["zero"],
            // A dropout rate of 0 switches dropout off (what data-parallel exactness needs).
            "fit --set model.dropout": ["zero"],
            // Port 0: any free port.
            "serve --port": ["zero"],
        ]
    }()

    /// A working invocation of each subcommand: its positional arguments by value name, then options. The
    /// option under test replaces the base's value.
    struct Base {
        var positionals: [String: String] = [:]
        var options: [(String, String?)] = []
    }

    /// What the test makes once: a tiny data set, a trained run, an input file.
    final class Setup {
        let dir = TemporaryDirectory()
        let task = ownDataPath("sensors.csv")
        var run = ""
        var input = ""
        var counter = 0

        func fresh(_ name: String) -> String {
            counter += 1
            return dir.url.appendingPathComponent("\(counter)-\(name)").path
        }

        /// A new empty working directory, so that names an earlier invocation created do not exist.
        func freshDirectory() throws -> URL {
            let url = URL(fileURLWithPath: fresh("cwd"), isDirectory: true)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }

        init() throws {
            run = dir.url.appendingPathComponent("trained").path
            let r = try runMona(["fit", "--task", task, "--body", "tiny-bert", "--epochs", "1", "--batch-size", "8",
                                 "--max-tokens", "8", "--quiet", "-o", run])
            try #require(r.status == 0, "base run: \(r.err)")
            input = ownDataPath("arrays/X_test.npy")
        }

        func bases() -> [String: Base] {
            let fit: [(String, String?)] = [("--task", task), ("--body", "tiny-bert"), ("--method", "finetune"),
                                            ("--epochs", "1"), ("--batch-size", "8"), ("--max-tokens", "8"), ("--quiet", nil),
                                            ("--output", fresh("run"))]
            return [
                "fit": Base(options: fit),
                "align": Base(options: fit.map { $0.0 == "--method" ? ("--method", "warmup-only") : $0 }
                    + [("--set", "method.warmupEpochs=1")]),
                "evaluate": Base(positionals: ["path": run]),
                "predict": Base(positionals: ["path": run], options: [("--input", input), ("--output", fresh("pred.csv"))]),
                "inspect": Base(positionals: ["path": run + "/checkpoints/best/model.safetensors"]),
                "data": Base(positionals: ["task": task]),
                "convert": Base(positionals: ["input": ownData.deletingLastPathComponent().appendingPathComponent("fuzz-seeds/onnx/tiny.onnx").path], options: [("--output", fresh("c.safetensors")), ("--layout", "raw")]),
                "bodies": Base(),
                "generate": Base(positionals: ["pde": "advection"],
                                 options: [("--samples", "4"), ("--test-samples", "2"), ("--resolution", "16"), ("--output", fresh("g.npz"))]),
                "analyze gap": Base(options: [("--task", task), ("--body", "tiny-bert"), ("--max-tokens", "8"),
                                              ("--target-samples", "8"), ("--source-per-class", "2")]),
                "bench": Base(options: [("--suite", "micro"), ("--executor", "print"), ("--output", fresh("bench"))]),
                // One cell in this process (with --run-index; --executor print refuses it).
                "bench --run-index": Base(options: [("--suite", "micro"), ("--output", fresh("bench"))]),
                // Serves until stopped: a value is accepted when the server prints its address (see `serves`).
                "serve": Base(positionals: ["directories": dir.url.path], options: [("--port", "0")]),
            ]
        }
    }

    /// Subcommands that run until stopped: their success is reaching the listening line, not exit 0.
    static let serves: Set<String> = ["serve"]

    /// One argument of one subcommand, from the dump.
    struct Argument: CustomStringConvertible {
        var command: [String]
        var kind: String            // positional, option, flag
        var name: String            // long name (options, flags) or value name (positionals)
        var description: String { (command + [kind == "positional" ? "<\(name)>" : "--\(name)"]).joined(separator: " ") }
        var key: String { (command + ["--\(name)"]).joined(separator: " ") }
    }

    /// Every argument of every subcommand, from ArgumentParser's JSON description of the command tree.
    static func commandArguments() throws -> (arguments: [Argument], commands: [[String]]) {
        let r = try runMona(["--experimental-dump-help"])
        let root = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        var arguments: [Argument] = [], commands: [[String]] = []
        func walk(_ node: [String: Any], _ path: [String]) {
            let subcommands = node["subcommands"] as? [[String: Any]] ?? []
            if !path.isEmpty, subcommands.isEmpty { commands.append(path) }
            for a in node["arguments"] as? [[String: Any]] ?? [] {
                let kind = a["kind"] as? String ?? ""
                let names = (a["names"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "long" }
                    .compactMap { $0["name"] as? String }
                let name = kind == "positional" ? (a["valueName"] as? String ?? "") : (names.first ?? "")
                guard !path.isEmpty, !["help", "version"].contains(name) else { continue }
                arguments.append(Argument(command: path, kind: kind, name: name))
            }
            for s in subcommands where s["commandName"] as? String != "help" {
                walk(s, path + [s["commandName"] as? String ?? ""])
            }
        }
        walk(root["command"] as? [String: Any] ?? [:], [])
        return (arguments, commands)
    }

    /// The base invocation with `flag` set to `value` (replacing the base's value) or the positional `name`.
    static func invocation(_ command: [String], _ base: Base, positionals: [String], set name: String? = nil,
                           flag: String? = nil, value: String? = nil) -> [String] {
        var args = command
        for p in positionals { args.append(p == name && flag == nil ? value ?? "" : base.positionals[p] ?? "") }
        var replaced = false
        for (f, v) in base.options {
            if f == flag, f != "--set" { args += [f, value ?? ""]; replaced = true; continue }
            args.append(f)
            if let v { args.append(v) }
        }
        if let flag, !replaced { args += [flag, value ?? ""] }
        return args
    }

    /// Checks one invocation: exit 2 with one line naming `names`, or — when `allowed` — exit 0.
    @discardableResult
    static func check(_ args: [String], names: [String], allowed: Bool, label: String, cwd: URL) throws -> Bool {
        let r = serves.contains(args.first ?? "") ? try runMonaUntilListening(args, in: cwd) : try runMona(args, in: cwd)
        let lines = r.err.split(separator: "\n").filter { !$0.isEmpty }
        if allowed {
            #expect(r.status == 0, "\(label): a valid value was refused (status \(r.status)): \(r.err.prefix(300))")
            return r.status == 0
        }
        let named = names.contains { r.err.contains($0) }
        #expect(r.status == 2 && lines.count == 1 && named,
                "\(label): status \(r.status), \(lines.count) stderr line(s), naming \(names): \(r.err.prefix(400))")
        return r.status == 2 && lines.count == 1 && named
    }

    /// The names an error may use for an option: `--flag`, the flag as ArgumentParser quotes it, or the
    /// configuration key the flag sets (`training.batchSize:`, `body '…'`). An argument is named by its value
    /// (the file or name given, escaped as mona prints it) or by its place.
    static func names(for a: Argument, value: String) -> [String] {
        if a.kind == "positional" {
            return ["<\(a.name)>", "'\(a.name)'", "argument", "empty"] + (value.isEmpty ? [] : [TerminalText.escaped(value)])
        }
        // A file name that the operating system refuses (too long) is named by the path.
        let words = a.name.split(separator: "-")
        let camel = words.enumerated().map { $0 == 0 ? String($1) : $1.prefix(1).uppercased() + $1.dropFirst() }.joined()
        return ["--\(a.name)", "'\(a.name)'", ".\(camel):", "\(camel) '"] + (value.count > 100 ? [String(value.prefix(100))] : [])
    }

    @Test func everyFlagOfEverySubcommandRefusesHostileValues() throws {
        guard monaExecutable() != nil else { print("SKIPPED everyFlagOfEverySubcommandRefusesHostileValues: mona not built"); return }
        let setup = try Setup()
        let (arguments, commands) = try Self.commandArguments()
        #expect(commands.count >= 10 && arguments.count > 50, "dump: \(commands) \(arguments.count)")
        var checked = 0
        for command in commands {
            guard let base = setup.bases()[command.joined(separator: " ")] else {
                Issue.record("no base invocation for `mona \(command.joined(separator: " "))`: add one to GeneratedOptionTests.bases")
                continue
            }
            let own = arguments.filter { $0.command == command }
            let positionals = own.filter { $0.kind == "positional" }.map(\.name)
            // The base itself works (so a refusal below is the value's doing).
            try Self.check(Self.invocation(command, base, positionals: positionals),
                           names: [], allowed: true, label: "base of mona \(command.joined(separator: " "))", cwd: try setup.freshDirectory())
            for a in own {
                // A misspelt flag.
                if a.kind != "positional" {
                    let typo = "--" + String(a.name.dropLast()) + "q"
                    try Self.check(Self.invocation(command, base, positionals: positionals) + [typo], names: [typo],
                                   allowed: false, label: "\(a) misspelt as \(typo)", cwd: try setup.freshDirectory())
                    checked += 1
                }
                guard a.kind != "flag" else { continue }
                for (cls, value) in Self.hostile {
                    let all = setup.bases()
                    let fresh = all[a.key] ?? all[command.joined(separator: " ")] ?? base
                    let args = a.kind == "positional"
                        ? Self.invocation(command, fresh, positionals: positionals, set: a.name, value: value)
                        : Self.invocation(command, fresh, positionals: positionals, flag: "--\(a.name)", value: value)
                    let allowed = Self.accepted[a.key]?.contains(cls) == true
                    try Self.check(args, names: Self.names(for: a, value: value), allowed: allowed, label: "\(a) \(cls)", cwd: try setup.freshDirectory())
                    checked += 1
                }
            }
        }
        #expect(checked > 500)
    }

    // MARK: Configuration keys

    /// Every leaf key of the fit configuration (`training.batchSize`, `seed`, …), found by reflection on the
    /// default configuration and checked against each section's coding keys, so a key added to the types is
    /// tested here without editing this file. `method.*` options have their own test (MethodRegistryTests).
    static func configKeys() -> [String] {
        var keys: [String] = []
        func walk(_ value: Any, _ prefix: String) {
            for child in Mirror(reflecting: value).children {
                // A property whose coding key differs from its name (`protocol` is a Swift keyword).
                guard let label = child.label.map({ $0 == "protocolVersion" ? "protocol" : $0 }) else { continue }
                let key = prefix.isEmpty ? label : prefix + "." + label
                switch child.value {
                case is MethodConfig: keys.append(key + ".name")
                case is ModelConfig, is TrainingConfig, is DataConfig: walk(child.value, key)
                default: keys.append(key)
                }
            }
        }
        walk(FitConfig(), "")
        return keys
    }

    @Test func reflectionFindsEveryCodingKey() {
        let keys = Set(Self.configKeys())
        var coded = FitConfig.CodingKeys.allCases.map(\.rawValue).filter { !["method", "model", "training", "data"].contains($0) }
        coded += ["method.name"]
        coded += ModelConfig.CodingKeys.allCases.map { "model." + $0.rawValue }
        coded += TrainingConfig.CodingKeys.allCases.map { "training." + $0.rawValue }
        coded += DataConfig.CodingKeys.allCases.map { "data." + $0.rawValue }
        #expect(keys == Set(coded), "reflection \(keys.sorted()) vs coding keys \(coded.sorted())")
        #expect(keys.count > 30)
    }

    @Test func everyConfigKeyRefusesHostileValues() throws {
        guard monaExecutable() != nil else { print("SKIPPED everyConfigKeyRefusesHostileValues: mona not built"); return }
        let setup = try Setup()
        var checked = 0
        for key in Self.configKeys() {
            for (cls, value) in Self.hostile {
                let base = setup.bases()["fit"]!
                let args = Self.invocation(["fit"], base, positionals: []) + ["--set", "\(key)=\(value)"]
                let allowed = Self.accepted["fit --set \(key)"]?.contains(cls) == true
                try Self.check(args, names: [key] + (value.count > 100 ? [String(value.prefix(100))] : []), allowed: allowed,
                               label: "--set \(key)=<\(cls)>", cwd: try setup.freshDirectory())
                checked += 1
            }
            // A misspelt key names itself and the keys of its section.
            let typo = String(key.dropLast()) + "q"
            try Self.check(Self.invocation(["fit"], setup.bases()["fit"]!, positionals: []) + ["--set", "\(typo)=1"],
                           names: ["unknown option '\(typo)'"], allowed: false, label: "--set \(typo)", cwd: try setup.freshDirectory())
        }
        #expect(checked > 300)
    }

    /// The same keys and value classes written in a YAML config file (YAML spellings: `.inf`, `.nan`, a quoted
    /// escape), decoded and checked in-process as `mona fit --config` does before anything runs. Keys whose
    /// values are only checked when used (task, body, output and fromAligned: a name or path) are left to the
    /// executable test above.
    @Test func everyConfigKeyInAYAMLFileRefusesHostileValues() throws {
        let checkedLater: Set<String> = ["task", "body", "output", "fromAligned"]
        let yaml: [(name: String, value: String)] = [
            ("zero", "0"), ("minus-one", "-1"), ("fraction", "2.7"), ("huge", "1e308"), ("inf", ".inf"), ("-inf", "-.inf"),
            ("nan", ".nan"), ("empty", "\"\""), ("10kB", String(repeating: "x", count: 10_000)), ("unicode", "ünïcødé-名前-🙂"),
            ("control", "\"a\\e[31mb\\ac\""),
        ]
        var checked = 0
        for key in Self.configKeys() where !checkedLater.contains(key) {
            for (cls, value) in yaml {
                let allowed = Self.accepted["fit --set \(key)"]?.contains(cls) == true
                let text = "task: gunpoint\n\(key): \(value)\n"
                do {
                    let config = try FitConfig(pairs: try ConfigFile.parse(text, source: "config.yaml"))
                    try config.validate()
                    #expect(allowed, "\(key): \(cls) accepted from a config file")
                } catch {
                    let message = "\(error)"
                    #expect(!allowed, "\(key): valid value \(cls) refused: \(message)")
                    #expect(message.contains(key) && !message.contains("\n"), "\(key) = <\(cls)>: \(message.prefix(300))")
                }
                checked += 1
            }
        }
        #expect(checked > 300)
    }
}
