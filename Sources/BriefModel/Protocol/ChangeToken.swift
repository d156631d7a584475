/// Where one user's device stands in the changes feed: what it has seen so far.
///
/// Devices treat tokens as opaque strings. The server encodes them with a versioned, authenticated
/// format (HMAC-SHA256, `BriefToken`), bound to the user it issued them to, so a forged, altered or
/// foreign token is recognised and refused with `invalid_token`.
public struct ChangeToken: Sendable, Hashable {
    /// Identifies the server's database; a token from another database (say, one restored from a
    /// backup) is recognised and answered with `token_expired`.
    public var epoch: UInt32
    /// The place in both planes of the feed.
    public var cursor: FeedCursor

    /// Creates a token.
    public init(epoch: UInt32, cursor: FeedCursor) {
        self.epoch = epoch
        self.cursor = cursor
    }
}

/// A place in a user's feed, which has two planes, each numbered in commit order:
/// - the **content log**, shared by every user: brief editions published, corrected and retracted;
/// - the user's own **state sequence**: their read-states and follows.
///
/// A device at `(content, state)` has seen every edition of a topic it follows up to `content`
/// and every change of its own state up to `state`. While ``catchUp`` is set, it is also being
/// sent, newest first, briefs that lie behind `content`: all of its window when it started from
/// nothing, or one topic's when the user followed it.
public struct FeedCursor: Sendable, Hashable {
    /// The last position of the content log the device has seen.
    public var content: UInt64
    /// The last position of the user's state sequence the device has seen.
    public var state: UInt64
    /// Briefs behind `content` still to send, if any.
    public var catchUp: CatchUp?

    /// Creates a cursor.
    public init(content: UInt64, state: UInt64, catchUp: CatchUp? = nil) {
        self.content = content
        self.state = state
        self.catchUp = catchUp
    }
}

/// Briefs behind a cursor's content position that a device still lacks, sent newest first (by
/// date, then by position): those of one topic (or of every topic followed) at or below
/// ``through``, dated from ``window`` on, and the user's saved ones of any date.
public struct CatchUp: Sendable, Hashable {
    /// The topic followed, or `nil` for every topic the user follows.
    public var topic: TopicID?
    /// The highest content position it covers: what lies above comes in the log's order.
    public var through: UInt64
    /// The first date of the device's window; `nil` for every date.
    public var window: CalendarDate?
    /// The last brief sent so far, or `nil` before the first.
    public var after: Mark?

    /// A brief's place in the newest-first order.
    public struct Mark: Sendable, Hashable, Comparable {
        public var date: CalendarDate
        public var position: UInt64

        public init(date: CalendarDate, position: UInt64) {
            self.date = date
            self.position = position
        }

        public static func < (lhs: Mark, rhs: Mark) -> Bool {
            (lhs.date, lhs.position) < (rhs.date, rhs.position)
        }
    }

    /// Creates a catch-up.
    public init(topic: TopicID?, through: UInt64, window: CalendarDate?, after: Mark? = nil) {
        self.topic = topic
        self.through = through
        self.window = window
        self.after = after
    }
}
