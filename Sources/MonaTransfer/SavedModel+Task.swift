import Foundation
import MonaRunKit

extension SavedModel {
    /// The task spec (`data.spec`) saved in the config.yaml of the run that wrote this model — the run directory
    /// `path`, or the run around a `checkpoints/<name>` folder — when the run read its data through a spec (a
    /// spec file, a `data:` section, or a data path `mona fit` inferred one for). Evaluating without `--task` then
    /// reads the data as training did: the same files, options, split and vocabulary. Nil when there is no such
    /// config or it describes another task than the model's.
    public func savedDataSpec(runPath path: URL) throws -> TaskFileSpec? {
        let candidates = [path.appendingPathComponent("config.yaml"),
                          source.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config.yaml")]
        guard let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else { return nil }
        let config: FitConfig
        do {
            config = try FitConfig(pairs: try ConfigFile.load(url))
        } catch {
            throw TransferError.badConfig("\(url.path): \(error)")
        }
        guard let spec = config.data.spec, config.task == self.spec.taskSource else { return nil }
        return spec
    }
}
