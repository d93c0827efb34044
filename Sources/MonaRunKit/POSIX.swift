import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the POSIX calls the run kit needs (the module's own `write` names shadow libc's).
enum POSIX {
    /// The text of the current `errno`.
    static var lastError: String { String(cString: strerror(errno)) }

    /// Writes every byte of `buffer` to `fd`, retrying on EINTR and short writes.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        guard var base = buffer.baseAddress else { return true }
        var remaining = buffer.count
        while remaining > 0 {
            #if canImport(Darwin)
            let n = Darwin.write(fd, base, remaining)
            #elseif canImport(Musl)
            let n = Musl.write(fd, base, remaining)
            #else
            let n = Glibc.write(fd, base, remaining)
            #endif
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            remaining -= n
            base += n
        }
        return true
    }

    /// Whether `fd` is a terminal.
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// The terminal's width in columns, if `fd` is a terminal that reports one.
    static func terminalColumns(_ fd: Int32) -> Int? {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Whether a process with this id exists on this machine (EPERM means it exists but is not ours).
    static func processExists(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    static var processID: Int32 { getpid() }

    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
