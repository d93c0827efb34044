// + − × ÷ with NumPy broadcasting. The gradient of a broadcast operand is summed back to its shape.

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = binaryMap(a, b, op: "add", { $0 + $1 }, { $0 + $1 })
        return record(out, op: .add, inputs: [a, b]) { g, c in
            [c.needsGradient[0] ? g.sum(toShape: a.shape) : nil,
             c.needsGradient[1] ? g.sum(toShape: b.shape) : nil]
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = binaryMap(a, b, op: "sub", { $0 - $1 }, { $0 - $1 })
        return record(out, op: .sub, inputs: [a, b]) { g, c in
            [c.needsGradient[0] ? g.sum(toShape: a.shape) : nil,
             c.needsGradient[1] ? (-g).sum(toShape: b.shape) : nil]
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = binaryMap(a, b, op: "mul", { $0 * $1 }, { $0 * $1 })
        return record(out, op: .mul, inputs: [a, b]) { g, c in
            [c.needsGradient[0] ? (g * b).sum(toShape: a.shape) : nil,
             c.needsGradient[1] ? (g * a).sum(toShape: b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = binaryMap(a, b, op: "div", { $0 / $1 }, { $0 / $1 })
        return record(out, op: .div, inputs: [a, b]) { g, c in
            [c.needsGradient[0] ? (g / b).sum(toShape: a.shape) : nil,
             c.needsGradient[1] ? (-(g * a) / (b * b)).sum(toShape: b.shape) : nil]
        }
    }

    public static prefix func - (a: Tensor) -> Tensor {
        let out = unaryMap(a, { -$0 }, { -$0 })
        return record(out, op: .neg, inputs: [a]) { g, _ in [-g] }
    }

    // Scalar conveniences (the scalar is a constant).
    public static func + (a: Tensor, s: Float) -> Tensor {
        let out = unaryMap(a, { $0 + SIMD8(repeating: s) }, { $0 + s })
        return record(out, op: .addScalar, inputs: [a]) { g, _ in [g] }
    }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func - (s: Float, a: Tensor) -> Tensor { (-a) + s }
    public static func * (a: Tensor, s: Float) -> Tensor {
        let out = unaryMap(a, { $0 * SIMD8(repeating: s) }, { $0 * s })
        return record(out, op: .mulScalar, inputs: [a]) { g, _ in [g * s] }
    }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    public static func / (s: Float, a: Tensor) -> Tensor { Tensor(s) / a }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
}
