import Foundation

/// The batch script of one submission: a job array whose task i runs the suite cell on line i + 1 of the
/// submission's cell list through `mona bench … --run-index`, then leaves its exit status and seconds in
/// `<slurm folder>/exit/<job>_<task>` (a task that is cancelled, preempted or killed leaves none).
public struct SlurmJobScript: Sendable {
    public var settings: SlurmSettings
    /// The `mona` executable (on the shared filesystem).
    public var executable: URL
    /// `mona bench` arguments that define the suite (tasks, methods, seeds, budgets), without executor options.
    public var benchArguments: [String]
    public var output: URL
    public var assets: URL
    /// `<output>/slurm`.
    public var folder: URL
    /// The submission's cell list (`<suite index>\t<label>` per line).
    public var cellsFile: URL
    public var taskCount: Int

    public init(settings: SlurmSettings, executable: URL, benchArguments: [String], output: URL, assets: URL,
                folder: URL, cellsFile: URL, taskCount: Int) {
        self.settings = settings
        self.executable = executable
        self.benchArguments = benchArguments
        self.output = output
        self.assets = assets
        self.folder = folder
        self.cellsFile = cellsFile
        self.taskCount = taskCount
    }

    /// `0-N` or `0-N%K`.
    public var arraySpec: String {
        "0-\(max(taskCount - 1, 0))" + (settings.maxParallel.map { "%\($0)" } ?? "")
    }

    public var text: String {
        let q = BenchRunner.shellQuoted
        var lines = ["#!/bin/bash",
                     "#SBATCH --job-name=\(settings.jobName)",
                     "#SBATCH --array=\(arraySpec)",
                     "#SBATCH --ntasks=1",
                     "#SBATCH --cpus-per-task=\(settings.cpusPerTask)",
                     "#SBATCH --output=\(folder.appendingPathComponent("logs").path)/%A_%a.log"]
        if let p = settings.partition { lines.append("#SBATCH --partition=\(p)") }
        if let t = settings.timeLimit { lines.append("#SBATCH --time=\(t)") }
        if let m = settings.memory { lines.append("#SBATCH --mem=\(m)") }
        if let a = settings.account { lines.append("#SBATCH --account=\(a)") }
        lines += settings.extraOptions.map { "#SBATCH \($0)" }
        let exitFolder = folder.appendingPathComponent("exit").path
        let command = ([executable.path, "bench"] + benchArguments
                       + ["--run-index", "\"$cell\"", "--output", output.path, "--quiet"])
            .map { $0 == "\"$cell\"" ? $0 : q($0) }.joined(separator: " ")
        lines += [
            "# Written by `mona bench --executor slurm`: array task i runs the suite cell on line i+1 of the cell list.",
            "cell=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \(q(cellsFile.path)) | cut -f1)",
            "if [ -z \"$cell\" ]; then echo \"no cell for array task $SLURM_ARRAY_TASK_ID\" >&2; exit 2; fi",
            "echo \"array task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}: cell $cell on $(hostname)\"",
            "export MONA_THREADS=\(settings.cpusPerTask)",
            "export MONA_ASSETS=\(q(assets.path))",
            command,
            "status=$?",
            "done_file=\(q(exitFolder))/${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}",
            "printf '%s %s\\n' \"$status\" \"$SECONDS\" > \"$done_file.tmp\" && mv \"$done_file.tmp\" \"$done_file\"",
            "exit $status",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
