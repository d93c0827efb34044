import Foundation
import Testing
@testable import MonaFormats

private let vocabulary = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",            // 0-4
    "the", "heart", "rate", "un", "##aff", "##able",          // 5-10
    "hello", ",", "!", "cafe", "naive", "中", "国",            // 11-17
    "a", "##b", ".", "$", "x", "—", "σισυφοσ", "-",           // 18-25
]

private func tiny() throws -> WordPieceTokenizer { try WordPieceTokenizer(vocabulary: vocabulary) }

@Suite("WordPiece tokenizer")
struct WordPieceTokenizerTests {
    @Test func specialTokensAreFound() throws {
        let t = try tiny()
        #expect(t.vocabularySize == vocabulary.count)
        #expect((t.paddingID, t.unknownID, t.classifierID, t.separatorID, t.maskID) == (0, 1, 2, 3, 4))
        #expect(t.id(of: "heart") == 6 && t.token(of: 7) == "rate" && t.token(of: 999) == nil)
        #expect(throws: FormatError.self) { try WordPieceTokenizer(vocabulary: ["[PAD]", "[CLS]", "[SEP]"]) }
        #expect(throws: FormatError.self) { try WordPieceTokenizer(vocabulary: []) }
    }

    @Test func greedyLongestMatchWithContinuations() throws {
        let t = try tiny()
        #expect(t.tokenize("unaffable") == ["un", "##aff", "##able"])
        #expect(t.tokenize("abbb") == ["a", "##b", "##b", "##b"])
        // A word that cannot be covered becomes one [UNK], not a partial split.
        #expect(t.tokenize("unaffx") == ["[UNK]"])
        #expect(t.tokenize("b") == ["[UNK]"])
    }

    @Test func lowercaseAndAccentStripping() throws {
        let t = try tiny()
        #expect(t.tokenize("The HEART Rate") == ["the", "heart", "rate"])
        #expect(t.tokenize("Café NAÏVE") == ["cafe", "naive"])
        // Decomposed input (e + combining acute) strips the same way.
        #expect(t.tokenize("cafe\u{0301}") == ["cafe"])
        // Final sigma: ΣΊΣΥΦΟΣ lowercases to σίσυφος, then loses its accent.
        #expect(t.tokenize("ΣΊΣΥΦΟΣ") == ["σισυφοσ"])
    }

    @Test func punctuationIsSplitOff() throws {
        let t = try tiny()
        #expect(t.tokenize("hello, the heart!") == ["hello", ",", "the", "heart", "!"])
        #expect(t.tokenize("$x") == ["$", "x"])                      // ASCII symbol counts as punctuation
        #expect(t.tokenize("x—x") == ["x", "—", "x"])                // Unicode dash (Pd)
        #expect(t.tokenize("x-rate.") == ["x", "-", "rate", "."])
        #expect(t.tokenize("x¿") == ["x", "[UNK]"])                  // Po, not in the vocabulary
    }

    @Test func cjkCharactersStandAlone() throws {
        let t = try tiny()
        #expect(t.tokenize("中国") == ["中", "国"])
        #expect(t.tokenize("a中a") == ["a", "中", "a"])
        // Hiragana is not in BERT's CJK ranges: it stays inside the word.
        #expect(t.tokenize("aの") == ["[UNK]"])
    }

    @Test func whitespaceAndControlCleanup() throws {
        let t = try tiny()
        #expect(t.tokenize("the\u{00A0}heart\u{2003}rate\r\n\tx") == ["the", "heart", "rate", "x"])
        // NUL, U+FFFD, control (BEL) and format (zero-width space) characters are dropped, joining the word.
        #expect(t.tokenize("he\u{0}art ra\u{FFFD}te t\u{7}he x\u{200B}") == ["heart", "rate", "the", "x"])
        #expect(t.tokenize("   ") == [])
        #expect(t.tokenize("") == [])
    }

    @Test func overlongWordsAreUnknown() throws {
        let t = try tiny()
        let hundred = "a" + String(repeating: "b", count: 99)
        #expect(t.tokenize(hundred) == ["a"] + Array(repeating: "##b", count: 99))
        #expect(t.tokenize(hundred + "b") == ["[UNK]"])
    }

    @Test func specialTokenStringsInText() throws {
        let t = try tiny()
        // Exact case only: "[cls]" is ordinary text ("[", "cls", "]").
        #expect(t.tokenIDs("the [SEP] x[MASK]x [cls]") == [5, 3, 22, 4, 22, 1, 1, 1])
    }

    @Test func encodeAddsSpecialTokensAndTruncates() throws {
        let t = try tiny()
        #expect(t.encode("the heart rate") == [2, 5, 6, 7, 3])
        #expect(t.encode("the heart rate", maxLength: 4) == [2, 5, 6, 3])
        #expect(t.encode("the heart rate", maxLength: 2) == [2, 3])
        #expect(t.encode("") == [2, 3])
        #expect(t.decode([2, 8, 9, 10, 3, 999]) == "[CLS] unaffable [SEP] [UNK]")
    }

    @Test func batchesArePaddedWithMasks() throws {
        let t = try tiny()
        let b = t.encodeBatch(["the heart rate", "x", "hello , the heart rate x"], maxLength: 6)
        #expect(b.length == 6)
        #expect(b.ids == [[2, 5, 6, 7, 3, 0], [2, 22, 3, 0, 0, 0], [2, 11, 12, 5, 6, 3]])
        #expect(b.attentionMask == [[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
        #expect(b.lengths == [5, 3, 6])
        let longest = t.encodeBatch(["x", "the heart"])
        #expect(longest.ids == [[2, 22, 3, 0], [2, 5, 6, 3]] && longest.length == 4)
        let fixed = t.encodeBatch(["x"], maxLength: 5, padding: .maxLength)
        #expect(fixed.ids == [[2, 22, 3, 0, 0]] && fixed.attentionMask == [[1, 1, 1, 0, 0]])
        #expect(t.encodeBatch([]).ids.isEmpty)
    }

    @Test func vocabularyFileWithCRLFAndFinalNewline() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mona-vocab-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(vocabulary.joined(separator: "\r\n").appending("\r\n").utf8).write(to: url)
        let t = try WordPieceTokenizer(vocabularyFile: url)
        #expect(t.vocabularySize == vocabulary.count)
        #expect(t.encode("unaffable") == [2, 8, 9, 10, 3])
        #expect(throws: FormatError.self) {
            try WordPieceTokenizer(vocabularyFile: url.appendingPathExtension("missing"))
        }
    }
}

// MARK: - Real vocabulary

private struct GoldenFile: Decodable {
    struct Case: Decodable { let text: String; let ids: [Int] }
    let cases: [Case]
}

@Suite("WordPiece on the MiniLM vocabulary")
struct WordPieceRealVocabularyTests {
    static var vocabularyURL: URL { TestAssets.body("minilm-l6").vocabulary! }
    static var present: Bool { FileManager.default.fileExists(atPath: vocabularyURL.path) }
    static func available(_ test: String) -> Bool {
        if !present {
            print("SKIPPED \(test): asset missing — \(vocabularyURL.path); run scripts/fetch-assets.sh bodies")
        }
        return present
    }

    @Test(.enabled(if: available("designGoldenIDs")))
    func designGoldenIDs() throws {
        let t = try WordPieceTokenizer(vocabularyFile: Self.vocabularyURL)
        #expect(t.vocabularySize == 30522)
        #expect(t.encode("The heart rate increased sharply.") == [101, 1996, 2540, 3446, 3445, 9249, 1012, 102])
        #expect(t.encode("A time series of sensor readings.") == [101, 1037, 2051, 2186, 1997, 13617, 15324, 1012, 102])
    }

    /// Ids from Hugging Face `tokenizers` (scripts/golden_wordpiece.py) on texts that exercise every rule.
    @Test(.enabled(if: available("matchesHuggingFaceTokenizers")))
    func matchesHuggingFaceTokenizers() throws {
        let t = try WordPieceTokenizer(vocabularyFile: Self.vocabularyURL)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/wordpiece_golden.json")
        let golden = try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: fixture))
        #expect(golden.cases.count >= 20)
        for c in golden.cases {
            let ids = t.encode(c.text)
            #expect(ids == c.ids, "text \(c.text.debugDescription): tokens \(t.tokenize(c.text))")
        }
    }
}
