import Foundation

/// A column of a suite that runs a registered method with some of its options fixed — one ablation of that
/// method, e.g. `mona-alpha1e-3` = `mona` with `method.alpha: 0.001`.
///
/// The options go into the run's configuration after the task's own, so the saved `config.yaml` (and the
/// record made from it) names the method that ran and shows every override: a record says what it measured
/// without the suite that made it. The column name is only the run directory's and the tables' name.
public struct BenchVariant: Sendable, Equatable, Codable {
    /// The column name (`runs/<task>/<name>/seed<k>`, tables, plots).
    public var name: String
    /// The registered method that runs (`MethodCatalog`).
    public var method: String
    /// `method.<key>` values, as text in the form a saved configuration reads back unchanged.
    public var options: [String: String]
    /// What the variant changes, in words (the ablation table and docs).
    public var summary: String

    public init(_ name: String, method: String, options: [String: String], summary: String) {
        self.name = name
        self.method = method
        self.options = options
        self.summary = summary
    }

    /// The overrides as `key=value`, sorted by key: the "changes" column of the ablation table.
    public var overridesText: String {
        options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    }

    /// The variant's method with its options, decoded by the method: throws for an unknown method, an unknown
    /// key or a bad value, naming `method.<key>` and what is accepted.
    public func validate() throws {
        var config = MethodConfig(name: method)
        config.options = options
        do { _ = try MethodCatalog.make(config) } catch {
            throw TransferError.badConfig("variant \(name): \(error)")
        }
    }
}
