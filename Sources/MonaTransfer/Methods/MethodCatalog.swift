import Foundation

/// The `method:` section of a configuration as written: the method's name and its options as text
/// (`method.<key>: value`). The method's own typed options are decoded from it by `MethodCatalog.make`,
/// which rejects unknown keys and bad values.
public struct MethodConfig: Sendable, Equatable {
    /// Method name (see `MethodCatalog.names`). Default `finetune`.
    public var name = "finetune"
    /// The options as given (`method.lambda: 0.5` → `["lambda": "0.5"]`).
    public var options: [String: String] = [:]

    public init(name: String = "finetune") { self.name = name }

    /// `method.warmupEpochs` (methods with a stage 0: `warmup-only`, MoNA).
    public var warmupEpochs: Int? {
        get { options["warmupEpochs"].flatMap { Int($0) } }
        set { options["warmupEpochs"] = newValue.map(String.init) }
    }

    /// The same configuration keeping only the options `name` accepts (a suite that sets one option list for
    /// every method uses it; a user's configuration is never filtered, its unknown keys are errors).
    public func keepingKnownOptions() -> MethodConfig {
        guard let entry = MethodCatalog.entry(name) else { return self }
        let known = Set(entry.optionKeys.map(\.key))
        var c = self
        c.options = options.filter { known.contains($0.key) }
        return c
    }
}

/// A resolved method: registry name and summary, and the plug-in built from the options.
public struct MethodSpec {
    public let name: String
    public let summary: String
    public let plugin: any TransferMethod

    public var stages: [AlignmentStage] { plugin.stages }
    public var trainability: Trainability { plugin.trainability }
    public var body: BodyStart { plugin.body }
    /// false: the body is re-initialised at random (`scratch`).
    public var pretrainedBody: Bool { plugin.body != .random }
    public var report: MethodReport? { plugin.report }

    /// The analysis settings with the method's default applied; nil when the analysis is off.
    public var analysis: AnalysisOptions? {
        guard let a = plugin.analysis, a.enabled ?? plugin.analysisByDefault else { return nil }
        return a
    }

    /// The same settings with the analysis on (what `mona align` and the bench use unless told otherwise).
    public var analysisForcedOn: AnalysisOptions? {
        guard let a = plugin.analysis, a.enabled ?? true else { return nil }
        return a
    }
}

/// One registry entry: a method type under a name, optionally with preset options (an ablation).
public struct MethodEntry: Sendable {
    public let name: String
    public let summary: String
    /// Options fixed by this entry (text form), e.g. `["distance": "mmd"]` for `orca-mmd`.
    public let preset: [String: String]
    /// The method's options with their types (without the preset's), in declaration order.
    public var optionKeys: [OptionKey] { keys().filter { preset[$0.key] == nil } }

    let keys: @Sendable () -> [OptionKey]
    let build: @Sendable (_ options: [String: String]) throws -> any TransferMethod

    /// The entry for method type `M` under `name` (`M.summary` unless `summary` is given), with `preset`
    /// options fixed.
    public static func create<M: TransferMethod>(_ name: String, _ type: M.Type, summary: String? = nil,
                                                 preset: [String: String] = [:]) -> MethodEntry {
        MethodEntry(
            name: name, summary: summary ?? M.summary, preset: preset,
            keys: {
                let d = MethodOptionsDecoder(values: [:])
                _ = try? M.Options(from: d)
                return d.requested
            },
            build: { options in
                for (k, v) in preset.sorted(by: { $0.key < $1.key }) where options[k] != nil {
                    throw TransferError.badConfig("method.\(k): fixed to \(v) by method \(name); remove it, or use the "
                                                  + "method without the preset")
                }
                let d = MethodOptionsDecoder(values: options.merging(preset) { a, _ in a })
                return M(options: try d.decode(M.Options.self, method: name))
            })
    }
}

/// Every method by name: the one registry that `mona fit`, `mona align`, `mona bench`, the help text and the
/// docs tables read. `register` adds methods from outside the library.
public enum MethodCatalog {
    /// The built-in methods, in the order help and tables list them.
    static let builtIn: [MethodEntry] = [
        .create("finetune", BaselineMethod<FineTuneBaseline>.self),
        .create("scratch", BaselineMethod<ScratchBaseline>.self),
        .create("linear-probe", BaselineMethod<LinearProbeBaseline>.self),
        .create("fpt", BaselineMethod<FPTBaseline>.self),
        .create("warmup-only", WarmupOnlyMethod.self),
        .create("mona", MoNAMethod.self),
        .create("mona-fd", MoNAMethod.self, summary: "MoNA with the finite-difference (DARTS-style) meta-gradient",
                preset: ["metaGradient": MetaGradientChoice.finiteDifference.rawValue]),
        .create("mona-no-warmup", MoNAMethod.self, summary: "MoNA without the warm-up stage", preset: ["warmupEpochs": "0"]),
        .create("mona-lambda0", MoNAMethod.self,
                summary: "MoNA with λ = 0 (stage 1 on the target loss only: a longer warm-up)", preset: ["lambda": "0"]),
        .create("orca", ORCAMethod.self),
        .create("orca-mmd", ORCAMethod.self, summary: "ORCA with MMD instead of OTDD",
                preset: ["distance": ORCAOptions.Distance.mmd.rawValue]),
        .create("no-body", NoBodyMethod.self),
        .create("expert", ExpertMethod.self),
        .create("minirocket", MiniRocketMethod.self),
        .create("kmer-logistic", KmerLogisticMethod.self),
        .create("resnet", ResidualConvNetMethod.self),
    ]

    private final class Registry: @unchecked Sendable {
        let lock = NSLock()
        var entries = MethodCatalog.builtIn
    }

    private static let registry = Registry()

    /// Adds (or replaces) a method.
    public static func register(_ entry: MethodEntry) {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        registry.entries.removeAll { $0.name == entry.name }
        registry.entries.append(entry)
    }

    /// Every entry, in registration order.
    public static var entries: [MethodEntry] {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        return registry.entries
    }

    /// Method names with summaries, in registration order.
    public static var names: [(name: String, summary: String)] { entries.map { ($0.name, $0.summary) } }

    /// The entry called `name` (case-insensitive).
    public static func entry(_ name: String) -> MethodEntry? {
        entries.first { $0.name == name.lowercased() }
    }

    /// The method `config.name` with its options decoded (unknown keys and bad values are errors naming
    /// `method.<key>` and what is accepted).
    public static func make(_ config: MethodConfig) throws -> MethodSpec {
        guard let entry = entry(config.name) else {
            let known = entries.map(\.name).joined(separator: ", ")
            throw TransferError.badConfig("method.name: unknown method '\(config.name)'; known methods: \(known)")
        }
        return MethodSpec(name: entry.name, summary: entry.summary, plugin: try entry.build(config.options))
    }

    /// A Markdown table of the methods (name, what it does, options), for docs/transfer.md.
    public static func markdownTable() -> String {
        var s = "| method | what it does | options (`method.<key>`) |\n|---|---|---|\n"
        for e in entries {
            var options = e.optionKeys.map { "`\($0.key)`" }.joined(separator: ", ")
            if !e.preset.isEmpty {
                options = "preset " + e.preset.sorted { $0.key < $1.key }.map { "`\($0.key)=\($0.value)`" }.joined(separator: ", ")
                    + (options.isEmpty ? "" : "; " + options)
            }
            s += "| `\(e.name)` | \(e.summary) | \(options.isEmpty ? "none" : options) |\n"
        }
        return s
    }

    /// One line per method for `--help` ("name — summary").
    public static var helpText: String {
        entries.map { "\($0.name) — \($0.summary)" }.joined(separator: "\n")
    }
}
