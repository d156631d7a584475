/// A brief as the server holds it: the publisher's document and the version the server assigned.
public struct BriefRecordV1: Sendable, Hashable, Codable {
    /// Starts at 1 and grows by one with every correction; a re-publish of the same document keeps it.
    public var version: Int
    /// The document.
    public var brief: Brief

    /// Creates a record.
    public init(version: Int, brief: Brief) {
        self.version = version
        self.brief = brief
    }
}

/// A brief the publisher retracted: the device removes it (a saved one stays, marked retracted).
public struct RetractionV1: Sendable, Hashable, Codable {
    /// The retracted brief.
    public var id: BriefID
    /// Its topic, so that a device can drop it without having held it.
    public var topic: TopicID
    /// The version the retraction carries: one above the last published version.
    public var version: Int

    /// Creates a retraction.
    public init(id: BriefID, topic: TopicID, version: Int) {
        self.id = id
        self.topic = topic
        self.version = version
    }
}

/// One page of `GET /v1/changes`: what changed for this user since the token, in commit order.
///
/// A device applies the whole page, stores ``nextToken`` in the same transaction, and asks again
/// with it while ``hasMore`` is true.
public struct ChangesPageV1: Sendable, Hashable, Codable {
    /// The protocol version the server spoke.
    public var `protocol`: Int
    /// Briefs published or corrected, newest version only.
    public var briefs: [BriefRecordV1]
    /// Briefs retracted.
    public var retractions: [RetractionV1]
    /// This user's read-states that changed, merged on the server.
    public var readStates: [ReadState]
    /// Topics the user stopped following: drop their briefs, except saved ones.
    public var unfollowedTopics: [TopicID]
    /// The token to send next time; opaque.
    public var nextToken: String
    /// Whether another page follows at once.
    public var hasMore: Bool

    /// Creates a page.
    public init(
        protocol: Int = WireProtocol.version,
        briefs: [BriefRecordV1] = [],
        retractions: [RetractionV1] = [],
        readStates: [ReadState] = [],
        unfollowedTopics: [TopicID] = [],
        nextToken: String,
        hasMore: Bool
    ) {
        self.protocol = `protocol`
        self.briefs = briefs
        self.retractions = retractions
        self.readStates = readStates
        self.unfollowedTopics = unfollowedTopics
        self.nextToken = nextToken
        self.hasMore = hasMore
    }
}
