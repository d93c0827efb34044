#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Learning-rate multiplier as a function of the step (0-based); multiply the base rate by it.
public protocol LearningRateSchedule: Sendable {
    func factor(at step: Int) -> Float
}

/// Linear warm-up from 0 to 1 over `warmupSteps`, then linear decay to `finalFactor` at `totalSteps`
/// (Hugging Face `get_linear_schedule_with_warmup` with finalFactor 0).
public struct LinearWarmupDecay: LearningRateSchedule {
    public var warmupSteps: Int, totalSteps: Int, finalFactor: Float
    public init(warmupSteps: Int, totalSteps: Int, finalFactor: Float = 0) {
        self.warmupSteps = warmupSteps; self.totalSteps = totalSteps; self.finalFactor = finalFactor
    }
    public func factor(at step: Int) -> Float {
        if step < warmupSteps { return Float(step + 1) / Float(max(1, warmupSteps)) }
        let span = max(1, totalSteps - warmupSteps)
        let t = min(1, Float(step - warmupSteps) / Float(span))
        return 1 - (1 - finalFactor) * t
    }
}

/// Linear warm-up, then cosine decay to `finalFactor`.
public struct CosineSchedule: LearningRateSchedule {
    public var warmupSteps: Int, totalSteps: Int, finalFactor: Float
    public init(warmupSteps: Int = 0, totalSteps: Int, finalFactor: Float = 0) {
        self.warmupSteps = warmupSteps; self.totalSteps = totalSteps; self.finalFactor = finalFactor
    }
    public func factor(at step: Int) -> Float {
        if step < warmupSteps { return Float(step + 1) / Float(max(1, warmupSteps)) }
        let t = min(1, Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps)))
        return finalFactor + (1 - finalFactor) * Float(0.5 * (1 + cos(Double.pi * t)))
    }
}

/// Multiply by `gamma` every `stepSize` steps.
public struct StepSchedule: LearningRateSchedule {
    public var stepSize: Int, gamma: Float
    public init(stepSize: Int, gamma: Float = 0.1) { self.stepSize = stepSize; self.gamma = gamma }
    public func factor(at step: Int) -> Float { Float(pow(Double(gamma), Double(step / max(1, stepSize)))) }
}

/// Constant 1.
public struct ConstantSchedule: LearningRateSchedule {
    public init() {}
    public func factor(at step: Int) -> Float { 1 }
}
