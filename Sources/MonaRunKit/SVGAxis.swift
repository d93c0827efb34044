import Foundation

/// One chart axis: its domain, scale and tick marks with labels.
struct SVGAxis {
    /// Domain ends, in log10 units for a log axis.
    var lo: Double
    var hi: Double
    var isLog: Bool
    var ticks: [(value: Double, label: String)]

    /// Where `value` falls on the axis, 0 at `lo` and 1 at `hi`.
    func position(_ value: Double) -> Double {
        let t = isLog ? Foundation.log10(value) : value
        return hi > lo ? (t - lo) / (hi - lo) : 0.5
    }

    /// A linear axis covering `values` with about `target` ticks at 1, 2, 2.5 or 5 × 10^k. The domain is the
    /// data range widened by `padding` (a fraction of the range) on each side, and extended to the next tick
    /// when that costs at most 10% of the range, so axes usually end on a round number without wasting space.
    /// `includeZero` keeps 0 in the domain (bars), unpadded when it is the data's end. `values` must be
    /// finite; empty input gives 0...1.
    static func linear(_ values: [Double], includeZero: Bool = false, padding: Double = 0,
                       target: Int = 6) -> SVGAxis {
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if includeZero { lo = min(lo, 0); hi = max(hi, 0) }
        if !(hi > lo) {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            let zeroFloor = includeZero && lo >= 0
            lo -= pad
            hi += pad
            if zeroFloor { lo = 0 }
        }
        let span = hi - lo
        guard span.isFinite else {
            return SVGAxis(lo: lo / 2, hi: hi / 2, isLog: false, ticks: [])
        }
        let paddedLo = includeZero && lo == 0 ? 0 : lo - padding * span
        let paddedHi = includeZero && hi == 0 ? 0 : hi + padding * span
        let step = niceStep((paddedHi - paddedLo) / Double(max(target - 1, 1)))
        let snappedLo = (paddedLo / step).rounded(.down) * step
        let snappedHi = (paddedHi / step).rounded(.up) * step
        let domainLo = paddedLo - snappedLo <= 0.1 * span ? snappedLo : paddedLo
        let domainHi = snappedHi - paddedHi <= 0.1 * span ? snappedHi : paddedHi
        let first = (domainLo / step - 1e-9).rounded(.up), last = (domainHi / step + 1e-9).rounded(.down)
        guard last - first >= 0, last - first <= 100 else {
            return SVGAxis(lo: domainLo, hi: domainHi, isLog: false,
                           ticks: [(domainLo, label(domainLo)), (domainHi, label(domainHi))])
        }
        let values = (0...Int(last - first)).map { i -> Double in
            let v = (first + Double(i)) * step
            return abs(v) < step * 1e-9 ? 0 : v
        }
        return SVGAxis(lo: domainLo, hi: domainHi, isLog: false, ticks: zip(values, labels(values)).map { ($0, $1) })
    }

    /// A log10 axis covering the positive `values`, padded and snapped like `linear` (in decades). Ticks: 1…9
    /// × 10^k when the data spans less than a decade, 1, 2, 5 × 10^k up to 2.5 decades, powers of ten beyond
    /// (every k-th when there are many).
    static func logarithmic(_ values: [Double], padding: Double = 0) -> SVGAxis {
        let positive = values.filter { $0 > 0 && $0.isFinite }
        guard let minValue = positive.min(), let maxValue = positive.max() else {
            return SVGAxis(lo: 0, hi: 1, isLog: true, ticks: [(1, "1"), (10, "10")])
        }
        var lo = Foundation.log10(minValue), hi = Foundation.log10(maxValue)
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        let span = hi - lo
        lo -= padding * span
        hi += padding * span
        if lo - lo.rounded(.down) <= 0.1 * span { lo = lo.rounded(.down) }
        if hi.rounded(.up) - hi <= 0.1 * span { hi = hi.rounded(.up) }

        func ticks(from lo: Double, to hi: Double) -> [Double] {
            let decades = hi - lo
            let mantissas: [Double] = decades < 1 ? [1, 2, 3, 4, 5, 6, 7, 8, 9] : decades <= 2.5 ? [1, 2, 5] : [1]
            let stride = max(1, Int((decades / 6).rounded(.up)))
            var out: [Double] = []
            var k = Int(lo.rounded(.down))
            while Double(k) <= hi {
                if k % stride == 0 {
                    for m in mantissas {
                        let v = m * Foundation.pow(10, Double(k))
                        let t = Foundation.log10(v)
                        if t >= lo - 1e-9 && t <= hi + 1e-9 { out.append(v) }
                    }
                }
                k += 1
            }
            return out
        }
        var tickValues = ticks(from: lo, to: hi)
        if tickValues.count < 2 {
            lo = lo.rounded(.down)
            hi = max(hi.rounded(.up), lo + 1)
            tickValues = ticks(from: lo, to: hi)
        }
        // One style for all labels: plain (0.01, 100) inside 0.001...10^6, otherwise powers written 1e-4, 1e0.
        let plain = tickValues.allSatisfy { $0 >= 1e-3 && $0 < 1e6 }
        return SVGAxis(lo: lo, hi: hi, isLog: true, ticks: tickValues.map { ($0, plain ? label($0) : scientific($0)) })
    }

    /// The "nice" step nearest to `raw` (geometrically): 1, 2, 2.5 or 5 times a power of ten.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = Foundation.pow(10, Foundation.log10(raw).rounded(.down))
        let f = raw / magnitude
        let nice: Double = f < 1.42 ? 1 : f < 2.24 ? 2 : f < 3.54 ? 2.5 : f < 7.08 ? 5 : 10
        return nice * magnitude
    }

    /// Labels for evenly spaced ticks, with the fewest decimals that tell them apart.
    static func labels(_ values: [Double]) -> [String] {
        let largest = values.map(abs).max() ?? 0
        let smallestNonZero = values.map(abs).filter { $0 > 0 }.min() ?? 0
        if largest >= 1e6 || (smallestNonZero > 0 && largest < 1e-3) { return values.map(scientific) }
        var decimals = 0
        while decimals < 8, !values.allSatisfy({ v in
            let scaled = v * Foundation.pow(10, Double(decimals))
            return abs(scaled - scaled.rounded()) < 1e-6 * max(1, abs(scaled))
        }) { decimals += 1 }
        return values.map { fixed($0, decimals: decimals) }
    }

    /// A single value's label: plain for 0.001 ≤ |v| < 10^6, otherwise scientific (`2.5e-5`).
    static func label(_ v: Double) -> String {
        let a = abs(v)
        if v == 0 { return "0" }
        if a >= 1e6 || a < 1e-3 { return scientific(v) }
        var decimals = 0
        while decimals < 8 {
            let scaled = v * Foundation.pow(10, Double(decimals))
            if abs(scaled - scaled.rounded()) < 1e-6 * max(1, abs(scaled)) { break }
            decimals += 1
        }
        return fixed(v, decimals: decimals)
    }

    static func fixed(_ v: Double, decimals: Int) -> String {
        let text = String(format: "%.\(decimals)f", v)
        // "-0" and "-0.00" come from tiny negative rounding; show them as zero.
        if text.hasPrefix("-"), Double(text) == 0 { return String(text.dropFirst()) }
        return text
    }

    /// `1e6`, `2.5e-5`: mantissa with at most three decimals, exponent without padding.
    static func scientific(_ v: Double) -> String {
        guard v != 0, v.isFinite else { return v == 0 ? "0" : "\(v)" }
        var exponent = Foundation.log10(abs(v)).rounded(.down)
        var mantissa = v / Foundation.pow(10, exponent)
        if abs(mantissa).rounded() >= 10 && abs(abs(mantissa) - 10) < 1e-9 { mantissa /= 10; exponent += 1 }
        var m = String(format: "%.3f", mantissa)
        while m.hasSuffix("0") { m.removeLast() }
        if m.hasSuffix(".") { m.removeLast() }
        return "\(m)e\(Int(exponent))"
    }
}
