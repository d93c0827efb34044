import Foundation
import MonaTensor
import Testing
@testable import MonaData

/// WordNet glosses and Fashion-MNIST as labelled source data.
@Suite struct SourceDataTests {
    /// Five synsets in the wndb(5WN) layout, with a licence-style header line and examples in one gloss.
    static let fixture = """
      1 This software and database is being provided to you, the LICENSEE, by
    00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 ~ 00002137 n 0000 ~ 04424418 n 0000 | that which is perceived or known or inferred to have its own distinct existence (living or nonliving)
    02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 002 @ 02083346 n 0000 #m 02083863 n 0000 | a member of the genus Canis (probably descended from the common wolf); "the dog barked all night"
    02121620 05 n 02 cat 0 true_cat 0 001 @ 02120997 n 0000 | feline mammal usually having thick soft fur and no ability to roar
    02958343 06 n 05 car 0 auto 0 automobile 0 machine 0 motorcar 0 001 @ 03791235 n 0000 | a motor vehicle with four wheels; usually propelled by an internal combustion engine; "he needs a car to get to work"
    10241300 18 n 01 lawyer 0 001 @ 10249950 n 0000 | a professional person authorized to practice law
    02125460 05 n 01 wildcat 0 001 @ 02120997 n 0000 | any small or medium-sized cat resembling the domestic cat and living in the wild

    """

    @Test func parsesSynsetLines() throws {
        let synsets = try WordNet.parseData(Array(Self.fixture.utf8), file: "data.noun")
        #expect(synsets.count == 6)
        let dog = synsets[1]
        #expect(dog.offset == 2084071 && dog.lexicographerFile == 5 && dog.synsetType == "n")
        #expect(dog.words == ["dog", "domestic dog", "Canis familiaris"])
        #expect(dog.gloss == "a member of the genus Canis (probably descended from the common wolf); \"the dog barked all night\"")
        #expect(dog.definition == "a member of the genus Canis (probably descended from the common wolf)")
        // A definition with internal semicolons keeps them; only quoted examples are cut.
        #expect(synsets[3].definition == "a motor vehicle with four wheels; usually propelled by an internal combustion engine")
        #expect(synsets[4].definition == synsets[4].gloss)
        #expect(WordNet.lexicographerFiles[5] == "noun.animal" && WordNet.lexicographerFiles[18] == "noun.person")
        #expect(WordNet.lexicographerFiles.count == 45)
    }

    @Test func malformedLinesNameTheLine() {
        let bad: [(String, String)] = [
            ("00001740 03 n 01 entity 0 003 no gloss", "no '|'"),
            ("0001740 03 n 01 entity 0 000 | x", "8 digits"),
            ("00001740 3x n 01 entity 0 000 | x", "lex_filenum"),
            ("00001740 03 q 01 entity 0 000 | x", "ss_type"),
            ("00001740 03 n 04 entity 0 000 | x", "w_cnt 4"),
            ("00001740 03 n zz entity 0 000 | x", "hexadecimal"),
        ]
        for (line, message) in bad {
            expectDataError(fileSuffix: "data.noun", line: 2, message: message) {
                _ = try WordNet.parseData(Array("  header\n\(line)\n".utf8), file: "data.noun")
            }
        }
    }

    @Test func lexnamesFile() throws {
        let names = try WordNet.parseLexnames(Array("00\tadj.all\t3\n01\tadj.pert\t3\n02\tadv.all\t4\n".utf8), file: "lexnames")
        #expect(names == ["adj.all", "adj.pert", "adv.all"])
        expectDataError(fileSuffix: "lexnames", message: "number 1 is missing") {
            _ = try WordNet.parseLexnames(Array("00\ta\t1\n02\tb\t1\n".utf8), file: "lexnames")
        }
        expectDataError(fileSuffix: "lexnames", line: 2, message: "listed twice") {
            _ = try WordNet.parseLexnames(Array("00\ta\t1\n00\tb\t1\n".utf8), file: "lexnames")
        }
    }

    @Test func samplesLargestCategoriesSeeded() throws {
        let synsets = try WordNet.parseData(Array(Self.fixture.utf8), file: "data.noun")
        // Largest noun categories: animal (3), then artifact / person / Tops with 1 each (ties by file number).
        let two = try SourceData.wordNetGlosses(synsets: synsets, classes: 2, perClass: 2, seed: 7)
        #expect(two.classNames == ["noun.animal", "noun.Tops"])
        #expect(two.classCounts == [2, 1])
        let again = try SourceData.wordNetGlosses(synsets: synsets, classes: 2, perClass: 2, seed: 7)
        #expect(two == again)
        // Every text is the definition of a synset of its class.
        let animals = Set(synsets.filter { $0.lexicographerFile == 5 }.map(\.definition))
        for (t, y) in zip(two.texts, two.labels) where y == 0 { #expect(animals.contains(t)) }
        // Over seeds, both animal draws vary (a fixed seed is not a fixed pick of the first members).
        let picks = Set((0..<20).map { try! SourceData.wordNetGlosses(synsets: synsets, classes: 1, perClass: 1, seed: $0).texts[0] })
        #expect(picks.count == 3)

        let named = try SourceData.wordNetGlosses(synsets: synsets, categories: ["noun.person", "noun.artifact"],
                                                  perClass: 5, seed: 1, text: .wordAndDefinition)
        #expect(named.classNames == ["noun.person", "noun.artifact"])
        #expect(Set(named.texts) == ["lawyer: a professional person authorized to practice law",
                                     "car: a motor vehicle with four wheels; usually propelled by an internal combustion engine"])
        #expect(named.labels[named.texts.firstIndex { $0.hasPrefix("lawyer") }!] == 0)
        expectDataError(fileSuffix: "categories", message: "unknown lexicographer file") {
            _ = try SourceData.wordNetGlosses(synsets: synsets, categories: ["noun.dragon"], perClass: 1, seed: 1)
        }
        expectDataError(fileSuffix: "data.noun", message: "only 4 noun categories") {
            _ = try SourceData.wordNetGlosses(synsets: synsets, classes: 5, perClass: 1, seed: 1)
        }
    }

    @Test func realWordNetGlosses() throws {
        guard let url = asset("wordnet/data.noun", for: "realWordNetGlosses") else { return }
        let s = try SourceData.wordNetGlosses(directory: url.deletingLastPathComponent(), perClass: 50, seed: 1)
        print("REAL: WordNet classes \(s.classNames) counts \(s.classCounts); e.g. \(s.classNames[s.labels[0]]): \(s.texts[0])")
        #expect(s.classNames == ["noun.artifact", "noun.person", "noun.plant", "noun.animal", "noun.act",
                                 "noun.communication", "noun.state", "noun.location", "noun.attribute", "noun.substance"])
        #expect(s.classCounts == [Int](repeating: 50, count: 10))
        #expect(s.texts.allSatisfy { !$0.isEmpty && !$0.contains("\"") })
        #expect(Set(s.texts).count > 480)     // a few synsets share a definition, most do not
        // All of WordNet 3.0's noun synsets parse (82,115 of them).
        let all = try WordNet.parseData([UInt8](Data(contentsOf: url)), file: url.path)
        #expect(all.count == 82115)
    }

    @Test func realFashionMNISTSource() throws {
        guard let url = asset("fashion-mnist/t10k-images-idx3-ubyte.gz", for: "realFashionMNISTSource") else { return }
        let d = try SourceData.fashionMNIST(directory: url.deletingLastPathComponent(), split: .test, perClass: 3,
                                            seed: 2, imageSize: 32, channels: 3)
        #expect(d.inputTensor?.shape == [30, 3, 32, 32])
        #expect(d.classCounts == [Int](repeating: 3, count: 10))
        #expect(d.classNames == IDXFile.fashionMNISTClassNames)
        let x = d.inputTensor!
        #expect(x.scalars.allSatisfy { $0 >= -1e-6 && $0 <= 1 + 1e-6 })
        // Channels are copies of one another.
        let c0 = x.slice(axis: 1, start: 0, end: 1), c2 = x.slice(axis: 1, start: 2, end: 3)
        #expect(maxAbsDifference(c0, c2) == 0)
        let again = try SourceData.fashionMNIST(directory: url.deletingLastPathComponent(), split: .test, perClass: 3,
                                                seed: 2, imageSize: 32, channels: 3)
        #expect(again.labels == d.labels && maxAbsDifference(again.inputTensor!, x) == 0)
    }
}
