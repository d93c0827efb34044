import MonaFormats

/// Every body family, keyed by the Hugging Face `model_type` values it loads. A new family is one file (a
/// `TransformerBody` class) plus one line in `families`.
public enum BodyRegistry {
    /// The registered families, in the order help texts list them.
    public static var families: [any TransformerBody.Type] {
        [BertBody.self, Dinov2Body.self]
    }

    /// Every `model_type` some family loads.
    public static var modelTypes: [String] { families.flatMap { $0.modelTypes } }

    /// The family that loads `modelType` (a `config.json`'s `model_type`, or a saved model's `bodyFamily`).
    public static func family(modelType: String) -> (any TransformerBody.Type)? {
        families.first { $0.modelTypes.contains(modelType) }
    }
}
