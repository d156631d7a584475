import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files created for their owner alone: the SQLite files of both stores (a server's database, a
/// device's store) and a device's session, which hold password hashes and sessions, or a reader's
/// history, queued edits and bearer token.
public enum PrivateFile {
    /// Creates an empty file at `path` with mode 0600 unless one exists. The mode is given to
    /// `open(2)`, so the file is never readable by others, not even for a moment; SQLite then
    /// gives the `-wal` and `-shm` files it makes beside it the same permissions.
    /// - Throws: `POSIXError` when the file can be neither created nor found.
    public static func create(atPath path: String) throws {
        let descriptor = systemOpen(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST {
                return
            }
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        close(descriptor)
    }

    private static func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
        #if canImport(Glibc)
            Glibc.open(path, flags, mode)
        #else
            Darwin.open(path, flags, mode)
        #endif
    }
}

extension PrivateFile {
    /// Replaces the file at `path` with `data`, atomically (a temporary file beside it, renamed),
    /// the new file 0600 from its creation.
    public static func write(_ data: Data, atomicallyTo path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        _ = unlink(temporary)
        try create(atPath: temporary)
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
            guard rename(temporary, path) == 0 else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        } catch {
            _ = unlink(temporary)
            throw error
        }
    }
}
