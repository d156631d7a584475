import BriefModel
import Foundation

/// Where the server keeps accounts, briefs, read-states and the changes feed.
///
/// Every method is one transaction: it commits whole or not at all, so a request that fails writes
/// nothing. The feed has two planes (``FeedCursor``): the content log, shared by every user, and
/// each user's state sequence. Positions on each are handed out in commit order: a reader that
/// has seen position `p` of one has seen every change at or below `p` there, and never skips one
/// (each store documents how it ensures this). Publishing takes the content log's lock; a push or
/// a follow takes only its user's.
///
/// ## Topics
/// - Accounts: ``createUser(username:passwordHash:now:)``, ``user(named:)``,
///   ``changePassword(of:to:keeping:now:)``, ``deleteUser(_:)``
/// - Sessions: ``createSession(_:)``, ``session(tokenHash:)``, ``sessions(of:)``,
///   ``touchSession(tokenHash:now:)``, ``revokeSession(tokenHash:now:)``, ``revokeSession(id:of:now:)``
/// - Publishing: ``publish(_:now:)``, ``retract(_:now:)``
/// - Content: ``content(digest:gzip:)``, ``keepCompressed(_:digest:)``
/// - Feed: ``changes(for:after:window:limit:maxBytes:)``, ``feedState()``, ``purgeTombstones(retractedBefore:)``
/// - Read-state: ``push(_:for:applier:now:)``
/// - Topics: ``topics(for:)``, ``setFollowing(_:_:for:)``
/// - The Reader API: ``readerItems(for:matching:)``, ``readerContents(for:ids:)``, ``readerUnreadCounts(for:)``
/// - Several instances: ``listenForChanges(_:)``
public protocol DeltaStore: Sendable {
    /// Creates a user. - Throws: ``StoreError/duplicate`` when the name is taken (case-insensitively).
    func createUser(username: String, passwordHash: String, now: Int64) async throws -> UserRecord
    /// The user with this name (case-insensitive), if any.
    func user(named username: String) async throws -> UserRecord?
    /// Stores a new device session.
    func createSession(_ session: SessionRecord) async throws
    /// The session with this token hash unless it was revoked, if any (idle expiry is the
    /// caller's: ``SessionRecord/lastUsedAt``).
    func session(tokenHash: [UInt8]) async throws -> SessionRecord?
    /// Revokes a session; revoking twice is harmless.
    func revokeSession(tokenHash: [UInt8], now: Int64) async throws
    /// The user's sessions not revoked, most recently used first.
    func sessions(of user: UserID) async throws -> [SessionRecord]
    /// Notes that a session was used at `now`: its idle lifetime runs from there.
    func touchSession(tokenHash: [UInt8], now: Int64) async throws
    /// Revokes the user's session `id`; its token hash, or `nil` when the user has no such
    /// session not yet revoked (another user's id is `nil` too).
    func revokeSession(id: String, of user: UserID, now: Int64) async throws -> [UInt8]?
    /// Sets the user's password hash and revokes every other session of theirs, in one
    /// transaction; the token hashes revoked.
    func changePassword(of user: UserID, to passwordHash: String, keeping tokenHash: [UInt8], now: Int64)
        async throws -> [[UInt8]]
    /// Deletes the user with their read-states, follows, sessions and device cursors, in one
    /// transaction; the token hashes of the sessions deleted.
    func deleteUser(_ user: UserID) async throws -> [[UInt8]]

    /// Creates or corrects a brief. An identical document changes nothing (`changed` false); any
    /// other bumps the version and feeds the brief to devices again. A retracted brief comes back.
    func publish(_ brief: Brief, now: Int64) async throws -> PublishResultV1
    /// Retracts a brief, leaving a tombstone. `nil` when no such brief exists.
    func retract(_ id: BriefID, now: Int64) async throws -> PublishResultV1?
    /// The edition whose canonical JSON has this SHA-256, if any was published (a corrected
    /// brief's earlier editions stay until the tombstone purge finds no brief pointing to them).
    ///
    /// - Parameter gzip: Whether the fetch takes gzip: the gzip kept at publish then, or the
    ///   document for an edition published before gzips were kept (to compress once and keep with
    ///   ``keepCompressed(_:digest:)``); the document otherwise.
    func content(digest: [UInt8], gzip: Bool) async throws -> StoredContent?
    /// Keeps the gzip of an edition stored without one (published before gzips were kept).
    func keepCompressed(_ gzip: [UInt8], digest: [UInt8]) async throws
    /// The newest `limit` live editions of a topic, newest first (by the brief's date, then by
    /// when the server received it), for its feeds; `nil` when there is no such topic.
    func topicEditions(_ topic: TopicID, limit: Int) async throws -> TopicEditions?

    /// The changes a user has not seen after `cursor` (`nil`: a device holding nothing), as
    /// ``FeedPager`` lays them out: at most `limit` items, and stopping once about `maxBytes` of
    /// documents are gathered (at least one item). `window` is the first date the device keeps,
    /// for a catch-up that starts in this page.
    func changes(
        for user: UserID,
        after cursor: FeedCursor?,
        window: CalendarDate?,
        limit: Int,
        maxBytes: Int
    ) async throws -> ChangeBatch
    /// The feed's epoch and the highest position of a purged tombstone.
    func feedState() async throws -> FeedState
    /// Deletes tombstones of briefs retracted before the time given; returns how many.
    func purgeTombstones(retractedBefore: Int64) async throws -> Int

    /// Applies one device's push, exactly once per mutation id and incarnation, all or nothing.
    /// - Throws: ``StoreError/unknownBriefs(_:)`` naming the indices of mutations whose brief
    ///   does not exist, or ``StoreError/incarnationConflict(_:)`` when the push reuses ids that
    ///   another copy of the store pushed (``PushApplier``); nothing is applied then.
    func push(_ push: PushRequestV1, for user: UserID, applier: PushApplier, now: Int64) async throws
        -> PushApplier.Outcome

    /// Every topic, with whether the user follows it.
    func topics(for user: UserID) async throws -> [TopicStatusV1]
    /// Follows or unfollows a topic. `nil` when no such topic exists.
    func setFollowing(_ topic: TopicID, _ follow: Bool, for user: UserID) async throws -> TopicStatusV1?

    /// The user's live briefs that a Reader API stream lists, in the query's order, at most its
    /// `limit` (nothing when it ``ReaderItemQuery/matchesNothing``).
    func readerItems(for user: UserID, matching query: ReaderItemQuery) async throws -> [ReaderItemRef]
    /// The live briefs with these item ids, with their current editions, in item id order; an id
    /// of no live brief is left out.
    func readerContents(for user: UserID, ids: [Int64]) async throws -> [ReaderItem]
    /// For each topic the user follows that has a live brief they have not read: how many.
    func readerUnreadCounts(for user: UserID) async throws -> [ReaderUnreadCount]

    /// A secret kept in the database, created on first use: lets every instance share one
    /// token key without configuring it.
    func sharedSecret(named name: String, create: @Sendable () -> [UInt8]) async throws -> [UInt8]
    /// Answers when the database does; throws otherwise.
    func ping() async throws

    /// Whether other processes (instances) may commit to this database too, so that this one
    /// hears of their changes only through ``listenForChanges(_:)``.
    var isShared: Bool { get }
    /// Calls `onChange` for changes that *other processes* commit to this database, until the
    /// task is cancelled, so that their long-polls wake here too; reports ``ChangeSignal/subscribed``
    /// each time it starts hearing them and ``ChangeSignal/unsubscribed`` when it stops. A store
    /// that only one process uses returns at once.
    func listenForChanges(_ onChange: @escaping @Sendable (ChangeSignal) -> Void) async throws
    /// Closes connections; the store answers nothing afterwards.
    func shutdown() async
}

extension DeltaStore {
    /// One process per database.
    public var isShared: Bool { false }
    /// One process per database: nothing to listen for.
    public func listenForChanges(_ onChange: @escaping @Sendable (ChangeSignal) -> Void) async throws {}
    /// Nothing to close.
    public func shutdown() async {}
}

/// Whom a change committed elsewhere concerns.
public enum ChangeSignal: Sendable, Hashable {
    /// A brief: every user.
    case everyone
    /// One user's read-state or subscriptions.
    case user(UserID)
    /// The store now hears every change committed elsewhere; any may have been missed before.
    case subscribed
    /// The store no longer hears changes committed elsewhere, until the next ``subscribed``.
    case unsubscribed
}

/// A user's row id.
public typealias UserID = Int64

/// A registered user.
public struct UserRecord: Sendable, Hashable {
    public var id: UserID
    public var username: String
    public var passwordHash: String

    public init(id: UserID, username: String, passwordHash: String) {
        self.id = id
        self.username = username
        self.passwordHash = passwordHash
    }
}

/// A device session; the token itself is never stored, only its SHA-256.
public struct SessionRecord: Sendable, Hashable {
    public var tokenHash: [UInt8]
    /// The identifier users list and revoke it by (`s-` and 16 hex digits); never the token.
    public var id: String
    public var userID: UserID
    public var username: String
    public var deviceID: DeviceID
    public var deviceName: String?
    public var createdAt: Int64
    /// When it was last used, to the hour (``SessionLifetime``).
    public var lastUsedAt: Int64
    /// What the session may do.
    public var scope: SessionScope

    public init(
        tokenHash: [UInt8],
        id: String,
        userID: UserID,
        username: String,
        deviceID: DeviceID,
        deviceName: String?,
        createdAt: Int64,
        lastUsedAt: Int64? = nil,
        scope: SessionScope = .device
    ) {
        self.scope = scope
        self.tokenHash = tokenHash
        self.id = id
        self.userID = userID
        self.username = username
        self.deviceID = deviceID
        self.deviceName = deviceName
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt ?? createdAt
    }
}

/// What the feed looks like to token checks.
public struct FeedState: Sendable, Hashable {
    /// Identifies this database; tokens from another carry another epoch.
    public var epoch: UInt32
    /// Tombstones at or below this content position may have been purged: a token below it is expired.
    public var purgedThrough: UInt64

    public init(epoch: UInt32, purgedThrough: UInt64) {
        self.epoch = epoch
        self.purgedThrough = purgedThrough
    }
}

/// One page of a user's feed, before it becomes a ``ChangesPageV2``.
public struct ChangeBatch: Sendable, Hashable {
    /// Brief editions, retractions included, as the manifest names them.
    public var briefs: [BriefRefV2] = []
    public var readStates: [ReadState] = []
    public var unfollowedTopics: [TopicID] = []
    /// Topics the user followed again (their briefs follow, newest first).
    public var followedTopics: [TopicID] = []
    /// The cursor to put in the next token: after the last item when more follow, at both heads otherwise.
    public var next: FeedCursor
    public var hasMore: Bool

    public init(next: FeedCursor, hasMore: Bool) {
        self.next = next
        self.hasMore = hasMore
    }

    /// Whether the page carries nothing.
    public var isEmpty: Bool {
        briefs.isEmpty && readStates.isEmpty && unfollowedTopics.isEmpty && followedTopics.isEmpty
    }

    /// How many items it carries.
    public var count: Int {
        briefs.count + readStates.count + unfollowedTopics.count + followedTopics.count
    }
}

/// Failures a store reports for callers to turn into answers.
public enum StoreError: Error, Sendable, Hashable {
    /// A unique value (a username) is taken.
    case duplicate
    /// Mutations name briefs that do not exist.
    case unknownBriefs([UnknownBrief])
    /// The push reuses mutation ids that another copy of the device's store pushed.
    case incarnationConflict(PushConflict)

    /// A mutation whose brief does not exist.
    public struct UnknownBrief: Sendable, Hashable {
        /// Its index in the batch.
        public var index: Int
        /// The brief it names.
        public var briefID: BriefID

        public init(index: Int, briefID: BriefID) {
            self.index = index
            self.briefID = briefID
        }
    }
}

/// What a session may do.
public enum SessionScope: String, Sendable, Hashable {
    /// A device's session: everything of its user (`POST /v1/sessions`).
    case device
    /// A Reader API session (`/greader/accounts/ClientLogin`): the Google Reader API only, as a
    /// device of its own.
    case reader
    /// A feed key: that user's topic feeds only, sent as `?key=` by feed readers that cannot send
    /// headers (`POST /v1/feed-keys`). It is refused everywhere else.
    case feeds
}
