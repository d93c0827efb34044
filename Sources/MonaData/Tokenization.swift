/// Splits biological (or any) sequences into string tokens: single characters, or k-mers taken every `stride`
/// positions. Sequences are upper-cased first unless `uppercase` is false.
public struct SequenceTokenizer: Sendable, Equatable {
    public enum Unit: Sendable, Equatable {
        case character
        /// Overlapping (stride < k) or disjoint (stride == k) substrings of length k; a trailing piece shorter
        /// than k is dropped.
        case kmer(k: Int, stride: Int)
    }

    public var unit: Unit
    public var uppercase: Bool

    public init(_ unit: Unit = .character, uppercase: Bool = true) {
        precondition({ if case .kmer(let k, let s) = unit { return k >= 1 && s >= 1 } else { return true } }(),
                     "SequenceTokenizer: k and stride must be ≥ 1 (got \(unit))")
        self.unit = unit
        self.uppercase = uppercase
    }

    public func tokens(_ sequence: String) -> [String] {
        let text = uppercase ? sequence.uppercased() : sequence
        if text.utf8.allSatisfy({ $0 < 128 }) {
            // ASCII (all biological alphabets): slice bytes, much faster than Character work.
            let bytes = Array(text.utf8)
            switch unit {
            case .character:
                return bytes.map { String(UnicodeScalar($0)) }
            case .kmer(let k, let stride):
                guard bytes.count >= k else { return [] }
                return Swift.stride(from: 0, through: bytes.count - k, by: stride).map {
                    String(decoding: bytes[$0..<($0 + k)], as: UTF8.self)
                }
            }
        }
        let chars = Array(text)
        switch unit {
        case .character:
            return chars.map { String($0) }
        case .kmer(let k, let stride):
            guard chars.count >= k else { return [] }
            return Swift.stride(from: 0, through: chars.count - k, by: stride).map { String(chars[$0..<($0 + k)]) }
        }
    }
}

/// A token ↔ id table. Id 0 is the padding token and id 1 the unknown token; tokens follow in a fixed order,
/// so the same vocabulary always gives the same ids.
public struct Vocabulary: Sendable, Equatable {
    public static let paddingToken = "<pad>"
    public static let unknownToken = "<unk>"
    public static let paddingID = 0
    public static let unknownID = 1

    /// All tokens by id (including the two special tokens first).
    public let tokens: [String]
    private let index: [String: Int]

    /// A vocabulary of the given tokens (duplicates and special tokens are ignored), after `<pad>` and `<unk>`.
    public init(_ tokens: [String]) {
        var all = [Vocabulary.paddingToken, Vocabulary.unknownToken]
        var index = [Vocabulary.paddingToken: 0, Vocabulary.unknownToken: 1]
        for t in tokens where index[t] == nil {
            index[t] = all.count
            all.append(t)
        }
        self.tokens = all
        self.index = index
    }

    /// Tokens seen at least `minimumCount` times in `sequences`, sorted, so the ids do not depend on data order.
    /// Build it from the training split only.
    public static func built(from sequences: [[String]], minimumCount: Int = 1) -> Vocabulary {
        var counts: [String: Int] = [:]
        for s in sequences { for t in s { counts[t, default: 0] += 1 } }
        return Vocabulary(counts.filter { $0.value >= minimumCount }.keys.sorted())
    }

    /// Every string of length k over `alphabet` (in lexicographic order of the alphabet as given), e.g. the 4^k
    /// DNA k-mers for "ACGT"; other characters (N, gaps) then map to the unknown id.
    public static func allKmers(alphabet: String = "ACGT", k: Int) -> Vocabulary {
        precondition(k >= 1 && k <= 8, "Vocabulary.allKmers: k must be in 1...8, got \(k)")
        var words = [""]
        for _ in 0..<k { words = words.flatMap { w in alphabet.map { w + String($0) } } }
        return Vocabulary(words)
    }

    /// The 20 standard amino acids, one letter each.
    public static let aminoAcids = Vocabulary("ACDEFGHIKLMNPQRSTVWY".map { String($0) })

    public var count: Int { tokens.count }

    public func id(of token: String) -> Int { index[token] ?? Vocabulary.unknownID }

    public func encode(_ tokens: [String]) -> [Int] { tokens.map { id(of: $0) } }
}

extension LabeledDataset {
    /// A token dataset from raw sequences and class labels: each sequence is tokenised, encoded with
    /// `vocabulary` and, when `maximumLength` is set, cut to its first `maximumLength` tokens.
    public static func tokenized(name: String, sequences: [String], labels: [Int], classNames: [String],
                                 tokenizer: SequenceTokenizer, vocabulary: Vocabulary,
                                 maximumLength: Int? = nil) throws -> LabeledDataset {
        let ids = sequences.map { s -> [Int] in
            let ids = vocabulary.encode(tokenizer.tokens(s))
            return maximumLength.map { Array(ids.prefix($0)) } ?? ids
        }
        return try LabeledDataset(name: name, inputs: .tokens(ids), targets: .classes(labels, names: classNames))
    }
}
