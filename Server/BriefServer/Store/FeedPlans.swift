import BriefModel

/// The decisions of the feed's writes, the same for every store, as ``FeedPager`` is for pages
/// and ``PushApplier`` for pushes: a store reads the rows a plan needs, asks the plan, and
/// carries out what it says in its own SQL. So the rules (what an identical re-publish does,
/// which version a correction or a retraction takes, when a follow writes) are written once.
enum EditionPlan {
    /// A brief as the store holds it before the write.
    struct Held: Sendable, Hashable {
        var version: Int
        /// The SHA-256 of its edition's canonical JSON (not read for a retraction).
        var digest: [UInt8]?
        var retracted: Bool
    }

    /// What publishing an edition does.
    enum Publish: Sendable, Hashable {
        /// The same document as the live edition: nothing is written or fed.
        case unchanged(version: Int)
        /// A new edition at this version, numbered on the content log.
        case write(version: Int)

        /// The answer to the publisher.
        func result(_ id: BriefID, digest: String) -> PublishResultV1 {
            switch self {
            case .unchanged(let version): PublishResultV1(id: id, version: version, changed: false, digest: digest)
            case .write(let version): PublishResultV1(id: id, version: version, changed: true, digest: digest)
            }
        }
    }

    /// What retracting a brief does.
    enum Retract: Sendable, Hashable {
        /// No such brief.
        case unknown
        /// Already retracted.
        case unchanged(version: Int)
        /// The row stays as a tombstone at this version, with a new position on the content log,
        /// so that devices learn of the retraction.
        case tombstone(version: Int)

        /// The answer to the publisher; `nil` for an unknown brief.
        func result(_ id: BriefID) -> PublishResultV1? {
            switch self {
            case .unknown: nil
            case .unchanged(let version): PublishResultV1(id: id, version: version, changed: false)
            case .tombstone(let version): PublishResultV1(id: id, version: version, changed: true)
            }
        }
    }

    /// An edition with this digest over what the store holds: an identical re-publish of the
    /// live edition changes nothing (it must not feed every device the same brief again); any
    /// other, a correction or a brief published again after its retraction, takes the next version.
    static func publish(digest: [UInt8], over held: Held?) -> Publish {
        guard let held else {
            return .write(version: 1)
        }
        if held.digest == digest && !held.retracted {
            return .unchanged(version: held.version)
        }
        return .write(version: held.version + 1)
    }

    /// A retraction over what the store holds: one version above the last published.
    static func retract(_ held: Held?) -> Retract {
        guard let held else {
            return .unknown
        }
        return held.retracted ? .unchanged(version: held.version) : .tombstone(version: held.version + 1)
    }
}

/// What following or unfollowing a topic does: a change only writes when it changes something,
/// numbered on the user's sequence. A topic followed again writes nothing per brief: the feed
/// sends its briefs by query (a catch-up, ``FeedPager``).
enum FollowPlan: Sendable, Hashable {
    /// No such topic.
    case unknownTopic
    /// Already so: nothing is written.
    case unchanged(TopicStatusV1)
    /// Write the subscription; the answer is the status after it.
    case write(TopicStatusV1)

    init(_ follow: Bool, current: TopicStatusV1?) {
        guard var status = current else {
            self = .unknownTopic
            return
        }
        guard status.followed != follow else {
            self = .unchanged(status)
            return
        }
        status.followed = follow
        self = .write(status)
    }

    /// The topic's status after the plan; `nil` for an unknown topic.
    var status: TopicStatusV1? {
        switch self {
        case .unknownTopic: nil
        case .unchanged(let status), .write(let status): status
        }
    }
}
