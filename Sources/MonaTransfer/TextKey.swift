/// A coding key that is any text (no integer form): for mappings whose keys are data, not a fixed set — method
/// options, unknown-key checks, the section prefix of option paths.
struct TextKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
