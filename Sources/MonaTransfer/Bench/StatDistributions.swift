import Foundation

/// The distribution functions the benchmark's tests need, in Double: the standard normal, chi-square and F
/// survival functions (through the regularised incomplete gamma and beta functions) and the studentized range
/// for infinite degrees of freedom (Nemenyi's critical values).
public enum StatDistributions {
    /// Φ(x), the standard normal CDF; erfc keeps the far tails accurate (Φ(−10) ≈ 7.6e-24, not 0).
    public static func normalCDF(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }

    /// P(a, x) = γ(a, x) / Γ(a), the regularised lower incomplete gamma function (a > 0, x ≥ 0).
    public static func regularizedGammaP(_ a: Double, _ x: Double) -> Double {
        guard a > 0, x >= 0, a.isFinite, !x.isNaN else { return .nan }
        if x == 0 { return 0 }
        if x == .infinity { return 1 }
        return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x)
    }

    /// Q(a, x) = 1 − P(a, x), computed directly in the upper tail so small p-values keep their digits.
    public static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        guard a > 0, x >= 0, a.isFinite, !x.isNaN else { return .nan }
        if x == 0 { return 1 }
        if x == .infinity { return 0 }
        return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x)
    }

    /// The series Σ xⁿ / (a(a+1)…(a+n)) · e^(−x) x^a / Γ(a) for P; converges fast for x < a + 1.
    static func gammaSeries(_ a: Double, _ x: Double) -> Double {
        var term = 1 / a, sum = term, ap = a
        for _ in 0..<10_000 {
            ap += 1
            term *= x / ap
            sum += term
            if abs(term) < abs(sum) * 1e-16 { break }
        }
        return sum * exp(-x + a * log(x) - lgamma(a))
    }

    /// Q by Legendre's continued fraction, evaluated with the modified Lentz method; for x ≥ a + 1.
    static func gammaContinuedFraction(_ a: Double, _ x: Double) -> Double {
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1..<10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return exp(-x + a * log(x) - lgamma(a)) * h
    }

    /// P(χ²_df > x), the chi-square survival function.
    public static func chiSquareSurvival(_ x: Double, degreesOfFreedom df: Double) -> Double {
        guard df > 0, !x.isNaN else { return .nan }
        if x <= 0 { return 1 }
        return regularizedGammaQ(df / 2, x / 2)
    }

    /// I_x(a, b), the regularised incomplete beta function (a, b > 0, 0 ≤ x ≤ 1).
    public static func regularizedBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        guard a > 0, b > 0, x >= 0, x <= 1 else { return .nan }
        if x == 0 { return 0 }
        if x == 1 { return 1 }
        let front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x))
        // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
        if x < (a + 1) / (a + b + 2) { return front * betaContinuedFraction(x, a, b) / a }
        return 1 - front * betaContinuedFraction(1 - x, b, a) / b
    }

    /// The continued fraction of I_x(a, b) (modified Lentz).
    static func betaContinuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for step in 1..<10_000 {
            let m = Double(step), m2 = 2 * m
            var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return h
    }

    /// P(F_{d1,d2} > x), the F survival function: I_{d2/(d2 + d1 x)}(d2/2, d1/2).
    public static func fSurvival(_ x: Double, _ d1: Double, _ d2: Double) -> Double {
        guard d1 > 0, d2 > 0, !x.isNaN else { return .nan }
        if x <= 0 { return 1 }
        if x == .infinity { return 0 }
        return regularizedBeta(d2 / (d2 + d1 * x), d2 / 2, d1 / 2)
    }

    /// P(Q ≤ q) for the range Q of k independent standard normals (the studentized range with infinite degrees
    /// of freedom): k ∫ φ(z) [Φ(z) − Φ(z − q)]^(k−1) dz, by composite Simpson over z ∈ [−8.5, 8.5 + q], where
    /// the integrand is below 1e-16 outside (step 0.005: error far below the 1e-9 the critical values need).
    public static func rangeCDF(_ q: Double, groups k: Int) -> Double {
        guard k >= 2, !q.isNaN else { return .nan }
        if q <= 0 { return 0 }
        if q == .infinity { return 1 }
        let lo = -8.5, hi = 8.5 + q
        let intervals = 2 * Int(((hi - lo) / 0.01).rounded(.up))   // even, step ≤ 0.005
        let h = (hi - lo) / Double(intervals)
        let norm = 1 / (2 * Double.pi).squareRoot()
        func f(_ z: Double) -> Double {
            let inside = normalCDF(z) - normalCDF(z - q)
            return norm * exp(-z * z / 2) * pow(max(inside, 0), Double(k - 1))
        }
        var sum = f(lo) + f(hi)
        for i in 1..<intervals { sum += f(lo + Double(i) * h) * (i % 2 == 1 ? 4 : 2) }
        return min(1, Double(k) * sum * h / 3)
    }

    /// The (1 − α) quantile of the range of k standard normals, by bisection on `rangeCDF` (to 1e-10).
    public static func rangeQuantile(alpha: Double, groups k: Int) -> Double {
        guard k >= 2, alpha > 0, alpha < 1 else { return .nan }
        var lo = 0.0, hi = 1.0
        while rangeCDF(hi, groups: k) < 1 - alpha && hi < 100 { hi *= 2 }
        for _ in 0..<80 {
            let mid = (lo + hi) / 2
            if rangeCDF(mid, groups: k) < 1 - alpha { lo = mid } else { hi = mid }
            if hi - lo < 1e-10 { break }
        }
        return (lo + hi) / 2
    }
}
