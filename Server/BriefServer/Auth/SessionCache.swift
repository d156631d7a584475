import NIOConcurrencyHelpers

/// Sessions this instance looked up recently, so that the lookup every authenticated request
/// makes does not reach the database each time.
///
/// An entry is believed for `lifetime` milliseconds of the server's clock. Logging out through
/// this instance forgets the session at once. A session revoked through *another* instance (or in
/// the database by hand) is still accepted here until its entry expires: that delay is the price,
/// set with `--session-cache` (default `5s`; `0s` looks every request up). Unknown tokens are
/// never cached, so a new session works at once everywhere.
final class SessionCache: Sendable {
    private struct Entry {
        let session: SessionRecord
        let expires: Int64
    }

    private let entries = NIOLockedValueBox([[UInt8]: Entry]())
    private let lifetime: Int64
    private let capacity: Int
    private let clock: any WallClock

    /// - Parameters:
    ///   - lifetime: Milliseconds an entry is believed; 0 turns the cache off.
    ///   - capacity: Entries kept at most; when full, expired ones go first, then all of them.
    init(lifetime: Int64, capacity: Int = 100_000, clock: any WallClock) {
        self.lifetime = lifetime
        self.capacity = capacity
        self.clock = clock
    }

    /// The live session with this token hash: from the cache while its entry is fresh, otherwise
    /// from `load`, whose answer is kept.
    func session(
        tokenHash: [UInt8],
        load: () async throws -> SessionRecord?
    ) async throws -> SessionRecord? {
        guard lifetime > 0 else {
            return try await load()
        }
        if let session = cached(tokenHash: tokenHash) {
            return session
        }
        guard let session = try await load() else {
            forget(tokenHash: tokenHash)
            return nil
        }
        let now = clock.now()
        entries.withLockedValue { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= capacity {
                    entries.removeAll(keepingCapacity: true)
                }
            }
            entries[tokenHash] = Entry(session: session, expires: now + lifetime)
        }
        return session
    }

    /// The session with this token hash if the cache holds it fresh; never looks it up. Polls
    /// answered on the event loop (``UpToDatePollHandler``) use it, since they cannot wait for
    /// the store.
    func cached(tokenHash: [UInt8]) -> SessionRecord? {
        guard lifetime > 0, let entry = entries.withLockedValue({ $0[tokenHash] }), entry.expires > clock.now() else {
            return nil
        }
        return entry.session
    }

    /// Drops a session (it was logged out here).
    func forget(tokenHash: [UInt8]) {
        _ = entries.withLockedValue { $0.removeValue(forKey: tokenHash) }
    }
}
