import Foundation

/// One task of a benchmark suite: which body it transfers from and the budget every method gets on it.
///
/// Tasks are referred to by name (`TaskCatalog`); a name the catalog does not know is reported by the runner
/// as "unknown task" for that task's runs, and the rest of the suite still runs.
public struct BenchTask: Sendable, Equatable, Codable {
    /// Known task name (or data path).
    public var name: String
    /// Source body (`BodyCatalog` name).
    public var body: String
    /// Fine-tuning budget: at most this many epochs, stopping early after `patience` epochs without validation
    /// improvement (the same for every method, so the comparison is fair).
    public var epochs: Int
    public var patience: Int?
    /// Token cap of the embedder.
    public var maxTokens: Int
    /// Use only the first N training / test samples (nil: all).
    public var trainLimit: Int?
    public var testLimit: Int?
    public var batchSize: Int
    /// nil: the fit default.
    public var learningRate: Float?
    /// Warm-up epochs of the methods that have a stage 0 (`warmup-only`, MoNA).
    public var warmupEpochs: Int
    /// The stage-0 epochs those methods default to (`MoNAOptions`, `WarmupOnlyMethod.Options`).
    public static let defaultWarmupEpochs = MoNAOptions().warmupEpochs
    /// Method options for every method of this task (`outerSteps`, `orcaSteps`, `sourcePerClass`, …; a method
    /// ignores the options it does not read).
    public var options: [String: String]
    /// The task family (`BenchTask.Family`), which decides the method of the suite's `expert` column.
    public var family: String?
    /// Seeds of this task (nil: the suite's seeds).
    public var seeds: [UInt64]?
    /// Source-knowledge measurements every this many fine-tuning steps on this task (nil: the suite's).
    public var analysisEvery: Int?

    /// Task families and the standard method of each field that the `expert` column runs. The names are method
    /// names of the registry (`MethodCatalog`); a family whose method is not registered in this build reports its
    /// expert runs as failed ("not registered") and the rest of the suite runs.
    public enum Family {
        public static let series = "series", dense = "dense", tokens = "tokens", audio = "audio", image = "image"
        public static let expertMethods: [String: String] = [
            // Names registered in MethodCatalog (Experts/). Image classification (fashion) has no expert yet.
            series: "minirocket", dense: "resnet", tokens: "kmer-logistic", audio: "minirocket",
        ]
    }

    public init(_ name: String, body: String = "minilm-l6", epochs: Int = 20, patience: Int? = 5, maxTokens: Int = 64,
                trainLimit: Int? = nil, testLimit: Int? = nil, batchSize: Int = 16, learningRate: Float? = nil,
                warmupEpochs: Int = BenchTask.defaultWarmupEpochs, options: [String: String] = [:], family: String? = nil,
                seeds: [UInt64]? = nil, analysisEvery: Int? = nil) {
        self.family = family
        self.seeds = seeds
        self.analysisEvery = analysisEvery
        self.name = name
        self.body = body
        self.epochs = epochs
        self.patience = patience
        self.maxTokens = maxTokens
        self.trainLimit = trainLimit
        self.testLimit = testLimit
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.warmupEpochs = warmupEpochs
        self.options = options
    }
}

/// A benchmark: tasks × methods × seeds, each run a `mona fit` run directory.
public struct BenchSuite: Sendable, Equatable, Codable {
    public var name: String
    public var tasks: [BenchTask]
    public var methods: [String]
    public var seeds: [UInt64]
    /// Source-knowledge measurements every this many fine-tuning steps (0: only before/after alignment and
    /// after fine-tuning). The bench always turns the source-knowledge tracker on.
    public var analysisEvery: Int
    /// Columns of `methods` that run a registered method with some options fixed (`BenchVariant`).
    public var variants: [BenchVariant]
    /// The method the paired comparisons are about (nil: `mona` when the suite has it, else the first method).
    public var reference: String?

    public init(name: String, tasks: [BenchTask], methods: [String] = BenchSuite.defaultMethods, seeds: [UInt64] = [0],
                analysisEvery: Int = 0, variants: [BenchVariant] = [], reference: String? = nil) {
        self.name = name
        self.tasks = tasks
        self.methods = methods
        self.seeds = seeds
        self.analysisEvery = analysisEvery
        self.variants = variants
        self.reference = reference
    }

    /// The variant behind column `name`, if it is one.
    public func variant(named name: String) -> BenchVariant? { variants.first { $0.name == name } }

    /// The baselines, ORCA and MoNA — with warm-up only next to MoNA, its indispensable control (is the gain
    /// from knowledge alignment or just from the extra embedder training?).
    public static let defaultMethods = ["scratch", "linear-probe", "fpt", "finetune", "orca", "warmup-only", "mona"]

    /// The method name that stands for "the expert baseline of the task's family" in `methods`.
    public static let expertColumn = "expert"

    /// The method a cell runs: its own name, or for the `expert` column the family's expert method (nil when the
    /// task has no family or the family no expert method).
    public func resolvedMethod(task: BenchTask, method: String) -> String? {
        if let v = variant(named: method) { return v.method }
        guard method == BenchSuite.expertColumn else { return method }
        return task.family.flatMap { BenchTask.Family.expertMethods[$0] }
    }

    /// The seeds of `task`.
    public func seeds(for task: BenchTask) -> [UInt64] { task.seeds ?? seeds }

    /// Whether `name` is a known task or an existing data path.
    public static func taskExists(_ name: String) -> Bool {
        TaskCatalog.allNames.contains(name.lowercased()) || FileManager.default.fileExists(atPath: name)
    }

    /// Built-in suites by name.
    public static func named(_ name: String) -> BenchSuite? {
        switch name.lowercased() {
        case "quick": return quick
        case "full": return full
        case "micro": return micro
        case "demo": return demo
        case "ablations": return ablations
        default: return nil
        }
    }

    public static let builtInNames = ["demo", "quick", "full", "ablations", "micro"]

    /// The README's main job: on GunPoint, MoNA against plain fine-tuning and the field's standard method
    /// (MiniRocket), one seed, the quick token cap — what the project is for, in a few minutes on two cores.
    public static let demo = BenchSuite(name: "demo", tasks: [
        BenchTask("gunpoint", body: "minilm-l6", epochs: 10, patience: 5, maxTokens: 16, warmupEpochs: 3,
                  family: BenchTask.Family.series),
    ], methods: ["finetune", "mona", BenchSuite.expertColumn], seeds: [0])

    /// Three small tasks (two UCR series on MiniLM, Darcy 16×16 on DINOv2) with small budgets, every default
    /// method, one seed: a smoke benchmark that finishes in minutes on two cores.
    public static let quick: BenchSuite = {
        let small = ["outerSteps": "8", "orcaSteps": "8", "sourcePerClass": "8", "analysisPerClass": "8",
                     "sourceBatchSize": "20", "orcaBatchSize": "32"]
        return BenchSuite(name: "quick", tasks: [
            BenchTask("gunpoint", epochs: 4, patience: 2, maxTokens: 10, trainLimit: 40, testLimit: 60, warmupEpochs: 1,
                      options: small),
            BenchTask("italypowerdemand", epochs: 4, patience: 2, maxTokens: 8, trainLimit: 40, testLimit: 100,
                      warmupEpochs: 1, options: small),
            BenchTask("darcy16", body: "dinov2-s14", epochs: 4, patience: 2, maxTokens: 16, trainLimit: 24, testLimit: 16,
                      batchSize: 8, learningRate: 1e-3, warmupEpochs: 1, options: small),
        ], seeds: [0])
    }()

    /// The paper-style suite: every target modality; every method of `fullMethods`, with the expert baseline
    /// of each task's family; 5 seeds on tasks with at most 500 training samples (after the limit), 3 on the
    /// others. The vision-body tasks use a 4×4 patch grid (16 tokens) and a few hundred samples; peptides, rrna16s
    /// and Burgers 600 training samples. Tasks with ≥ 270 training samples get half the small tasks' epoch cap
    /// (they take 8–40 optimizer steps per epoch, against 2–4 on the small UCR sets), rrna16s and PigCVP 64
    /// tokens: together this halves the suite's CPU time at the caps (docs/bench.md) so that it fits a night.
    public static let full: BenchSuite = {
        let text = "minilm-l6", image = "dinov2-s14"
        let series = BenchTask.Family.series, dense = BenchTask.Family.dense, tokens = BenchTask.Family.tokens
        // Training samples after the limit decide the seed count.
        func seeds(_ trainingSamples: Int) -> [UInt64] { trainingSamples <= 500 ? [0, 1, 2, 3, 4] : [0, 1, 2] }
        // A source-knowledge probe costs about five fine-tuning steps (measured): every 50 steps, but at most four
        // during fine-tuning at the epoch cap, so that probes stay a bounded share on the large tasks.
        func every(_ trainingSamples: Int, batch: Int = 16, epochs: Int = 20) -> Int {
            let steps = (trainingSamples * 4 / 5 + batch - 1) / batch * epochs
            return max(50, (steps + 3) / 4)
        }
        return BenchSuite(name: "full", tasks: [
            BenchTask("gunpoint", body: text, maxTokens: 64, family: series, seeds: seeds(50)),
            BenchTask("arrowhead", body: text, maxTokens: 64, family: series, seeds: seeds(36)),
            BenchTask("italypowerdemand", body: text, maxTokens: 24, family: series, seeds: seeds(67)),
            BenchTask("basicmotions", body: text, maxTokens: 64, family: series, seeds: seeds(40)),
            BenchTask("japanesevowels", body: text, epochs: 10, maxTokens: 32,
                      family: series, seeds: seeds(270), analysisEvery: every(270, epochs: 10)),
            BenchTask("pigcvp", body: text, epochs: 10, maxTokens: 64, family: series, seeds: seeds(104)),
            BenchTask("peptides", body: text, epochs: 10, maxTokens: 64, trainLimit: 600,
                      family: tokens, seeds: seeds(600), analysisEvery: every(600, epochs: 10)),
            BenchTask("rrna16s", body: text, epochs: 10, maxTokens: 64, trainLimit: 600,
                      family: tokens, seeds: seeds(600), analysisEvery: every(600, epochs: 10)),
            BenchTask("spokenwords", body: text, epochs: 10, maxTokens: 64,
                      family: BenchTask.Family.audio, seeds: seeds(270), analysisEvery: every(270, epochs: 10)),
            BenchTask("burgers", body: text, epochs: 10, maxTokens: 64, trainLimit: 600,
                      family: dense, seeds: seeds(600), analysisEvery: every(600, epochs: 10)),
            BenchTask("advection", body: text, epochs: 10, maxTokens: 64,
                      family: dense, seeds: seeds(512), analysisEvery: every(512, epochs: 10)),
            BenchTask("diffreact", body: text, epochs: 10, maxTokens: 64,
                      family: dense, seeds: seeds(512), analysisEvery: every(512, epochs: 10)),
            BenchTask("diffsorp", body: text, epochs: 10, maxTokens: 64,
                      family: dense, seeds: seeds(512), analysisEvery: every(512, epochs: 10)),
            BenchTask("darcy16", body: image, epochs: 10, maxTokens: 16, trainLimit: 200, testLimit: 200, batchSize: 8,
                      learningRate: 1e-3, family: dense, seeds: seeds(200)),
            BenchTask("darcygen", body: image, epochs: 10, maxTokens: 16, trainLimit: 200, testLimit: 128, batchSize: 8,
                      learningRate: 1e-3, family: dense, seeds: seeds(200)),
            BenchTask("fashion", body: image, epochs: 5, maxTokens: 16, trainLimit: 500, testLimit: 500,
                      family: BenchTask.Family.image, seeds: seeds(500), analysisEvery: every(500, epochs: 5)),
        ], methods: BenchSuite.fullMethods, seeds: [0, 1, 2, 3, 4], analysisEvery: 50)
    }()

    /// The full suite's methods: the default ones, the `no-body` control (embedder and head without the
    /// transformer layers) and the expert baseline of each task's family.
    public static let fullMethods = BenchSuite.defaultMethods + ["no-body", BenchSuite.expertColumn]

    /// Two UCR tasks on the built-in random `tiny-bert` body with a handful of samples and one epoch: seconds,
    /// for tests and for trying the machinery.
    public static let micro: BenchSuite = {
        let small = ["outerSteps": "2", "orcaSteps": "2", "sourcePerClass": "4", "analysisPerClass": "4",
                     "sourceBatchSize": "8", "orcaBatchSize": "8"]
        return BenchSuite(name: "micro", tasks: [
            BenchTask("gunpoint", body: "tiny-bert", epochs: 1, patience: 1, maxTokens: 8, trainLimit: 12, testLimit: 10,
                      batchSize: 4, warmupEpochs: 1, options: small),
            BenchTask("italypowerdemand", body: "tiny-bert", epochs: 1, patience: 1, maxTokens: 6, trainLimit: 12,
                      testLimit: 10, batchSize: 4, warmupEpochs: 1, options: small),
        ], methods: ["finetune", "linear-probe"], seeds: [0, 1], analysisEvery: 2)
    }()

    /// The fit configuration of one run (the `expert` column runs the family's expert method).
    public func config(task: BenchTask, method: String, seed: UInt64) -> FitConfig {
        var c = FitConfig(task: task.name, body: task.body, method: resolvedMethod(task: task, method: method) ?? method,
                          seed: seed)
        c.training.epochs = task.epochs
        c.training.patience = task.patience
        c.training.batchSize = task.batchSize
        if let lr = task.learningRate { c.training.learningRate = lr }
        c.model.maxTokens = task.maxTokens
        c.data.trainLimit = task.trainLimit
        c.data.testLimit = task.testLimit
        c.method.options = task.options
        // Written only where it differs from the methods' own default, so that the configurations (and record
        // hashes) of tasks at the default stay as they were.
        if task.warmupEpochs != BenchTask.defaultWarmupEpochs { c.method.warmupEpochs = task.warmupEpochs }
        // Source-knowledge reuse is part of every bench result.
        c.method.options["analysis"] = "true"
        c.method.options["analysisEvery"] = String(task.analysisEvery ?? analysisEvery)
        // One option list serves every method of the suite; each method keeps the keys it has.
        c.method = c.method.keepingKnownOptions()
        // A variant's own options come last and are never filtered: they are what the column is about, so a key
        // the method does not have is an error of that run, not silently dropped.
        if let v = variant(named: method) { c.method.options.merge(v.options) { _, mine in mine } }
        return c
    }

    /// Every run, task-major then method then seed.
    public var runs: [BenchRun] {
        tasks.flatMap { t in methods.flatMap { m in seeds(for: t).map { s in BenchRun(task: t, method: m, seed: s) } } }
    }
}

/// One (task, method, seed) cell of a suite.
public struct BenchRun: Sendable, Equatable {
    public var task: BenchTask
    public var method: String
    public var seed: UInt64

    /// `runs/<task>/<method>/seed<k>` under the bench output.
    public var relativePath: String { "runs/\(BenchRun.pathComponent(task.name))/\(method)/seed\(seed)" }
    public var label: String { "\(task.name)/\(method)/seed\(seed)" }

    /// A task name usable as one path component (data paths are flattened).
    public static func pathComponent(_ name: String) -> String {
        String(name.map { $0 == "/" || $0 == "\\" || $0 == ":" ? "_" : $0 })
    }
}
