import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replacing files so that a reader (or a run killed half-way) never sees a partial file.
///
/// The bytes go to a temporary file in the destination's directory, are flushed to disk (`fsync`) and the
/// temporary file is renamed over the destination — an atomic step on POSIX file systems. On any failure the
/// temporary file is removed and the previous file, if there was one, is left as it was.
public enum AtomicFile {
    /// Writes `data` to `url` atomically, creating missing parent directories.
    public static func write(_ data: Data, to url: URL) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RunError(file: path, "cannot create the directory \(directory.path) (\(describe(error)))")
        }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let temp = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(suffix)").path
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RunError(file: path, "cannot create a temporary file in \(directory.path) (\(POSIX.lastError))")
        }
        var renamed = false
        defer { if !renamed { unlink(temp) } }

        let written = data.withUnsafeBytes { POSIX.writeAll(fd, $0) }
        let failure: String? =
            !written ? "write failed (\(POSIX.lastError))"
            : fsync(fd) != 0 ? "fsync failed (\(POSIX.lastError))"
            : nil
        let closed = close(fd) == 0
        if let failure { throw RunError(file: path, failure) }
        guard closed else { throw RunError(file: path, "close failed (\(POSIX.lastError))") }
        guard rename(temp, path) == 0 else {
            throw RunError(file: path, "cannot replace the file (\(POSIX.lastError))")
        }
        renamed = true
        syncDirectory(directory.path)
    }

    /// Writes `text` as UTF-8 to `url` atomically, creating missing parent directories.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Flushes the directory entry so the rename itself survives a crash (best effort: some file systems refuse).
    private static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

/// A short description of a Foundation error without its domain boilerplate.
func describe(_ error: Error) -> String { describeIOError(error) }

/// One line for an I/O failure: the operating system's words for POSIX causes ("No space left on device",
/// "Permission denied") instead of Foundation's "The operation could not be completed", and the error's own
/// description for this project's error types (never "FormatError error 1").
public func describeIOError(_ error: Error) -> String {
    if let error = error as? RunError { return error.message }
    if let error = error as? POSIXError { return String(cString: strerror(error.code.rawValue)) }
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    if ns.domain == NSCocoaErrorDomain { return ns.localizedDescription }
    return String(describing: error)
}

extension RunError: LocalizedError {
    public var errorDescription: String? { message }
}
