import BriefModel

/// Which of a user's briefs a Reader API stream lists (``DeltaStore/readerItems(for:matching:)``):
/// live briefs only, by item id (``ReaderItemID``), which is the order in which the server
/// received them.
public struct ReaderItemQuery: Sendable, Hashable {
    /// The briefs a stream starts from.
    public enum Scope: Sendable, Hashable {
        /// The topics the user follows (the reading list).
        case followed
        /// One topic, followed or not.
        case topic(TopicID)
        /// Every topic (the read and starred streams, which the flags then narrow).
        case all
    }

    public var scope: Scope
    /// Only briefs read (`true`) or unread (`false`); `nil`: both.
    public var read: Bool?
    /// Only briefs saved (starred) or not; `nil`: both.
    public var saved: Bool?
    /// The lowest and highest item id listed, inclusive.
    public var lowest: Int64 = .min
    public var highest: Int64 = .max
    /// Only these item ids; `nil`: any.
    public var ids: [Int64]?
    /// Oldest first, instead of newest first.
    public var oldestFirst = false
    /// The most briefs listed.
    public var limit: Int

    public init(scope: Scope, read: Bool? = nil, saved: Bool? = nil, limit: Int) {
        self.scope = scope
        self.read = read
        self.saved = saved
        self.limit = limit
    }

    /// Whether no brief can match (an empty range), so that no store needs asking.
    public var matchesNothing: Bool { lowest > highest || limit <= 0 || ids?.isEmpty == true }

    /// The scope's topic, when it is one topic.
    var topic: TopicID? {
        guard case .topic(let topic) = scope else {
            return nil
        }
        return topic
    }
}

/// A brief as a Reader API stream lists it.
public struct ReaderItemRef: Sendable, Hashable {
    public var itemID: Int64
    public var briefID: BriefID
    public var topic: TopicID
    public var read: Bool
    public var saved: Bool

    public init(itemID: Int64, briefID: BriefID, topic: TopicID, read: Bool, saved: Bool) {
        self.itemID = itemID
        self.briefID = briefID
        self.topic = topic
        self.read = read
        self.saved = saved
    }
}

/// A brief as the Reader API shows it (``DeltaStore/readerContents(for:ids:)``).
public struct ReaderItem: Sendable, Hashable {
    public var ref: ReaderItemRef
    public var topicName: String
    /// When its current edition was published, in milliseconds since 1970.
    public var publishedAt: Int64
    /// The current edition's canonical JSON.
    public var document: String

    public init(ref: ReaderItemRef, topicName: String, publishedAt: Int64, document: String) {
        self.ref = ref
        self.topicName = topicName
        self.publishedAt = publishedAt
        self.document = document
    }
}

/// How many live briefs of one followed topic the user has not read (``DeltaStore/readerUnreadCounts(for:)``).
public struct ReaderUnreadCount: Sendable, Hashable {
    public var topic: TopicID
    public var count: Int
    /// The highest item id among them.
    public var newestItemID: Int64

    public init(topic: TopicID, count: Int, newestItemID: Int64) {
        self.topic = topic
        self.count = count
        self.newestItemID = newestItemID
    }
}
