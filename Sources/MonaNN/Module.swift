import MonaTensor

/// A trainable tensor owned by a module. Declared as `@Parameter var weight: Tensor`; the module tree finds it by
/// reflection and names it after the property (or after the module's `childKeys` override).
///
/// The box is a class so that optimizers, checkpoint loading and functional calls can replace the value in place.
@propertyWrapper
public final class Parameter: @unchecked Sendable {
    /// The current tensor. A trainable parameter's tensor is a graph leaf that requires gradients; a frozen one's
    /// does not, so no graph is built through frozen weights.
    public var value: Tensor
    /// Frozen parameters keep their value during training and get no gradient.
    public var isTrainable: Bool {
        didSet { if value.gradOp == nil { value = value.detached().requiringGradient(isTrainable) } }
    }

    public init(wrappedValue: Tensor, trainable: Bool = true) {
        value = wrappedValue.detached().requiringGradient(trainable)
        isTrainable = trainable
    }

    /// Replaces the value with new data (a leaf; keeps trainability).
    public func assign(_ tensor: Tensor) {
        value = tensor.detached().requiringGradient(isTrainable)
    }

    public var wrappedValue: Tensor {
        get { value }
        set { assign(newValue) }
    }
}

/// Base class of every layer and model.
///
/// Parameters and submodules are discovered with `Mirror` over stored properties: `@Parameter` tensors,
/// `Module`s, optional modules and arrays of modules (named `0`, `1`, …). Dotted names follow Hugging Face
/// naming (`encoder.layer.3.attention.self.query.weight`); a subclass maps Swift property names to checkpoint
/// keys with `childKeys` (e.g. `selfAttention` → `self`).
open class Module {
    /// Training mode (dropout active) or evaluation mode.
    public private(set) var isTraining = true

    public init() {}

    /// Swift property name → key used in parameter names (only for names that differ).
    open class var childKeys: [String: String] { [:] }

    /// Swift property names of the parameters (or child modules) that hold position or CLS embeddings. They are
    /// tables of rank ≥ 2 that weight decay must still leave alone, so `ParameterGroup.decayGroups` exempts them
    /// by this declaration rather than by their names.
    open class var positionalParameters: [String] { [] }

    // MARK: Reflection

    /// Direct children: (key, parameter) and (key, module), in declaration order.
    public func children() -> (parameters: [(String, Parameter)], modules: [(String, Module)]) {
        var params: [(String, Parameter)] = []
        var modules: [(String, Module)] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [Mirror] = []
        while let m = mirror { levels.append(m); mirror = m.superclassMirror }
        let keys = type(of: self).childKeys
        for m in levels.reversed() {
            for child in m.children {
                guard var label = child.label else { continue }
                if label.hasPrefix("_") { label.removeFirst() }   // property-wrapper storage `_weight`
                if label == "isTraining" { continue }
                let key = keys[label] ?? label
                collect(child.value, key: key, params: &params, modules: &modules)
            }
        }
        return (params, modules)
    }

    private func collect(_ value: Any, key: String, params: inout [(String, Parameter)], modules: inout [(String, Module)]) {
        if let p = value as? Parameter { params.append((key, p)); return }
        if let m = value as? Module { modules.append((key, m)); return }
        if let list = value as? [Module] {
            for (i, m) in list.enumerated() { modules.append(("\(key).\(i)", m)) }
            return
        }
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional, let wrapped = mirror.children.first?.value {
            collect(wrapped, key: key, params: &params, modules: &modules)
        }
    }

    /// Every parameter with its dotted name, depth-first in declaration order.
    public func namedParameters() -> [(name: String, parameter: Parameter)] {
        var out: [(String, Parameter)] = []
        visit(prefix: "") { prefix, module in
            for (k, p) in module.children().parameters { out.append((prefix + k, p)) }
        }
        return out
    }

    /// Every module with its dotted name ("" for self).
    public func namedModules() -> [(name: String, module: Module)] {
        var out: [(String, Module)] = []
        visit(prefix: "") { prefix, module in out.append((prefix.isEmpty ? "" : String(prefix.dropLast()), module)) }
        return out
    }

    private func visit(prefix: String, _ body: (String, Module) -> Void) {
        body(prefix, self)
        for (k, m) in children().modules { m.visit(prefix: prefix + k + ".", body) }
    }

    /// Trainable parameters only.
    public func trainableParameters() -> [(name: String, parameter: Parameter)] {
        namedParameters().filter { $0.parameter.isTrainable }
    }

    /// Parameter count (all, or trainable only).
    public func parameterCount(trainableOnly: Bool = false) -> Int {
        namedParameters().filter { !trainableOnly || $0.parameter.isTrainable }.reduce(0) { $0 + $1.parameter.value.count }
    }

    // MARK: Modes and freezing

    /// Sets training / evaluation mode on the whole tree.
    public func train(_ on: Bool = true) {
        for (_, m) in namedModules() { m.isTraining = on }
    }

    public func eval() { train(false) }

    /// Freezes (or unfreezes) parameters whose name matches any glob pattern (`*` matches any run of characters,
    /// so `encoder.layer.*.attention.*` or `*LayerNorm*`). Returns how many parameters changed state.
    @discardableResult
    public func setTrainable(_ trainable: Bool, matching patterns: [String]) -> Int {
        var n = 0
        for (name, p) in namedParameters() where patterns.contains(where: { globMatch($0, name) }) {
            if p.isTrainable != trainable { n += 1 }
            p.isTrainable = trainable
        }
        return n
    }

    public func freeze(matching patterns: [String] = ["*"]) { setTrainable(false, matching: patterns) }
    public func unfreeze(matching patterns: [String] = ["*"]) { setTrainable(true, matching: patterns) }

    // MARK: Functional calls

    /// Runs `body` with some parameters replaced by other tensors (e.g. θ' = θ − α∇θ in MoNA's inner loop),
    /// then restores the originals. The module is unchanged afterwards; graphs built inside refer to the
    /// substituted tensors, so gradients flow into whatever produced them.
    ///
    /// Not thread-safe: do not run other code on the same module concurrently.
    public func withParameters<R>(_ substitutes: [String: Tensor], _ body: () throws -> R) rethrows -> R {
        let params = Dictionary(namedParameters().map { ($0.name, $0.parameter) }, uniquingKeysWith: { a, _ in a })
        var saved: [(Parameter, Tensor)] = []
        for (name, t) in substitutes {
            guard let p = params[name] else { preconditionFailure("withParameters: no parameter named \(name)") }
            precondition(p.value.shape == t.shape,
                         "withParameters: \(name) has shape \(p.value.shape), substitute has \(t.shape)")
            saved.append((p, p.value))
            p.value = t
        }
        defer { for (p, v) in saved { p.value = v } }
        return try body()
    }

    // MARK: State

    /// name → tensor for every parameter.
    public func stateDict() -> [String: Tensor] {
        Dictionary(namedParameters().map { ($0.name, $0.parameter.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Loads tensors by name. With `strict`, any missing, unexpected or wrongly-shaped tensor is an error that
    /// lists every offender; without it, matching tensors load and the report says what did not.
    @discardableResult
    public func load(stateDict: [String: Tensor], strict: Bool = true, source: String = "state dict") throws -> LoadReport {
        let params = namedParameters()
        var report = LoadReport()
        let own = Set(params.map(\.name))
        report.unexpected = stateDict.keys.filter { !own.contains($0) }.sorted()
        for (name, p) in params {
            guard let t = stateDict[name] else { report.missing.append(name); continue }
            if t.shape != p.value.shape {
                report.mismatched.append("\(name): expected \(p.value.shape), found \(t.shape)")
            }
        }
        if strict && !report.isClean { throw LoadError(source: source, report: report) }
        for (name, p) in params {
            if let t = stateDict[name], t.shape == p.value.shape { p.assign(t); report.loaded += 1 }
        }
        return report
    }
}

/// What `load(stateDict:)` matched.
public struct LoadReport: Sendable, CustomStringConvertible {
    public var loaded = 0
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var mismatched: [String] = []
    public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }
    public var description: String {
        var lines = ["loaded \(loaded) tensors"]
        if !missing.isEmpty { lines.append("missing (\(missing.count)): " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { lines.append("unexpected (\(unexpected.count)): " + unexpected.joined(separator: ", ")) }
        if !mismatched.isEmpty { lines.append("wrong shape (\(mismatched.count)): " + mismatched.joined(separator: "; ")) }
        return lines.joined(separator: "\n")
    }
}

public struct LoadError: Error, CustomStringConvertible {
    public let source: String
    public let report: LoadReport
    public var description: String { "\(source): state dict does not match the model\n\(report)" }
}

/// Glob match with `*` (any run, including dots) and `?` (one character).
public func globMatch(_ pattern: String, _ text: String) -> Bool {
    let p = Array(pattern.utf8), t = Array(text.utf8)
    var pi = 0, ti = 0, star = -1, mark = 0
    while ti < t.count {
        if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == t[ti]) { pi += 1; ti += 1 }
        else if pi < p.count && p[pi] == UInt8(ascii: "*") { star = pi; mark = ti; pi += 1 }
        else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
        else { return false }
    }
    while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
    return pi == p.count
}
