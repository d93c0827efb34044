import Foundation
import MonaTensor
import Testing
@testable import MonaData

@Suite struct GzipTests {
    private func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: fixture(name))) }

    @Test func dynamicFixedAndStoredBlocks() throws {
        let text = try bytes("text.txt")
        #expect(try Gzip.decompress(bytes("text.txt.gz"), file: "text.txt.gz") == text)
        #expect(try Gzip.decompress(bytes("stored.gz"), file: "stored.gz") == Array(text.prefix(3000)))
        #expect(try Gzip.decompress(bytes("hello.gz"), file: "hello.gz") == Array("hello, hello, hello world\n".utf8))
        #expect(try Gzip.decompress(bytes("two-members.gz"), file: "two-members.gz")
                == Array("first member\nsecond member\n".utf8))
    }

    @Test func crcOfKnownString() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test func corruptGzipIsAnError() throws {
        expectDataError(fileSuffix: "bad-crc.gz", message: "CRC-32 mismatch") {
            _ = try Gzip.decompress(bytes("bad-crc.gz"), file: "bad-crc.gz")
        }
        expectDataError(fileSuffix: "truncated.gz", message: "truncated") {
            _ = try Gzip.decompress(bytes("truncated.gz"), file: "truncated.gz")
        }
        expectDataError(fileSuffix: "bad-magic.gz", message: "not a gzip file") {
            _ = try Gzip.decompress(bytes("bad-magic.gz"), file: "bad-magic.gz")
        }
        expectDataError(fileSuffix: "bad-block.gz", message: "invalid deflate block type 3") {
            _ = try Gzip.decompress(bytes("bad-block.gz"), file: "bad-block.gz")
        }
        expectDataError(fileSuffix: "text.txt.gz", message: "exceeds the limit of 1000 bytes") {
            _ = try Gzip.decompress(bytes("text.txt.gz"), file: "text.txt.gz", maximumSize: 1000)
        }
        var trailing = try bytes("hello.gz")
        trailing += [1, 2, 3]
        expectDataError(fileSuffix: "t.gz", message: "trailing 3 byte(s)") {
            _ = try Gzip.decompress(trailing, file: "t.gz")
        }
    }

    @Test func everyTruncationAndRandomCorruptionThrowsCleanly() throws {
        let good = try bytes("text.txt.gz")
        for n in stride(from: 0, to: good.count, by: 7) {
            #expect(throws: DataError.self) { _ = try Gzip.decompress(Array(good.prefix(n)), file: "t.gz") }
        }
        var g = SeededGenerator(seed: 11)
        for _ in 0..<400 {
            var b = good
            for _ in 0..<(1 + Int(g.next() % 4)) {
                // Skip the 19-byte header (its file name "text.txt" is not checked by anything).
                var i = 19 + Int(g.next() % UInt64(b.count - 19))
                if i == b.count - 9 { i -= 1 }  // the last deflate byte ends in padding bits that nobody reads
                b[i] ^= UInt8(1 + g.next() % 255)  // always a change
            }
            // Corruption is caught by the decoder or by the CRC; either way an error, never a trap.
            #expect(throws: DataError.self) { _ = try Gzip.decompress(b, file: "fuzz.gz") }
        }
        for _ in 0..<200 {
            let junk = [0x1F, 0x8B, 8, 0] + (0..<(6 + Int(g.next() % 200))).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            _ = try? Gzip.decompress(junk, file: "junk.gz")
        }
    }
}

@Suite struct IDXTests {
    @Test func rawAndGzippedIDX() throws {
        let raw = try IDXFile.read(fixture("images-idx3-ubyte"))
        #expect(raw.shape == [3, 2, 3])
        #expect(raw.typeCode == 0x08)
        #expect(Array(raw.values.scalars.prefix(6)) == [0, 51, 102, 153, 204, 255])
        let gz = try IDXFile.read(fixture("images-idx3-ubyte.gz"))
        #expect(gz.values.scalars == raw.values.scalars)
        let floats = try IDXFile.read(fixture("floats-idx2"))
        #expect(floats.shape == [2, 2] && floats.values.scalars == [1.5, -2, 0.25, 1000])
        let shorts = try IDXFile.read(fixture("shorts-idx1"))
        #expect(shorts.values.scalars == [-300, 0, 32767])
    }

    @Test func imageClassificationDataset() throws {
        let d = try IDXFile.imageClassification(images: fixture("images-idx3-ubyte.gz"),
                                                labels: fixture("labels-idx1-ubyte.gz"),
                                                classNames: IDXFile.fashionMNISTClassNames)
        let x = try #require(d.inputTensor)
        #expect(x.shape == [3, 1, 2, 3])
        #expect(abs(x[0, 0, 0, 1] - 0.2) < 1e-6 && x[0, 0, 1, 2] == 1)
        #expect(d.labels == [9, 0, 3])
        #expect(d.classNames?[9] == "Ankle boot")
        expectDataError(fileSuffix: "labels-idx1-ubyte", message: "label 9 of sample 0 is outside the 3 classes") {
            _ = try IDXFile.imageClassification(images: fixture("images-idx3-ubyte"), labels: fixture("labels-idx1-ubyte"),
                                                classNames: ["a", "b", "c"])
        }
    }

    @Test func malformedIDX() {
        expectDataError(fileSuffix: "truncated-idx3-ubyte", message: "IDX data is truncated: shape [3, 2, 3] needs 34 bytes, file has 30") {
            _ = try IDXFile.read(fixture("truncated-idx3-ubyte"))
        }
        expectDataError(fileSuffix: "x.idx", message: "unknown IDX element type 0x07") {
            _ = try IDXFile.read(bytes: [0, 0, 7, 1, 0, 0, 0, 1, 5], file: "x.idx")
        }
        expectDataError(fileSuffix: "x.idx", message: "IDX header is truncated") {
            _ = try IDXFile.read(bytes: [0, 0, 8, 3, 0, 0, 0, 1], file: "x.idx")
        }
        expectDataError(fileSuffix: "x.idx", message: "implausibly large") {
            _ = try IDXFile.read(bytes: [0, 0, 8, 4] + [UInt8](repeating: 0xFF, count: 16), file: "x.idx")
        }
        expectDataError(fileSuffix: "x.idx", message: "unexpected trailing bytes") {
            _ = try IDXFile.read(bytes: [0, 0, 8, 1, 0, 0, 0, 1, 5, 6], file: "x.idx")
        }
        expectDataError(fileSuffix: "bad-crc.gz", message: "CRC-32 mismatch") {
            _ = try IDXFile.read(fixture("bad-crc.gz"))
        }
    }
}

@Suite struct WAVTests {
    @Test func stereo16WithPaddedListChunk() throws {
        let clip = try WAVFile.read(fixture("stereo16.wav"))
        #expect(clip.sampleRate == 8000)
        #expect(clip.samples.shape == [2, 5])
        let ints: [Float] = [0, 16384, -16384, 1, 32767, 32767, -32768, 0, -1, 8192]
        #expect(clip.samples.scalars == ints.map { $0 / 32768 })
        #expect(clip.mono.shape == [5])
        #expect(abs(clip.mono.scalars[1] - (-0.25)) < 1e-7)
    }

    @Test func eightBitAndRoundTrip() throws {
        let clip = try WAVFile.read(fixture("mono8.wav"))
        let expected: [Float] = [0, 127.0 / 128, -1]
        #expect(clip.samples.scalars == expected)
        let tone = Tensor([0, 0.5, -0.5, 0.25, 1], shape: [1, 5])
        let back = try WAVFile.read(bytes: WAVFile.pcm16Bytes(samples: tone, sampleRate: 16000), file: "rt.wav")
        #expect(back.sampleRate == 16000)
        for (a, b) in zip(back.samples.scalars, tone.scalars) { #expect(abs(a - b) < 1e-4) }
    }

    @Test func malformedWAV() throws {
        expectDataError(fileSuffix: "truncated-chunk.wav", message: "chunk 'data' at byte 36 declares 400 bytes, only 20 remain") {
            _ = try WAVFile.read(fixture("truncated-chunk.wav"))
        }
        let good = [UInt8](try Data(contentsOf: fixture("stereo16.wav")))
        expectDataError(fileSuffix: "cut.wav", message: "RIFF header declares 80 bytes, file has 70") {
            _ = try WAVFile.read(bytes: Array(good.prefix(70)), file: "cut.wav")
        }
        expectDataError(fileSuffix: "x.wav", message: "not a WAVE file") {
            _ = try WAVFile.read(bytes: Array("RIFX\0\0\0\0WAVE".utf8), file: "x.wav")
        }
        var adpcm = good
        adpcm[20] = 2
        expectDataError(fileSuffix: "x.wav", message: "unsupported WAVE format code 2") {
            _ = try WAVFile.read(bytes: adpcm, file: "x.wav")
        }
        for n in 0..<good.count { _ = try? WAVFile.read(bytes: Array(good.prefix(n)), file: "cut.wav") }
        var g = SeededGenerator(seed: 3)
        for _ in 0..<500 {
            var b = good
            b[Int(g.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: g.next())
            _ = try? WAVFile.read(bytes: b, file: "fuzz.wav")
        }
    }
}
