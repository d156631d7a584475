import BriefModel
import NIOConcurrencyHelpers

@testable import BriefServer

/// A store that counts the calls that reach it, and can play a database shared with other
/// instances whose relay the test drives; everything else goes to the wrapped store.
final class CountingStore: DeltaStore {
    let base: any DeltaStore
    let isShared: Bool
    private let counts = NIOLockedValueBox([String: Int]())
    private let relay = AsyncStream<ChangeSignal>.makeStream()

    init(_ base: any DeltaStore, shared: Bool = false) {
        self.base = base
        self.isShared = shared
    }

    /// How many times `name` (`changes`, `session`, `feedState`) reached the store.
    func calls(_ name: String) -> Int { counts.withLockedValue { $0[name, default: 0] } }

    /// Sends a signal as the relay of a shared database would.
    func relay(_ signal: ChangeSignal) { relay.continuation.yield(signal) }

    private func count(_ name: String) { counts.withLockedValue { $0[name, default: 0] += 1 } }

    func listenForChanges(_ onChange: @escaping @Sendable (ChangeSignal) -> Void) async throws {
        guard isShared else {
            return
        }
        for await signal in relay.stream {
            onChange(signal)
        }
    }

    func changes(
        for user: UserID,
        after cursor: FeedCursor?,
        window: CalendarDate?,
        limit: Int,
        maxBytes: Int
    ) async throws -> ChangeBatch {
        count("changes")
        return try await base.changes(for: user, after: cursor, window: window, limit: limit, maxBytes: maxBytes)
    }
    func session(tokenHash: [UInt8]) async throws -> SessionRecord? {
        count("session")
        return try await base.session(tokenHash: tokenHash)
    }
    func feedState() async throws -> FeedState {
        count("feedState")
        return try await base.feedState()
    }

    func createUser(username: String, passwordHash: String, now: Int64) async throws -> UserRecord {
        try await base.createUser(username: username, passwordHash: passwordHash, now: now)
    }
    func user(named username: String) async throws -> UserRecord? { try await base.user(named: username) }
    func createSession(_ session: SessionRecord) async throws { try await base.createSession(session) }
    func revokeSession(tokenHash: [UInt8], now: Int64) async throws {
        try await base.revokeSession(tokenHash: tokenHash, now: now)
    }
    func sessions(of user: UserID) async throws -> [SessionRecord] { try await base.sessions(of: user) }
    func touchSession(tokenHash: [UInt8], now: Int64) async throws {
        try await base.touchSession(tokenHash: tokenHash, now: now)
    }
    func revokeSession(id: String, of user: UserID, now: Int64) async throws -> [UInt8]? {
        try await base.revokeSession(id: id, of: user, now: now)
    }
    func changePassword(of user: UserID, to passwordHash: String, keeping tokenHash: [UInt8], now: Int64)
        async throws -> [[UInt8]]
    {
        try await base.changePassword(of: user, to: passwordHash, keeping: tokenHash, now: now)
    }
    func deleteUser(_ user: UserID) async throws -> [[UInt8]] { try await base.deleteUser(user) }
    func publish(_ brief: Brief, now: Int64) async throws -> PublishResultV1 { try await base.publish(brief, now: now) }
    func retract(_ id: BriefID, now: Int64) async throws -> PublishResultV1? { try await base.retract(id, now: now) }
    func content(digest: [UInt8], gzip: Bool) async throws -> StoredContent? {
        count("content")
        return try await base.content(digest: digest, gzip: gzip)
    }
    func topicEditions(_ topic: TopicID, limit: Int) async throws -> TopicEditions? {
        count("topicEditions")
        return try await base.topicEditions(topic, limit: limit)
    }
    func keepCompressed(_ gzip: [UInt8], digest: [UInt8]) async throws {
        try await base.keepCompressed(gzip, digest: digest)
    }
    func purgeTombstones(retractedBefore: Int64) async throws -> Int {
        try await base.purgeTombstones(retractedBefore: retractedBefore)
    }
    func push(_ push: PushRequestV1, for user: UserID, applier: PushApplier, now: Int64) async throws
        -> PushApplier.Outcome
    {
        try await base.push(push, for: user, applier: applier, now: now)
    }
    func topics(for user: UserID) async throws -> [TopicStatusV1] { try await base.topics(for: user) }
    func setFollowing(_ topic: TopicID, _ follow: Bool, for user: UserID) async throws -> TopicStatusV1? {
        try await base.setFollowing(topic, follow, for: user)
    }
    func readerItems(for user: UserID, matching query: ReaderItemQuery) async throws -> [ReaderItemRef] {
        try await base.readerItems(for: user, matching: query)
    }
    func readerContents(for user: UserID, ids: [Int64]) async throws -> [ReaderItem] {
        try await base.readerContents(for: user, ids: ids)
    }
    func readerUnreadCounts(for user: UserID) async throws -> [ReaderUnreadCount] {
        try await base.readerUnreadCounts(for: user)
    }
    func sharedSecret(named name: String, create: @Sendable () -> [UInt8]) async throws -> [UInt8] {
        try await base.sharedSecret(named: name, create: create)
    }
    func ping() async throws { try await base.ping() }
}
