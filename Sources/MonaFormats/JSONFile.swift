import MonaJSON

extension JSONValue {
    /// Parses a JSON file's bytes, reporting failures as a `FormatError` naming `file` and the byte offset.
    public static func parse(_ bytes: some Collection<UInt8>, file: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw FormatError(file: file, error)
        }
    }
}

extension FormatError {
    /// A JSON parse failure in `file`, with its byte offset.
    init(file: String, _ error: JSONParseError) {
        self.init(file: file, "malformed JSON at byte \(error.offset): \(error.message)")
    }
}
