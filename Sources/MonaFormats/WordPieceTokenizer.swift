import Foundation

/// BERT's uncased WordPiece tokenizer (the `BertTokenizer` of Hugging Face with `do_lower_case`, Chinese-character
/// splitting and accent stripping), reading a `vocab.txt` with one token per line (line number = id).
///
/// Text goes through: clean-up (drop NUL, U+FFFD and control characters, map whitespace to spaces) → spaces around
/// CJK ideographs → whitespace split → lowercase and accent stripping (NFD, drop non-spacing marks) → split off
/// punctuation (ASCII symbol ranges and Unicode P*) → greedy longest-match-first WordPiece with `##` continuations;
/// a word longer than `maxCharactersPerWord` characters, or one that cannot be covered by vocabulary pieces,
/// becomes `[UNK]`.
public struct WordPieceTokenizer: Sendable {
    /// Words longer than this (in Unicode scalars) map to `[UNK]`, as in BERT.
    public static let maxCharactersPerWord = 100

    /// Id → token.
    public let tokens: [String]
    private let ids: [String: Int]

    public let unknownID: Int
    public let classifierID: Int
    public let separatorID: Int
    public let paddingID: Int
    public let maskID: Int?
    /// Special tokens recognised inside text, longest first.
    private let specialTokens: [(String, Int)]

    public var vocabularySize: Int { tokens.count }

    /// Loads `vocab.txt`: one token per line, the line number is its id.
    public init(vocabularyFile url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FormatError(file: url.path, "cannot read the vocabulary: \(error.localizedDescription)")
        }
        // Split bytes, not Characters: Swift treats "\r\n" as one Character.
        var body = data[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }   // UTF-8 byte order mark
        var lines = body.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }   // the final newline does not start a token
        try self.init(vocabulary: lines, file: url.path)
    }

    /// A tokenizer over `vocabulary` (index = id). It must contain `[UNK]`, `[CLS]`, `[SEP]` and `[PAD]`.
    public init(vocabulary: [String], file: String = "<vocabulary>") throws {
        guard !vocabulary.isEmpty else { throw FormatError(file: file, "the vocabulary is empty") }
        var ids: [String: Int] = [:]
        ids.reserveCapacity(vocabulary.count)
        for (i, token) in vocabulary.enumerated() { ids[token] = i }   // later duplicates win, as in BERT's loader
        func special(_ token: String) throws -> Int {
            guard let id = ids[token] else { throw FormatError(file: file, "the vocabulary has no \(token) token") }
            return id
        }
        tokens = vocabulary
        self.ids = ids
        unknownID = try special("[UNK]")
        classifierID = try special("[CLS]")
        separatorID = try special("[SEP]")
        paddingID = try special("[PAD]")
        maskID = ids["[MASK]"]
        specialTokens = ["[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]"].compactMap { t in ids[t].map { (t, $0) } }
            .sorted { $0.0.count > $1.0.count }
    }

    /// The id of `token`, if it is in the vocabulary.
    public func id(of token: String) -> Int? { ids[token] }

    /// The token with id `id`, if any.
    public func token(of id: Int) -> String? { tokens.indices.contains(id) ? tokens[id] : nil }

    // MARK: Tokenizing

    /// WordPiece tokens of `text`, without the `[CLS]`/`[SEP]` that `encode` adds.
    public func tokenize(_ text: String) -> [String] { tokenIDs(text).map { tokens[$0] } }

    /// Token ids of `text`, without the `[CLS]`/`[SEP]` that `encode` adds. Special-token strings written in the
    /// text (`[SEP]`, `[MASK]`, …, exact case) map to their ids, as in Hugging Face's tokenizers.
    public func tokenIDs(_ text: String) -> [Int] {
        var out: [Int] = []
        for segment in splitOnSpecialTokens(text) {
            switch segment {
            case .special(let id): out.append(id)
            case .text(let t): for word in Self.basicTokens(String(t)) { wordPieces(word) { out.append($0) } }
            }
        }
        return out
    }

    private enum Segment { case text(Substring), special(Int) }

    /// Cuts `text` around occurrences of the special tokens present in the vocabulary.
    private func splitOnSpecialTokens(_ text: String) -> [Segment] {
        guard text.contains("[") else { return [.text(text[...])] }
        var segments: [Segment] = []
        let rest = text[...]
        var start = rest.startIndex
        var i = rest.startIndex
        while i < rest.endIndex {
            if rest[i] == "[", let (token, id) = specialTokens.first(where: { rest[i...].hasPrefix($0.0) }) {
                if start < i { segments.append(.text(rest[start..<i])) }
                segments.append(.special(id))
                i = rest.index(i, offsetBy: token.count)
                start = i
            } else {
                i = rest.index(after: i)
            }
        }
        if start < rest.endIndex { segments.append(.text(rest[start...])) }
        return segments
    }

    /// `[CLS] tokens… [SEP]`, truncated to `maxLength` ids (the `[SEP]` is kept) when given.
    public func encode(_ text: String, maxLength: Int? = nil) -> [Int] {
        if let maxLength {
            precondition(maxLength >= 2, "encode: maxLength \(maxLength) leaves no room for [CLS] and [SEP]")
        }
        var body = tokenIDs(text)
        if let maxLength, body.count > maxLength - 2 { body.removeLast(body.count - (maxLength - 2)) }
        return [classifierID] + body + [separatorID]
    }

    /// Tokens for ids (unknown ids become `[UNK]`), `##` pieces glued to the previous token, special tokens kept.
    public func decode(_ ids: [Int]) -> String {
        var words: [String] = []
        for id in ids {
            let t = token(of: id) ?? "[UNK]"
            if t.hasPrefix("##"), !words.isEmpty { words[words.count - 1] += t.dropFirst(2) } else { words.append(t) }
        }
        return words.joined(separator: " ")
    }

    /// Greedy longest-match-first split of one basic token into vocabulary ids.
    private func wordPieces(_ word: String, _ emit: (Int) -> Void) {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count <= Self.maxCharactersPerWord else { emit(unknownID); return }
        var pieces: [Int] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int?
            while start < end {
                var piece = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { piece = "##" + piece }
                if let id = ids[piece] { found = id; break }
                end -= 1
            }
            guard let id = found else { emit(unknownID); return }
            pieces.append(id)
            start = end
        }
        pieces.forEach(emit)
    }

    // MARK: Basic tokenizer

    /// Clean-up, CJK splitting, lowercasing, accent stripping and punctuation splitting.
    static func basicTokens(_ text: String) -> [String] {
        // Clean and space out CJK characters; whitespace becomes a word boundary.
        var cleaned = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.value == 0 || s.value == 0xFFFD || isControl(s) { continue }
            if isWhitespace(s) {
                cleaned.append(" ")
            } else if isCJK(s) {
                cleaned.append(" "); cleaned.append(s); cleaned.append(" ")
            } else {
                cleaned.append(s)
            }
        }
        var out: [String] = []
        for word in String(cleaned).split(separator: " ") {
            // Per-character lowercasing (no Final_Sigma context rule), as Hugging Face's tokenizers do.
            let lowered = word.lowercased().decomposedStringWithCanonicalMapping
            var current = String.UnicodeScalarView()
            for s in lowered.unicodeScalars {
                if s.properties.generalCategory == .nonspacingMark { continue }
                if isPunctuation(s) {
                    if !current.isEmpty { out.append(String(current)); current = String.UnicodeScalarView() }
                    out.append(String(s))
                } else {
                    current.append(s)
                }
            }
            if !current.isEmpty { out.append(String(current)) }
        }
        return out
    }

    /// Space, tab, newline, carriage return, and Unicode space separators (Zs).
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case " ", "\t", "\n", "\r": return true
        default: return s.properties.generalCategory == .spaceSeparator
        }
    }

    /// Other (C*) categories, except tab/newline/return which count as whitespace.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "\t", "\n", "\r": return false
        default:
            switch s.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned: return true
            default: return false
            }
        }
    }

    /// ASCII non-alphanumeric symbols (BERT treats `$`, `^`, `` ` `` … as punctuation) and Unicode P*.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            return true
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// CJK Unified Ideographs blocks (as in BERT; Hangul and kana are not included).
    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}

/// Padded, truncated token ids for a batch of texts, with attention masks.
public struct WordPieceBatch: Sendable, Equatable {
    /// [batch][length] token ids, padded with `[PAD]`.
    public let ids: [[Int]]
    /// [batch][length]: 1 for real tokens, 0 for padding.
    public let attentionMask: [[Int]]
    /// Unpadded length of each sequence (including `[CLS]` and `[SEP]`).
    public let lengths: [Int]
    /// The padded length shared by every row.
    public var length: Int { ids.first?.count ?? 0 }
}

extension WordPieceTokenizer {
    /// How a batch is padded.
    public enum Padding: Sendable, Equatable {
        /// To the longest sequence of the batch.
        case longest
        /// To `maxLength` exactly.
        case maxLength
    }

    /// Encodes each text as `[CLS] … [SEP]`, truncated to `maxLength`, and pads them to a common length.
    public func encodeBatch(_ texts: [String], maxLength: Int = 512, padding: Padding = .longest) -> WordPieceBatch {
        precondition(maxLength >= 2, "encodeBatch: maxLength \(maxLength) leaves no room for [CLS] and [SEP]")
        let encoded = texts.map { encode($0, maxLength: maxLength) }
        let width = padding == .maxLength ? maxLength : (encoded.map(\.count).max() ?? 0)
        let ids = encoded.map { $0 + [Int](repeating: paddingID, count: width - $0.count) }
        let masks = encoded.map { [Int](repeating: 1, count: $0.count) + [Int](repeating: 0, count: width - $0.count) }
        return WordPieceBatch(ids: ids, attentionMask: masks, lengths: encoded.map(\.count))
    }
}
