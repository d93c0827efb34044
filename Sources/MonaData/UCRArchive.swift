import Foundation
import MonaTensor

/// Loads a UCR/UEA problem stored as `<Name>_TRAIN.<ext>` and `<Name>_TEST.<ext>` in one directory.
public enum UCRArchive {
    /// File extensions tried, in this order.
    public static let extensions = ["ts", "arff", "txt", "tsv"]

    /// The training and test sets of `name` from `directory`, with the test set's class indices expressed in the
    /// training set's classes (a test class that training does not know is an error). Both files must use the same
    /// format; the first extension of `extensions` for which the training file exists is used. With the default
    /// `padWithLastValue()` policy both sets are padded to the longest series of either file, so they share L.
    public static func load(name: String, directory: URL,
                            options: SeriesLoadOptions = SeriesLoadOptions()) throws -> (train: LabeledDataset, test: LabeledDataset) {
        let fm = FileManager.default
        for ext in extensions {
            let trainURL = directory.appendingPathComponent("\(name)_TRAIN.\(ext)")
            guard fm.fileExists(atPath: trainURL.path) else { continue }
            let testURL = directory.appendingPathComponent("\(name)_TEST.\(ext)")
            guard fm.fileExists(atPath: testURL.path) else {
                throw DataError(file: testURL.path, "test file missing (training file \(trainURL.lastPathComponent) exists)")
            }
            var train: LabeledDataset, test: LabeledDataset
            switch ext {
            case "ts":
                train = try TSFile.load(trainURL, options: options)
                test = try TSFile.load(testURL, options: options)
            case "arff":
                train = try ARFFFile.load(trainURL, options: options)
                test = try ARFFFile.load(testURL, options: options)
            default:
                train = try UCRTextFile.load(trainURL, options: options)
                test = try UCRTextFile.load(testURL, classNames: train.classNames, options: options)
            }
            if options.length == .padWithLastValue(length: nil), let a = train.inputTensor, let b = test.inputTensor,
               a.shape[2] != b.shape[2] {
                let length = max(a.shape[2], b.shape[2])
                train = try train.replacingInputs(.series(padWithLastValue(a, to: length)))
                test = try test.replacingInputs(.series(padWithLastValue(b, to: length)))
            }
            guard let names = train.classNames else { return (train, test) }
            do {
                return (train, try test.remappingClasses(to: names))
            } catch let e as DataError {
                throw DataError(file: testURL.path, e.message)
            }
        }
        throw DataError(file: directory.path, "no \(name)_TRAIN file with extension \(extensions)")
    }
}

/// Extends every row of x [N, C, L] to `length` by repeating its last value (which, for series already padded
/// with their last value, is the same as having padded them to `length` in the first place).
func padWithLastValue(_ x: Tensor, to length: Int) -> Tensor {
    let rows = x.shape[0] * x.shape[1], l = x.shape[2]
    if l == length { return x }
    return x.withUnsafeBufferPointer { src in
        Tensor.build([x.shape[0], x.shape[1], length]) { dst in
            for r in 0..<rows {
                for j in 0..<length { dst[r * length + j] = src[r * l + min(j, l - 1)] }
            }
        }
    }
}
