import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading whole files (memory-mapped) and replacing files atomically.
enum FileIO {
    /// The file's bytes, memory-mapped so that large checkpoints are not copied before conversion.
    static func mappedContents(of url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw FormatError(file: url.path, "cannot read the file (\(describe(error)))")
        }
    }

    /// The first `count` bytes of a file (fewer if it is shorter), without reading the rest.
    static func prefix(of url: URL, count: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw FormatError(file: url.path, "cannot open the file")
        }
        defer { try? handle.close() }
        do {
            return Array(try handle.read(upToCount: count) ?? Data())
        } catch {
            throw FormatError(file: url.path, "cannot read the file (\(describe(error)))")
        }
    }

    /// Writes a file by streaming `body`'s chunks into a temporary file in the same directory, flushing it and
    /// renaming it over `url`, so readers never see a half-written file and a failure leaves the old one intact.
    static func writeAtomically(to url: URL, _ body: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        let temp = (directory.isEmpty ? "." : directory) + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw FormatError(file: path, "cannot create a temporary file in \(directory) (\(String(cString: strerror(errno))))")
        }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(temp) }
        }
        try body { chunk in
            var done = 0
            while done < chunk.count {
                let n = posixWrite(fd, chunk.baseAddress! + done, chunk.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FormatError(file: path, "write failed (\(String(cString: strerror(errno))))")
                }
                done += n
            }
        }
        guard fsync(fd) == 0 else { throw FormatError(file: path, "fsync failed (\(String(cString: strerror(errno))))") }
        closed = true
        guard close(fd) == 0 else { throw FormatError(file: path, "close failed (\(String(cString: strerror(errno))))") }
        guard rename(temp, path) == 0 else {
            throw FormatError(file: path, "cannot move the finished file into place (\(String(cString: strerror(errno))))")
        }
        renamed = true
    }

    /// Writes `data` atomically (see `writeAtomically(to:_:)`).
    static func writeAtomically(_ data: Data, to url: URL) throws {
        try writeAtomically(to: url) { write in
            try data.withUnsafeBytes { try write($0) }
        }
    }

    static func describe(_ error: any Error) -> String {
        (error as NSError).localizedDescription
    }
}

@inline(__always) private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    write(fd, p, n)
}

extension Data {
    /// Reads a little-endian integer at `offset` (caller checks bounds).
    func littleEndianInteger<T: FixedWidthInteger>(at offset: Int, as: T.Type) -> T {
        withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
