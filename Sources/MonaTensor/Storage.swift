#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed-size, 64-byte-aligned Float32 buffer.
///
/// Storage is written only while a tensor is being produced (or through copy-on-write in `Tensor`), so sharing
/// it between threads after that is safe.
public final class TensorStorage: @unchecked Sendable {
    public let count: Int
    public let base: UnsafeMutablePointer<Float>

    public init(count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            fatalError("TensorStorage: cannot allocate \(bytes) bytes")
        }
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        TensorStorage.liveBytes.add(bytes)
    }

    /// Zero-filled storage.
    public convenience init(zeros count: Int) {
        self.init(count: count)
        base.initialize(repeating: 0, count: count)
    }

    deinit {
        TensorStorage.liveBytes.add(-(max(count, 1) * MemoryLayout<Float>.stride))
        free(base)
    }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }

    /// Bytes currently held by all tensor storages (for memory-leak checks and benchmarks).
    public static let liveBytes = AtomicCounter()
}

/// A lock-protected counter (cheap enough for per-allocation accounting).
public final class AtomicCounter: @unchecked Sendable {
    private var value = 0
    private var highWater = 0
    private var lock = pthread_mutex_t()
    init() { pthread_mutex_init(&lock, nil) }
    func add(_ delta: Int) {
        pthread_mutex_lock(&lock)
        value += delta
        if value > highWater { highWater = value }
        pthread_mutex_unlock(&lock)
    }
    public var current: Int {
        pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
        return value
    }
    /// The largest value since the last `resetPeak()` (benchmarks: peak tensor memory of one step).
    public var peak: Int {
        pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
        return highWater
    }
    /// Starts a new peak measurement from the current value.
    public func resetPeak() {
        pthread_mutex_lock(&lock); highWater = value; pthread_mutex_unlock(&lock)
    }
}
