extension String {
    /// The text with each Unicode scalar replaced by `replacement(scalar)` where that is not nil, the rest kept.
    /// The one escaping loop behind JSON strings, XML text and Markdown link targets: each passes its own table.
    public func escapingScalars(_ replacement: (Unicode.Scalar) -> String?) -> String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            if let r = replacement(scalar) { out += r } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }
}
