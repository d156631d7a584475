/// A brief edition as a changes page names it: what it is, never what it says. The document is
/// on the content plane, by its ``digest`` (`GET /v1/content/{digest}`), the same bytes for every
/// follower, so that a proxy or a CDN can keep them.
///
/// An edition (an id at a version) never changes: a device that holds this version holds these
/// bytes, and fetches nothing.
public struct BriefRefV2: Sendable, Hashable, Codable {
    /// The brief.
    public var id: BriefID
    /// Starts at 1 and grows by one with every correction, and with its retraction; a re-publish
    /// of the same document keeps it.
    public var version: Int
    /// Its topic, so that a device can drop it without having held it.
    public var topic: TopicID
    /// The brief's date: pages that catch a device up come newest first by it.
    public var date: CalendarDate
    /// The SHA-256 of the edition's canonical JSON, as 64 lowercase hex digits; `nil` when retracted.
    public var digest: String?
    /// The size of that JSON in bytes (before any compression); 0 when retracted.
    public var size: Int
    /// Whether the publisher retracted it: the device removes it, or marks it retracted when saved.
    public var retracted: Bool

    /// Creates a reference.
    public init(
        id: BriefID,
        version: Int,
        topic: TopicID,
        date: CalendarDate,
        digest: String?,
        size: Int,
        retracted: Bool = false
    ) {
        self.id = id
        self.version = version
        self.topic = topic
        self.date = date
        self.digest = digest
        self.size = size
        self.retracted = retracted
    }
}

/// One page of `GET /v1/changes` (protocol 2): a manifest of what changed for this user since
/// the token, and no documents.
///
/// A device fetches the content of each brief it does not hold at that version, then applies the
/// page, the content and ``nextToken`` in one transaction, and asks again with the token while
/// ``hasMore`` is true.
public struct ChangesPageV2: Sendable, Hashable, Codable {
    /// The protocol version the server spoke.
    public var `protocol`: Int
    /// Brief editions published, corrected or retracted; each brief once, at its newest version.
    public var briefs: [BriefRefV2]
    /// This user's read-states that changed, merged on the server.
    public var readStates: [ReadState]
    /// Topics the user followed (again): their briefs come in this page and the next ones.
    public var followedTopics: [TopicID]
    /// Topics the user stopped following: drop their briefs, except saved ones.
    public var unfollowedTopics: [TopicID]
    /// The token to send next time; opaque. It covers both the content log and the user's own
    /// sequence.
    public var nextToken: String
    /// Whether another page follows at once.
    public var hasMore: Bool
    /// A query to append to this page's content fetches (`GET /v1/content/{digest}?…`), when the
    /// server signs content passes: the proxy in front then serves the editions without asking
    /// for the session. Opaque, and good for a limited time; absent from pages that name no content.
    public var contentPass: String?

    /// Creates a page.
    public init(
        protocol: Int = WireProtocol.version,
        briefs: [BriefRefV2] = [],
        readStates: [ReadState] = [],
        followedTopics: [TopicID] = [],
        unfollowedTopics: [TopicID] = [],
        nextToken: String,
        hasMore: Bool,
        contentPass: String? = nil
    ) {
        self.protocol = `protocol`
        self.briefs = briefs
        self.readStates = readStates
        self.followedTopics = followedTopics
        self.unfollowedTopics = unfollowedTopics
        self.nextToken = nextToken
        self.hasMore = hasMore
        self.contentPass = contentPass
    }
}
