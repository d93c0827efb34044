/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Same seed → same stream on every platform and run: nothing here depends on the system RNG or on threads.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    @inline(__always) static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = SeededGenerator.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = SeededGenerator.rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits (exactly representable in Float32).
    @inline(__always) public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, 1) as Double with 53 random bits.
    @inline(__always) public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Standard normal (Box–Muller in Double, so the stream is platform-independent).
    public mutating func nextNormal() -> Double {
        let u1 = max(nextUnitDouble(), 1e-300)
        let u2 = nextUnitDouble()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// A derived generator, e.g. one per epoch or per worker, independent of how much this one was used.
    public func forked(_ stream: UInt64) -> SeededGenerator {
        SeededGenerator(seed: s.0 ^ (stream &* 0x9E37_79B9_7F4A_7C15) ^ s.2)
    }
}
