import MonaTensor

/// How series of different lengths become one [N, C, L] tensor.
///
/// The policy applies to every series, including files whose series all have the same length, so that
/// `resample(length: 128)` always yields L = 128.
public enum SeriesLengthPolicy: Sendable, Equatable {
    /// All series (every channel of every sample) must have the same length; otherwise loading fails.
    case requireEqual
    /// Pad each channel by repeating its last value up to `length`, or up to the longest series when `length`
    /// is nil. A series longer than `length` is an error (use `resample` to shorten).
    case padWithLastValue(length: Int? = nil)
    /// Resample each channel linearly to `length` points: output point j sits at position j·(n−1)/(length−1)
    /// of the n input points (both end points kept; a single input point is repeated).
    case resample(length: Int)
}

/// What to do with missing values (`?` or `NaN` in the file).
public enum MissingValuePolicy: Sendable, Equatable {
    /// Fill gaps by linear interpolation between the nearest observed neighbours in the same channel; leading or
    /// trailing gaps take the nearest observed value (so NaN-padded variable-length UCR rows are padded with their
    /// last value). A channel with no observed value at all is an error.
    case interpolate
    /// Any missing value is an error naming its line.
    case error
}

/// Options shared by the time-series loaders (`.ts`, UCR text, ARFF).
public struct SeriesLoadOptions: Sendable, Equatable {
    public var length: SeriesLengthPolicy
    public var missing: MissingValuePolicy

    /// Defaults: pad with the last value to the longest series; interpolate missing values.
    public init(length: SeriesLengthPolicy = .padWithLastValue(), missing: MissingValuePolicy = .interpolate) {
        self.length = length
        self.missing = missing
    }
}

/// Collects the raw cases of a series file (each a list of channels, each a list of values, NaN = missing) and
/// turns them into a [N, C, L] tensor under the load options.
struct SeriesAssembler {
    let file: String
    private(set) var cases: [[[Float]]] = []
    private(set) var lines: [Int] = []

    init(file: String) { self.file = file }

    /// Adds one case; every case must have the same number of channels.
    mutating func append(_ channels: [[Float]], line: Int) throws {
        if let first = cases.first, first.count != channels.count {
            throw DataError(file: file, line: line,
                            "case has \(channels.count) dimensions, earlier cases have \(first.count)")
        }
        for (d, ch) in channels.enumerated() where ch.isEmpty {
            throw DataError(file: file, line: line, "dimension \(d) of the case has no values")
        }
        cases.append(channels)
        lines.append(line)
    }

    func tensor(options: SeriesLoadOptions) throws -> Tensor {
        let n = cases.count
        let c = cases.first?.count ?? 0
        var filled = cases
        for i in 0..<n {
            for d in 0..<c {
                try fillMissing(&filled[i][d], policy: options.missing, line: lines[i], channel: d)
            }
        }
        let lengths = filled.flatMap { $0.map(\.count) }
        let longest = lengths.max() ?? 0
        let target: Int
        switch options.length {
        case .requireEqual:
            for i in 0..<n {
                for d in 0..<c where filled[i][d].count != filled[0][0].count {
                    throw DataError(file: file, line: lines[i],
                                    "dimension \(d) has length \(filled[i][d].count), the first series has "
                                    + "\(filled[0][0].count) (unequal lengths: choose padWithLastValue or resample)")
                }
            }
            target = longest
        case .padWithLastValue(let length):
            if let length {
                guard length >= 1 else { throw DataError(file: file, "padding length must be ≥ 1, got \(length)") }
                for i in 0..<n {
                    for d in 0..<c where filled[i][d].count > length {
                        throw DataError(file: file, line: lines[i],
                                        "dimension \(d) has length \(filled[i][d].count), longer than the padding "
                                        + "length \(length) (use resample to shorten)")
                    }
                }
            }
            target = length ?? longest
        case .resample(let length):
            guard length >= 1 else { throw DataError(file: file, "resample length must be ≥ 1, got \(length)") }
            target = length
        }
        var flat = [Float](repeating: 0, count: n * c * target)
        var o = 0
        for i in 0..<n {
            for d in 0..<c {
                let s = filled[i][d]
                if case .resample = options.length {
                    resampleLinearly(s, into: &flat, at: o, length: target)
                } else {
                    for j in 0..<target { flat[o + j] = j < s.count ? s[j] : s[s.count - 1] }
                }
                o += target
            }
        }
        return Tensor(flat, shape: [n, c, target])
    }

    private func fillMissing(_ s: inout [Float], policy: MissingValuePolicy, line: Int, channel: Int) throws {
        guard s.contains(where: { $0.isNaN }) else { return }
        if policy == .error {
            let at = s.firstIndex(where: { $0.isNaN })!
            throw DataError(file: file, line: line,
                            "missing value at position \(at) of dimension \(channel) (missing-value policy: error)")
        }
        guard let firstObserved = s.firstIndex(where: { !$0.isNaN }) else {
            throw DataError(file: file, line: line, "dimension \(channel) has only missing values")
        }
        for j in 0..<firstObserved { s[j] = s[firstObserved] }
        var last = firstObserved
        var j = firstObserved + 1
        while j < s.count {
            if s[j].isNaN {
                var k = j
                while k < s.count && s[k].isNaN { k += 1 }
                if k == s.count {
                    for m in j..<k { s[m] = s[last] }
                } else {
                    let a = s[last], b = s[k], span = Float(k - last)
                    for m in j..<k { s[m] = a + (b - a) * Float(m - last) / span }
                }
                j = k
            } else {
                last = j
                j += 1
            }
        }
    }
}

/// Linear resampling of `s` (n ≥ 1 points) to `length` points written at `out[offset...]`.
func resampleLinearly(_ s: [Float], into out: inout [Float], at offset: Int, length: Int) {
    let n = s.count
    if n == 1 || length == 1 {
        for j in 0..<length { out[offset + j] = s[0] }
        return
    }
    let scale = Double(n - 1) / Double(length - 1)
    for j in 0..<length {
        let pos = Double(j) * scale
        let lo = min(Int(pos), n - 1)
        let hi = min(lo + 1, n - 1)
        let w = Float(pos - Double(lo))
        out[offset + j] = s[lo] + (s[hi] - s[lo]) * w
    }
}
