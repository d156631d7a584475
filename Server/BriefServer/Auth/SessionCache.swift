import NIOConcurrencyHelpers

/// Sessions this instance looked up recently, so that the lookup every authenticated request
/// makes does not reach the database each time.
///
/// An entry is believed for `lifetime` milliseconds of the server's clock. Logging out through
/// this instance forgets the session at once. A session revoked through *another* instance (or in
/// the database by hand) is still accepted here until its entry expires: that delay is the price,
/// set with `--session-cache` (default `5s`; `0s` looks every request up). Unknown tokens are
/// never cached, so a new session works at once everywhere.
///
/// A revocation here takes effect at once even against a lookup already in flight: the token is
/// marked revoked for a while (``revocationMemory``), and a lookup that returns after the mark is
/// neither believed nor kept.
final class SessionCache: Sendable {
    private struct Entry {
        let session: SessionRecord
        let expires: Int64
    }

    private let entries = NIOLockedValueBox([[UInt8]: Entry]())
    /// Tokens revoked here, with when: longer than any lookup can take.
    private let revoked = NIOLockedValueBox([[UInt8]: Int64]())
    /// How long a revocation is remembered, in milliseconds.
    static let revocationMemory: Int64 = 5 * 60 * 1000
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
            _ = entries.withLockedValue { $0.removeValue(forKey: tokenHash) }
            return nil
        }
        if revoked.withLockedValue({ $0[tokenHash] != nil }) {
            return nil  // revoked here while the lookup was under way
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
    ///
    /// - Parameter usedWithin: When given, a session last used longer ago than this many
    ///   milliseconds is not answered (its renewal or expiry is the routes' to decide).
    func cached(tokenHash: [UInt8], usedWithin: Int64? = nil) -> SessionRecord? {
        let now = clock.now()
        guard lifetime > 0, let entry = entries.withLockedValue({ $0[tokenHash] }), entry.expires > now else {
            return nil
        }
        if let usedWithin, now - entry.session.lastUsedAt >= usedWithin {
            return nil
        }
        return entry.session
    }

    /// Drops a session revoked here (logged out, revoked, its password changed, its account
    /// deleted): from now on it is not believed, even from a lookup that started before.
    func forget(tokenHash: [UInt8]) {
        let now = clock.now()
        revoked.withLockedValue { revoked in
            if revoked.count >= capacity {
                revoked = revoked.filter { $0.value > now - Self.revocationMemory }
            }
            revoked[tokenHash] = now
        }
        _ = entries.withLockedValue { $0.removeValue(forKey: tokenHash) }
    }

    /// Notes a use of a cached session at `now`, so that its entry says when it was last used.
    func noteUse(tokenHash: [UInt8], at now: Int64) {
        entries.withLockedValue { entries in
            if var entry = entries[tokenHash] {
                var session = entry.session
                session.lastUsedAt = now
                entry = Entry(session: session, expires: entry.expires)
                entries[tokenHash] = entry
            }
        }
    }
}
