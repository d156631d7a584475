import BriefModel

/// A brief as lists show it: what identifies it and the reader's state, without its body.
public struct BriefSummary: Sendable, Hashable, Codable {
    public var id: BriefID
    public var title: String
    public var topic: TopicID
    public var topicName: String
    public var date: CalendarDate
    public var version: Int
    public var isRead: Bool
    public var isSaved: Bool
    public var progress: Double
    /// Milliseconds since 1970, by the opening device's clock.
    public var lastOpenedAt: Int64?
    /// The publisher retracted it; it stays because the user saved it.
    public var isRetracted: Bool
}

/// A brief with everything the reader shows, and its state.
public struct StoredBrief: Sendable, Hashable {
    public var brief: Brief
    public var version: Int
    public var readState: ReadState
    public var isRetracted: Bool
}

/// Which briefs a list shows. Every filter is optional; the newest come first.
public struct BriefQuery: Sendable, Hashable {
    /// Only this topic.
    public var topic: TopicID?
    /// Only briefs dated in this range (inclusive).
    public var dates: ClosedRange<CalendarDate>?
    /// Only read (`true`) or only unread (`false`) briefs.
    public var isRead: Bool?
    /// Only saved briefs.
    public var savedOnly: Bool
    /// At most this many.
    public var limit: Int?

    public init(
        topic: TopicID? = nil,
        dates: ClosedRange<CalendarDate>? = nil,
        isRead: Bool? = nil,
        savedOnly: Bool = false,
        limit: Int? = nil
    ) {
        self.topic = topic
        self.dates = dates
        self.isRead = isRead
        self.savedOnly = savedOnly
        self.limit = limit
    }
}

/// A search result: the brief, where the words were found, and how well it matched.
public struct SearchHit: Sendable, Hashable {
    public var summary: BriefSummary
    /// Text around the match, with matches in `[` `]`.
    public var snippet: String
    /// Lower is better (SQLite's bm25).
    public var rank: Double
}

/// Where the device's sync stands.
public struct SyncStatus: Sendable, Hashable, Codable {
    /// Local changes of the signed-in account not yet acknowledged by the server.
    public var pendingMutations: Int
    /// When the last sync finished without error, in milliseconds since 1970.
    public var lastSyncAt: Int64?
    /// Why the last sync failed, if it did.
    public var lastError: String?
    /// Whether a resync from the beginning is under way (after an expired token).
    public var fullResyncInProgress: Bool
    /// How many briefs the device holds.
    public var briefCount: Int
    /// The device's identifier.
    public var deviceID: DeviceID
    /// Which copy of the device's store this is (see ``PushRequestV1``).
    public var incarnation: String
    /// The account signed in, if any.
    public var account: AccountID?
    /// Every account with a queue on this device (sealed ones included), and the one signed in.
    public var accounts: [AccountQueue]
    /// The latest mutations dropped because they could no longer apply, newest first: at most
    /// ``droppedShown`` (``DeviceStore/droppedMutations()`` has them all).
    public var droppedMutations: [DroppedMutation]

    /// How many dropped mutations a status lists.
    public static let droppedShown = 100
}

/// What applying one page did.
public struct PageOutcome: Sendable, Hashable {
    /// Briefs stored or updated (same-version copies already held are not counted).
    public var received = 0
    /// Briefs removed or marked retracted.
    public var retracted = 0
    /// Read-states merged.
    public var readStates = 0
    /// Briefs dropped because their topic was unfollowed.
    public var dropped = 0
}

/// Failures of the device store.
public enum DeviceStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The device holds no brief with this id (did it sync?).
    case unknownBrief(BriefID)
    /// A position outside 0…1, or not a number.
    case progressOutOfRange(Double)
    /// No account is signed in on this store, so an edit would belong to no one.
    case notSignedIn
    /// The account signed in changed while a sync for another was under way; nothing was written.
    case accountChanged
    /// A page names an edition the device neither holds nor was given; nothing of it was written.
    case missingContent(BriefID)
    /// Content served for a brief is not the edition the manifest names (why, for people).
    case contentMismatch(BriefID, String)

    public var description: String {
        switch self {
        case .notSignedIn: "No account is signed in on this device: log in first."
        case .accountChanged: "Another account signed in during the sync; nothing of it was kept."
        case .unknownBrief(let id): "There is no brief \(id) on this device. Sync first, or check the id."
        case .progressOutOfRange(let value): "Progress must be between 0 and 1, not \(value)."
        case .missingContent(let id):
            "The page names brief \(id), whose content could not be fetched; nothing of the page was kept. Sync again."
        case .contentMismatch(let id, let why):
            "The content served for brief \(id) was refused: \(why). Nothing of the page was kept; sync again, and "
                + "if it happens again, check any proxy or cache between this device and the server."
        }
    }
}

/// One push as the store prepared it: the mutations, and the account whose queue they are.
public struct PushBatch: Sendable, Hashable {
    /// The account the mutations belong to; the push must go under its session.
    public var account: AccountID
    /// The request to send.
    public var request: PushRequestV1

    public init(account: AccountID, request: PushRequestV1) {
        self.account = account
        self.request = request
    }
}

/// What acknowledging a push did.
public struct Acknowledgement: Sendable, Hashable {
    /// Queued mutations of the push that the server acknowledged and the store removed.
    public var acknowledged: Int
    /// Whether the answer showed another copy of this store and the store took a new incarnation.
    public var renewedIncarnation: Bool
}

/// Why one brief's reading state is what the reader sees (``DeviceStore/explain(_:)``).
public struct ReadStateExplanation: Sendable, Hashable {
    /// The brief.
    public var briefID: BriefID
    /// What the reader sees: the confirmed state with the pending mutations applied on top.
    public var visible: ReadState
    /// The server's merged state as this device last received it; `nil` before any.
    public var confirmed: ReadState?
    /// This account's mutations of the brief not yet acknowledged, oldest first: each overrides
    /// the confirmed state wherever its stamp wins.
    public var pending: [MutationV1]
    /// When the server's state was last merged here (device clock, ms since 1970); `nil`: never.
    public var confirmedAt: Int64?
}
