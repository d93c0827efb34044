import Foundation
import MonaTensor
import Testing
@testable import MonaData

@Suite struct FASTATests {
    @Test func multiLineRecords() throws {
        let r = try FASTAFile.read(fixture("sequences.fasta"))
        #expect(r.count == 3)
        #expect(r.map(\.sequence) == ["ACGTACGTNA", "acgt", "AAAACCCCGG"])
        #expect(r.map(\.line) == [2, 6, 8])
        #expect(r[1].header.hasPrefix("seq2 Bacillus subtilis\tBacteria; Firmicutes"))
    }

    @Test func labelRules() throws {
        let r = try FASTAFile.read(fixture("sequences.fasta"))
        let f = "sequences.fasta"
        #expect(try FASTAFile.labels(of: r, rule: .lineage(.phylum), file: f)
                == ["Proteobacteria", "Firmicutes", "Actinobacteria"])
        #expect(try FASTAFile.labels(of: r, rule: .lineage(.genus), file: f) == ["Escherichia", "Bacillus", "Streptomyces"])
        #expect(try FASTAFile.labels(of: r, rule: .field(0, separator: " "), file: f) == ["seq1", "seq2", "seq3"])
        #expect(try FASTAFile.labels(of: r, rule: .regex(#"^\S+ (\w+)"#), file: f) == ["Escherichia", "Bacillus", "Streptomyces"])
        expectDataError(fileSuffix: f, line: 2, message: "has 6 rank(s), no species") {
            _ = try FASTAFile.labels(of: r, rule: .lineage(.species), file: f)
        }
        expectDataError(fileSuffix: f, line: 2, message: "does not match") {
            _ = try FASTAFile.labels(of: r, rule: .regex("xyz(\\d)"), file: f)
        }
        expectDataError(fileSuffix: "label rule", message: "invalid regular expression") {
            _ = try FASTAFile.labels(of: r, rule: .regex("(unclosed"), file: f)
        }
    }

    @Test func kmerTokensWithFixedVocabulary() throws {
        let vocab = Vocabulary.allKmers(alphabet: "ACGT", k: 2)
        #expect(vocab.count == 18)
        #expect(vocab.id(of: "AC") == 3 && vocab.id(of: "TT") == 17 && vocab.id(of: "NA") == Vocabulary.unknownID)
        let d = try FASTAFile.load(fixture("sequences.fasta"), label: .lineage(.phylum),
                                   tokenizer: SequenceTokenizer(.kmer(k: 2, stride: 1)), vocabulary: vocab)
        guard case .tokens(let ids) = d.inputs else { Issue.record("expected tokens"); return }
        #expect(ids[0] == [3, 8, 13, 14, 3, 8, 13, 1, 1])
        #expect(ids[1] == [3, 8, 13])
        #expect(d.classNames == ["Actinobacteria", "Firmicutes", "Proteobacteria"])
        #expect(d.labels == [2, 1, 0])
        let cut = try FASTAFile.load(fixture("sequences.fasta"), label: .lineage(.phylum),
                                     tokenizer: SequenceTokenizer(.kmer(k: 3, stride: 3)), vocabulary: .allKmers(k: 3),
                                     maximumLength: 2)
        guard case .tokens(let short) = cut.inputs else { return }
        #expect(short.map(\.count) == [2, 1, 2])
    }

    @Test func characterTokensAndBuiltVocabulary() {
        let t = SequenceTokenizer(.character)
        let seqs = ["GLWK", "KKL"].map { t.tokens($0) }
        let v = Vocabulary.built(from: seqs)
        #expect(v.tokens == ["<pad>", "<unk>", "G", "K", "L", "W"])
        #expect(v.encode(t.tokens("wkx")) == [5, 3, 1])
        #expect(Vocabulary.aminoAcids.count == 22)
    }

    @Test func malformedFASTA() {
        expectDataError(fileSuffix: "bad_before_header.fasta", line: 1, message: "sequence data before the first '>' header") {
            _ = try FASTAFile.read(fixture("bad_before_header.fasta"))
        }
        expectDataError(fileSuffix: "bad_character.fasta", line: 3, message: "invalid sequence character '1'") {
            _ = try FASTAFile.read(fixture("bad_character.fasta"))
        }
        expectDataError(fileSuffix: "e.fasta", line: 1, message: "has no sequence") {
            _ = try FASTAFile.read(bytes: Array(">a\n>b\nAC\n".utf8), file: "e.fasta")
        }
    }
}

@Suite struct LogMelTests {
    @Test func melScales() {
        #expect(abs(MelScale.slaney.mel(fromHertz: 1000) - 15) < 1e-12)
        #expect(abs(MelScale.slaney.mel(fromHertz: 500) - 7.5) < 1e-12)
        #expect(abs(MelScale.slaney.mel(fromHertz: 6400) - 42) < 1e-9)   // 15 + 27
        #expect(abs(MelScale.htk.mel(fromHertz: 700) - 2595 * log10(2.0)) < 1e-9)
        for f in [0.0, 300, 999, 1000, 4321, 8000] {
            for s in [MelScale.slaney, .htk] { #expect(abs(s.hertz(fromMel: s.mel(fromHertz: f)) - f) < 1e-6) }
        }
    }

    @Test func fftMatchesNaiveDFT() {
        var g = SeededGenerator(seed: 5)
        let n = 64
        var re = (0..<n).map { _ in g.nextNormal() }, im = (0..<n).map { _ in g.nextNormal() }
        let (r0, i0) = (re, im)
        FFT(size: n).transform(&re, &im)
        for k in 0..<n {
            var sr = 0.0, si = 0.0
            for t in 0..<n {
                let a = -2 * Double.pi * Double(k * t) / Double(n)
                sr += r0[t] * cos(a) - i0[t] * sin(a)
                si += r0[t] * sin(a) + i0[t] * cos(a)
            }
            #expect(abs(sr - re[k]) < 1e-9 && abs(si - im[k]) < 1e-9)
        }
    }

    @Test func powerFrameMatchesDirectComputation() throws {
        let f = try LogMelSpectrogram(sampleRate: 8000, fftSize: 32, windowLength: 20, hopLength: 8, melBands: 4)
        var g = SeededGenerator(seed: 9)
        let x = (0..<50).map { _ in Float(g.nextNormal()) }
        let p = f.powerSpectrogram(Tensor(x))
        #expect(p.shape == [17, 1 + 50 / 8])
        // Frame 3 starts at 3·8 − 16 = 8; the 20-sample periodic Hann sits at offsets 6..<26 of the 32-sample frame.
        let frame = 3
        for k in 0..<17 {
            var sr = 0.0, si = 0.0
            for i in 0..<32 {
                let j = frame * 8 - 16 + i
                let w = (6..<26).contains(i) ? 0.5 - 0.5 * cos(2 * Double.pi * Double(i - 6) / 20) : 0
                let v = j >= 0 && j < 50 ? Double(x[j]) * w : 0
                sr += v * cos(-2 * Double.pi * Double(k * i) / 32)
                si += v * sin(-2 * Double.pi * Double(k * i) / 32)
            }
            #expect(abs(Double(p[k, frame]) - (sr * sr + si * si)) < 1e-4 * max(1, sr * sr + si * si))
        }
    }

    @Test func filterbankShapeAndNormalisation() throws {
        let f = try LogMelSpectrogram(sampleRate: 16000, fftSize: 512, melBands: 40)
        #expect(f.filterbank.shape == [40, 257])
        let w = f.filterbank.scalars
        #expect(w.allSatisfy { $0 >= 0 })
        // Slaney normalisation: each triangle has area ≈ 1 (Σ w·Δf with Δf = 31.25 Hz) once it spans many bins.
        for m in [20, 30, 39] {
            let area = (0..<257).reduce(0.0) { $0 + Double(w[m * 257 + $1]) } * 16000 / 512
            #expect(abs(area - 1) < 0.05, "band \(m) area \(area)")
        }
        let htk = try LogMelSpectrogram(sampleRate: 16000, fftSize: 512, melBands: 40, scale: .htk, slaneyNormalization: false)
        #expect(abs((htk.filterbank.scalars.max() ?? 0) - 1) < 0.2)
    }

    @Test func toneLandsInTheRightBand() throws {
        let sr = 16000
        let f = try LogMelSpectrogram(sampleRate: sr, fftSize: 512, windowLength: 400, hopLength: 160, melBands: 32)
        let x = Tensor((0..<sr / 2).map { Float(sin(2 * Double.pi * 1000 * Double($0) / Double(sr))) })
        let s = f(x)
        #expect(s.shape == [32, 1 + (sr / 2) / 160])
        let frame = 20
        let column = (0..<32).map { s[$0, frame] }
        let best = column.indices.max { column[$0] < column[$1] }!
        // The band whose centre frequency is closest to 1 kHz.
        let lo = MelScale.slaney.mel(fromHertz: 0), hi = MelScale.slaney.mel(fromHertz: 8000)
        let centres = (1...32).map { MelScale.slaney.hertz(fromMel: lo + (hi - lo) * Double($0) / 33) }
        let expected = centres.indices.min { abs(centres[$0] - 1000) < abs(centres[$1] - 1000) }!
        #expect(best == expected)
        let silent = f(Tensor.zeros([400]))
        #expect(silent.scalars.allSatisfy { abs($0 - log(Float(1e-6))) < 1e-5 })
    }

    @Test func badOptionsAreErrors() {
        expectDataError(fileSuffix: "log-mel options", message: "fftSize must be a power of two") {
            _ = try LogMelSpectrogram(sampleRate: 16000, fftSize: 400)
        }
        expectDataError(fileSuffix: "log-mel options", message: "windowLength") {
            _ = try LogMelSpectrogram(sampleRate: 16000, fftSize: 256, windowLength: 400)
        }
        expectDataError(fileSuffix: "log-mel options", message: "maxFrequency") {
            _ = try LogMelSpectrogram(sampleRate: 16000, maxFrequency: 9000)
        }
    }

    @Test func audioDatasetFromWAVs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mona-audio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var urls: [URL] = []
        for (i, n) in [800, 1600].enumerated() {
            let url = dir.appendingPathComponent("\(i).wav")
            let tone = Tensor((0..<n).map { Float(sin(Double($0) * 0.3)) * 0.5 }, shape: [1, n])
            try Data(WAVFile.pcm16Bytes(samples: tone, sampleRate: 8000)).write(to: url)
            urls.append(url)
        }
        let f = try LogMelSpectrogram(sampleRate: 8000, fftSize: 256, hopLength: 80, melBands: 16)
        let d = try WAVFile.logMelDataset(name: "tones", files: urls, labels: ["b", "a"], features: f)
        #expect(d.inputTensor?.shape == [2, 1, 16, 21])
        #expect(d.labels == [1, 0])
        // the shorter clip is padded with the log floor after its 11 frames
        #expect(d.inputTensor![0, 0, 3, 15] == log(Float(1e-6)))
        expectDataError(fileSuffix: "0.wav", message: "sample rate 8000 Hz, features expect 16000 Hz") {
            _ = try WAVFile.logMelDataset(name: "x", files: urls, labels: ["a", "b"],
                                          features: try LogMelSpectrogram(sampleRate: 16000))
        }
    }
}
