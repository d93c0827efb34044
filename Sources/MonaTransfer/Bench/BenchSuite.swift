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
    /// Method options for every method of this task (`outerSteps`, `orcaSteps`, `sourcePerClass`, …; a method
    /// ignores the options it does not read).
    public var options: [String: String]

    public init(_ name: String, body: String = "minilm-l6", epochs: Int = 20, patience: Int? = 5, maxTokens: Int = 64,
                trainLimit: Int? = nil, testLimit: Int? = nil, batchSize: Int = 16, learningRate: Float? = nil,
                warmupEpochs: Int = 3, options: [String: String] = [:]) {
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

    public init(name: String, tasks: [BenchTask], methods: [String] = BenchSuite.defaultMethods, seeds: [UInt64] = [0],
                analysisEvery: Int = 0) {
        self.name = name
        self.tasks = tasks
        self.methods = methods
        self.seeds = seeds
        self.analysisEvery = analysisEvery
    }

    /// The baselines, ORCA and MoNA — with warm-up only next to MoNA, its indispensable control (is the gain
    /// from knowledge alignment or just from the extra embedder training?).
    public static let defaultMethods = ["scratch", "linear-probe", "fpt", "finetune", "orca", "warmup-only", "mona"]

    /// Built-in suites by name.
    public static func named(_ name: String) -> BenchSuite? {
        switch name.lowercased() {
        case "quick": return quick
        case "full": return full
        case "micro": return micro
        default: return nil
        }
    }

    public static let builtInNames = ["quick", "full", "micro"]

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

    /// The paper-style suite: every target modality, three seeds, 20 epochs with patience 5 for the 1-D tasks.
    /// The vision-body tasks use a 4×4 patch grid (16 tokens), 10 epochs and a few hundred samples, and the two
    /// large token tasks (peptides, rrna16s) 800 training samples, so that one run stays within minutes on 2 cores.
    public static let full: BenchSuite = {
        let text = "minilm-l6", image = "dinov2-s14"
        return BenchSuite(name: "full", tasks: [
            BenchTask("gunpoint", body: text, maxTokens: 64),
            BenchTask("arrowhead", body: text, maxTokens: 64),
            BenchTask("italypowerdemand", body: text, maxTokens: 24),
            BenchTask("basicmotions", body: text, maxTokens: 64),
            BenchTask("japanesevowels", body: text, maxTokens: 32),
            BenchTask("pigcvp", body: text, maxTokens: 128),
            BenchTask("peptides", body: text, maxTokens: 64, trainLimit: 800),
            BenchTask("rrna16s", body: text, maxTokens: 128, trainLimit: 800),
            BenchTask("spokenwords", body: text, maxTokens: 64),
            BenchTask("burgers", body: text, maxTokens: 64),
            BenchTask("advection", body: text, maxTokens: 64),
            BenchTask("diffreact", body: text, maxTokens: 64),
            BenchTask("diffsorp", body: text, maxTokens: 64),
            BenchTask("darcy16", body: image, epochs: 10, maxTokens: 16, trainLimit: 200, testLimit: 200, batchSize: 8,
                      learningRate: 1e-3),
            BenchTask("darcygen", body: image, epochs: 10, maxTokens: 16, trainLimit: 200, testLimit: 128, batchSize: 8,
                      learningRate: 1e-3),
            BenchTask("fashion", body: image, epochs: 10, maxTokens: 16, trainLimit: 500, testLimit: 500),
        ], seeds: [0, 1, 2], analysisEvery: 50)
    }()

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

    /// The fit configuration of one run.
    public func config(task: BenchTask, method: String, seed: UInt64) -> FitConfig {
        var c = FitConfig(task: task.name, body: task.body, method: method, seed: seed)
        c.training.epochs = task.epochs
        c.training.patience = task.patience
        c.training.batchSize = task.batchSize
        if let lr = task.learningRate { c.training.learningRate = lr }
        c.model.maxTokens = task.maxTokens
        c.data.trainLimit = task.trainLimit
        c.data.testLimit = task.testLimit
        c.method.warmupEpochs = task.warmupEpochs
        c.method.options = task.options
        // Source-knowledge reuse is part of every bench result.
        c.method.options["analysis"] = "true"
        c.method.options["analysisEvery"] = String(analysisEvery)
        // One option list serves every method of the suite; each method keeps the keys it has.
        c.method = c.method.keepingKnownOptions()
        return c
    }

    /// Every run, task-major then method then seed.
    public var runs: [BenchRun] {
        tasks.flatMap { t in methods.flatMap { m in seeds.map { s in BenchRun(task: t, method: m, seed: s) } } }
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
    static func pathComponent(_ name: String) -> String {
        String(name.map { $0 == "/" || $0 == "\\" || $0 == ":" ? "_" : $0 })
    }
}
