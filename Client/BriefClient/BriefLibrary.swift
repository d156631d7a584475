import BriefModel
import BriefStore
import Foundation
import GRDB
import Logging

/// The library an app embeds: briefs and the reader's state on the device, usable offline, and
/// kept in step with the server by a ``SyncEngine``.
///
/// Every edit (``markRead(_:)``, ``save(_:)``, ``setProgress(_:_:)``…) is committed locally at
/// once and queued for the server, with or without a network; lists observed through
/// ``observeBriefs(_:)`` update themselves after edits and syncs.
///
/// ```swift
/// let library = try BriefLibrary.open(at: path)
/// try await library.signIn(AccountID(server: url, username: name),
///                          transport: HTTPSyncTransport(baseURL: server, sessionToken: token))
/// try await library.markRead(id)          // offline is fine
/// try await library.sync()                // push, then pull
/// try await library.signOut()             // the account's queued edits are sealed, not sent
/// ```
///
/// **Accounts.** Queued edits and reading state belong to the account that made them. Signing
/// out (online or offline) seals them; they are sent when that account signs in again, never
/// under another, and another account signed in sees none of them. Only
/// ``signOut(discardingPending:)`` with `true` discards them.
public final class BriefLibrary: Sendable {
    /// Settings of the library.
    public struct Configuration: Sendable {
        /// Keep briefs of the last `keepDays` days (plus every saved one); `nil` keeps everything.
        /// A device starting from nothing is sent only those, newest first.
        public var keepDays: Int? = 30
        /// The sync engine's settings.
        public var sync = SyncEngine.Configuration()
        /// The wall clock, in milliseconds since 1970 (injected for tests).
        public var now: @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
        /// Where the library logs.
        public var logger = Logger(label: "briefsync.client")

        public init() {}

        /// The engine's settings, with the window of this library's storage budget.
        var engine: SyncEngine.Configuration {
            var engine = sync
            engine.windowDays = engine.windowDays ?? keepDays
            return engine
        }
    }

    /// The device store underneath, for what the library does not wrap.
    public let store: DeviceStore
    private let configuration: Configuration
    private let engineBox = EngineBox()
    private let nudge: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)

    /// Wraps a store.
    public init(store: DeviceStore, configuration: Configuration = Configuration()) {
        self.store = store
        self.configuration = configuration
        self.nudge = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Opens (creating if needed) the library stored at `path`.
    public static func open(at path: String, configuration: Configuration = Configuration()) throws -> BriefLibrary {
        BriefLibrary(store: try DeviceStore.open(path: path), configuration: configuration)
    }

    /// A library in memory, for tests and previews.
    public static func inMemory(deviceID: DeviceID? = nil, configuration: Configuration = Configuration()) throws
        -> BriefLibrary
    {
        BriefLibrary(store: try DeviceStore(DatabaseQueue(), deviceID: deviceID), configuration: configuration)
    }

    /// The library's wall clock, in milliseconds since 1970.
    public func now() -> Int64 {
        configuration.now()
    }

    // MARK: Reading

    /// The briefs a list shows, newest first.
    public func briefs(_ query: BriefQuery = BriefQuery()) async throws -> [BriefSummary] {
        try await store.briefs(query)
    }

    /// One brief with everything the reader shows and its state; `nil` when not on the device.
    public func brief(_ id: BriefID) async throws -> StoredBrief? {
        try await store.brief(id)
    }

    /// Full-text search; see ``DeviceStore/search(_:limit:)``.
    public func search(_ text: String, limit: Int = 20) async throws -> [SearchHit] {
        try await store.search(text, limit: limit)
    }

    /// Why a brief's reading state is what it shows: see ``DeviceStore/explain(_:)`` and
    /// `ReadState.explanation()` for each field's winning stamp and rule.
    public func explain(_ id: BriefID) async throws -> ReadStateExplanation {
        try await store.explain(id)
    }

    /// A list that yields again whenever it changes.
    public func observeBriefs(_ query: BriefQuery = BriefQuery()) -> AsyncThrowingStream<[BriefSummary], any Error> {
        store.observeBriefs(query)
    }

    /// Where sync stands: pending changes (the signed-in account's, and every account's queue on
    /// this device with its oldest edit), last sync, last error, resync under way, dropped edits.
    public func status() async throws -> SyncStatus {
        try await store.status()
    }

    // MARK: Editing (offline)

    public func markRead(_ id: BriefID) async throws { try await record(.markRead, id) }
    public func markUnread(_ id: BriefID) async throws { try await record(.markUnread, id) }
    public func save(_ id: BriefID) async throws { try await record(.save, id) }
    public func unsave(_ id: BriefID) async throws { try await record(.unsave, id) }
    public func recordOpen(_ id: BriefID) async throws { try await record(.open, id) }

    /// Sets the reading position, 0…1. Moving forward reports progress; moving back is an
    /// explicit restart at that position (progress otherwise keeps the furthest point).
    public func setProgress(_ id: BriefID, _ fraction: Double) async throws {
        let current = try await store.readState(id).progressValue
        try await record(fraction >= current ? .progress(fraction) : .restartProgress(fraction), id)
    }

    private func record(_ action: ReadAction, _ id: BriefID) async throws {
        try await store.record(action, on: id, now: configuration.now())
        nudge.continuation.yield()
    }

    // MARK: Accounts and sync

    /// Signs `account` in and sets where syncs go; call it at every launch too (signing in the
    /// account already signed in changes nothing but the transport).
    ///
    /// When another account was signed in, its queued edits and reading state are sealed first:
    /// they stay on the device for when it signs in again and are never sent under `account`.
    /// `account`'s own sealed edits come back to be sent by the next sync.
    ///
    /// - Parameter transport: Carries a session of `account`.
    @discardableResult
    public func signIn(_ account: AccountID, transport: any SyncTransport) async throws -> SignInOutcome {
        let outcome = try await store.signIn(account, now: configuration.now())
        engineBox.set(
            SyncEngine(
                store: store,
                account: account,
                transport: transport,
                configuration: configuration.engine,
                now: configuration.now,
                logger: configuration.logger
            )
        )
        return outcome
    }

    /// Replaces the transport of the account signed in (a new session token, say); it takes
    /// effect at the next round.
    /// - Throws: ``SyncError`` `.loginRequired` when no account is signed in.
    public func connect(_ transport: any SyncTransport) async throws {
        guard let account = try await store.signedInAccount() else {
            throw SyncError(kind: .loginRequired, message: "No account is signed in: call signIn(_:transport:) first.")
        }
        try await signIn(account, transport: transport)
    }

    /// Signs the account out, online or offline. Its queued edits are sealed (kept for when it
    /// signs in again, never sent under another account) unless `discardingPending`, which drops
    /// them and its reading state from the device for good.
    @discardableResult
    public func signOut(discardingPending: Bool = false) async throws -> SignOutOutcome {
        engineBox.clear()
        return try await store.signOut(discardingPending: discardingPending)
    }

    /// One round: push, then pull until up to date, then keep the storage budget.
    /// - Throws: ``SyncError``; `.loginRequired` before ``signIn(_:transport:)``.
    @discardableResult
    public func sync(progress: (@Sendable (SyncReport) -> Void)? = nil) async throws -> SyncReport {
        let report = try await engine().sync(progress: progress)
        try await keepBudget()
        return report
    }

    /// One round within `budget`, as a background refresh allows (iOS gives about 30 s): it ends
    /// within the budget on the last page committed, keeps the storage budget, and leaves the rest
    /// to the next round; ``SyncReport/complete`` says whether it caught up. See
    /// ``SyncEngine/sync(budget:clock:progress:)``; `clock` is the time the budget is counted on.
    @discardableResult
    public func sync(
        budget: Duration,
        clock: some Clock<Duration> = ContinuousClock(),
        progress: (@Sendable (SyncReport) -> Void)? = nil
    ) async throws -> SyncReport {
        let report = try await engine().sync(budget: budget, clock: clock, progress: progress)
        try await keepBudget()
        return report
    }

    /// Syncs whenever the server or the app has news, until cancelled. See ``SyncEngine/runLive(nudges:clock:)``.
    public func runLive() async throws {
        try await engine().runLive(nudges: nudge.stream)
    }

    /// Evicts briefs older than the budget's days, except saved ones and ones with queued changes.
    @discardableResult
    public func keepBudget() async throws -> Int {
        guard let days = configuration.keepDays,
            let cutoff = CalendarDate(daysBefore: days, millisecondsSince1970: configuration.now())
        else {
            return 0
        }
        return try await store.evict(datedBefore: cutoff)
    }

    private func engine() throws -> SyncEngine {
        guard let engine = engineBox.get() else {
            throw SyncError(
                kind: .loginRequired,
                message: "No account is signed in on this library: call signIn(_:transport:) first."
            )
        }
        return engine
    }
}

/// Holds the current engine; replaced under a lock.
private final class EngineBox: @unchecked Sendable {
    private let lock = NSLock()
    private var engine: SyncEngine?

    func set(_ engine: SyncEngine) {
        lock.withLock { self.engine = engine }
    }

    func get() -> SyncEngine? {
        lock.withLock { engine }
    }

    func clear() {
        lock.withLock { engine = nil }
    }
}
