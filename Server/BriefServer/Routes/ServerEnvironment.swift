import BriefModel
import BriefToken
import Logging

/// What every route needs, built once by ``buildApplication(configuration:store:clock:waitClock:registry:logger:)``.
struct ServerEnvironment: Sendable {
    let configuration: ServerConfiguration
    let store: any DeltaStore
    let clock: any WallClock
    let tokens: ChangeTokenCodec
    let notifier: ChangeNotifier
    let sessions: SessionCache
    let upToDate: UpToDateCache
    let limiter: LoginRateLimiter
    let metrics: ServerMetrics
    let applier: PushApplier
    /// SHA-256 of the publisher key, compared with every bearer token's.
    let publisherKeyHash: [UInt8]?
    /// A bcrypt hash of a random password at the configured cost, checked for unknown usernames
    /// so that their answer takes as long as a wrong password's.
    let decoyPasswordHash: String
}

extension ServerEnvironment {
    /// What decides up-to-date polls and long-poll holds, for the routes and the event loop alike.
    var polls: UpToDatePollResponder { UpToDatePollResponder(notifier: notifier, cache: upToDate) }

    /// How often a session's last use is written: it is kept to the hour, not per request.
    static let touchInterval: Int64 = 60 * 60 * 1000

    /// Stores a new session of the user for `device` and returns its token (shown once; only its
    /// hash is kept) and the id it is listed and revoked by (`id`, a new one unless given).
    func startSession(
        id: String = SessionTokens.makeID(),
        userID: UserID,
        username: String,
        device: DeviceID,
        deviceName: String?,
        scope: SessionScope
    ) async throws -> (token: String, id: String) {
        let (token, hash) = SessionTokens.make()
        try await store.createSession(
            SessionRecord(
                tokenHash: hash,
                id: id,
                userID: userID,
                username: username,
                deviceID: device,
                deviceName: deviceName,
                createdAt: clock.now(),
                scope: scope
            )
        )
        return (token, id)
    }

    /// Whether `session` has gone unused longer than the idle lifetime (`--session-lifetime`).
    func isIdleTooLong(_ session: SessionRecord, now: Int64) -> Bool {
        now - session.lastUsedAt > configuration.sessionIdleLifetime
    }

    /// The session a bearer token's hash names, when it is live: not revoked, and used within
    /// the idle lifetime (`--session-lifetime`), which each use renews.
    func liveSession(tokenHash: [UInt8]) async throws -> SessionRecord? {
        let store = self.store
        guard
            let session = try await sessions.session(
                tokenHash: tokenHash,
                load: { try await store.session(tokenHash: tokenHash) }
            )
        else {
            return nil
        }
        let now = clock.now()
        guard !isIdleTooLong(session, now: now) else {
            return nil  // as if logged out (the row stays until the account goes)
        }
        if now - session.lastUsedAt >= Self.touchInterval {
            try await store.touchSession(tokenHash: tokenHash, now: now)
            sessions.noteUse(tokenHash: tokenHash, at: now)
        }
        return session
    }
}
