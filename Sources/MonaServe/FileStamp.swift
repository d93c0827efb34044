import Foundation

/// What `stat` says of a file or folder: enough to tell that it changed (replaced, rewritten, appended, or for
/// a folder an entry added or removed). One reading of the modification time for the runs table's caches.
struct FileStamp: Equatable {
    var device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int

    /// nil when the path does not exist or is not of `type` (`S_IFREG`, `S_IFDIR`); a symbolic link is followed
    /// unless `followingLinks` is false (then a link is not of either type).
    init?(_ path: String, type: mode_t = S_IFREG, followingLinks: Bool = true) {
        var info = stat()
        guard (followingLinks ? stat(path, &info) : lstat(path, &info)) == 0, (info.st_mode & S_IFMT) == type else {
            return nil
        }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        #if canImport(Darwin)
        seconds = info.st_mtimespec.tv_sec
        nanoseconds = info.st_mtimespec.tv_nsec
        #else
        seconds = info.st_mtim.tv_sec
        nanoseconds = info.st_mtim.tv_nsec
        #endif
    }

    /// Modification time, seconds since 1970.
    var modified: Double { Double(seconds) + Double(nanoseconds) / 1e9 }
}
