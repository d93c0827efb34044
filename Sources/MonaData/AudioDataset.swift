import Foundation
import MonaTensor

extension WAVFile {
    /// An audio-classification dataset of log-mel features: each file is read, mixed to mono and turned into
    /// [melBands, frames] features, stacked as `fields` [N, 1, melBands, frames].
    ///
    /// Every file must have `features.sampleRate` (no resampling is done). Clips give different frame counts:
    /// all are cut or padded to `frames` (default: the longest clip), padding with log(1e-6), the value of
    /// silence. Labels are class names; `classNames` fixes their order (default: sorted distinct labels).
    public static func logMelDataset(name: String, files: [URL], labels: [String], classNames: [String]? = nil,
                                     features: LogMelSpectrogram, frames: Int? = nil) throws -> LabeledDataset {
        guard files.count == labels.count else {
            throw DataError(file: name, "\(files.count) files but \(labels.count) labels")
        }
        guard !files.isEmpty else { throw DataError(file: name, "no audio files") }
        let names = classNames ?? sortedClassNames(Set(labels))
        var index: [String: Int] = [:]
        for (k, s) in names.enumerated() where index[s] == nil { index[s] = k }
        var specs: [Tensor] = []
        var y: [Int] = []
        for (url, label) in zip(files, labels) {
            let clip = try read(url)
            guard clip.sampleRate == features.sampleRate else {
                throw DataError(file: url.path, "sample rate \(clip.sampleRate) Hz, features expect \(features.sampleRate) Hz")
            }
            guard let k = index[label] else {
                throw DataError(file: url.path, "unknown class label \(quoted(label)); known classes \(names)")
            }
            specs.append(features(clip.mono))
            y.append(k)
        }
        let t = frames ?? specs.map { $0.shape[1] }.max()!
        guard t >= 1 else { throw DataError(file: name, "frames must be ≥ 1, got \(t)") }
        let bands = features.melBands
        let silence = Foundation.log(LogMelSpectrogram.floor)
        var flat = [Float](repeating: silence, count: specs.count * bands * t)
        for (i, s) in specs.enumerated() {
            let v = s.scalars, f = s.shape[1]
            for m in 0..<bands {
                for j in 0..<min(f, t) { flat[(i * bands + m) * t + j] = v[m * f + j] }
            }
        }
        return try LabeledDataset(name: name, inputs: .fields(Tensor(flat, shape: [specs.count, 1, bands, t])),
                                  targets: .classes(y, names: names))
    }
}
