import BriefModel
import Foundation

/// One query a page of the feed needs. A store answers each with rows in the order named, in the
/// one snapshot the page reads (see each store's "Commit order").
enum FeedQuery: Sendable, Hashable {
    /// Briefs of `catchUp` not retracted, in topics the user follows, at positions up to its
    /// `through`, newest first (date, then position, both descending) and before its mark, each
    /// with the user's state of it. `savedOnly`: the user's saved briefs dated before the window;
    /// otherwise, those dated from the window on (every date without a window).
    case catchUp(CatchUp, savedOnly: Bool, limit: Int)
    /// The user's read-states and follows numbered after `after` on their state sequence, in order.
    case state(after: UInt64, limit: Int)
    /// Editions numbered after `after` on the content log, in topics the user follows, in order;
    /// retractions included. Each live edition comes with the user's state of it.
    case content(after: UInt64, limit: Int)
}

/// One row a store answers a ``FeedQuery`` with.
enum FeedRow: Sendable {
    /// A brief edition: a catch-up's or the content log's.
    case brief(BriefRow)
    /// A read-state as stored JSON, at its position on the user's sequence.
    case readState(json: String, position: UInt64)
    /// A topic followed or unfollowed, at its position on the user's sequence.
    case follow(topic: String, followed: Bool, position: UInt64)
}

/// A brief as a feed query reads it.
struct BriefRow: Sendable {
    var id: String
    var topic: String
    var version: Int
    /// The SHA-256 of the edition's canonical JSON (its name on the content plane); `nil` for a
    /// tombstone.
    var digest: [UInt8]?
    /// The size of that JSON in bytes.
    var size: Int
    /// The brief's date, `YYYY-MM-DD`.
    var date: String
    /// Its position on the content log.
    var position: UInt64
    /// The user's state of it as stored JSON (catch-up rows, and live editions of the content log).
    var state: String?
}

/// How a page of a user's feed is made, the same for every store: which queries it runs, in
/// which order, and what it makes of their rows. The store only runs the queries (sans I/O, so
/// that both stores, one synchronous and one not, share every decision).
///
/// A page serves, in this order, within `limit` items and about `maxBytes` of the content they
/// name:
/// 1. the cursor's catch-up, newest first: its window, then the saved briefs dated before it.
///    Retracted briefs come only when saved, as retractions with their state, so that a device
///    starting over keeps them marked retracted, as the one that held them does;
/// 2. the user's state changes in their sequence's order. A topic followed again starts a
///    catch-up of that topic behind the content position (step 1 again), and the state changes
///    go on after it;
/// 3. once the state plane is exhausted, the content log in order, in the topics followed then.
///    Each live edition comes with the user's state of it: the state plane may have passed that
///    state while the brief was not sent (a device starting over while the brief was retracted,
///    then corrected), and a brief must never arrive without what the user did with it.
///
/// Serving the state plane first means the content log is always read with the follows the device
/// has been sent, so it never misses a topic's briefs, nor gets ones the device then drops. A
/// fresh cursor (`nil`) starts at both heads with a catch-up of everything followed in the
/// window: the newest brief comes first, and briefs are not sent to be evicted. Its briefs carry
/// their states, so the state sequence need not be replayed from its start.
struct FeedPager {
    private enum Phase {
        case catchUp(savedOnly: Bool)
        case state
        case content
        case done
    }

    private let heads: (content: UInt64, state: UInt64)
    private let window: CalendarDate?
    private let limit: Int
    private let maxBytes: Int
    private var phase: Phase
    private var taken = 0
    /// One decoder for every state of the page (a catch-up page holds hundreds).
    private let decoder = WireCoding.decoder(unknownFields: .ignore)
    private var bytes = 0
    /// What the page gathered, and the cursor after it.
    private(set) var batch: ChangeBatch

    /// - Parameters:
    ///   - cursor: Where the device stands; `nil` for a device that holds nothing of this feed.
    ///   - window: The first date the device keeps (its storage budget), for catch-ups that start
    ///     in this page; `nil` for every date.
    ///   - heads: The heads of the content log and of the user's sequence, in the page's snapshot.
    init(
        cursor: FeedCursor?,
        window: CalendarDate?,
        heads: (content: UInt64, state: UInt64),
        limit: Int,
        maxBytes: Int
    ) {
        self.heads = heads
        self.window = window
        self.limit = max(1, limit)
        self.maxBytes = maxBytes
        let start =
            cursor
            ?? FeedCursor(
                content: heads.content,
                state: heads.state,
                catchUp: heads.content > 0 ? CatchUp(topic: nil, through: heads.content, window: window) : nil
            )
        batch = ChangeBatch(next: start, hasMore: false)
        phase = start.catchUp.map { .catchUp(savedOnly: Self.isSavedPhase($0)) } ?? .state
    }

    /// The query to run next, or `nil` when the page is complete.
    var nextQuery: FeedQuery? {
        // why one more than asked: a row beyond the page says "more follow" without another query
        let asked = limit - taken + 1
        switch phase {
        case .catchUp(let savedOnly):
            guard let catchUp = batch.next.catchUp else {
                return nil
            }
            return .catchUp(catchUp, savedOnly: savedOnly, limit: asked)
        case .state:
            return .state(after: batch.next.state, limit: asked)
        case .content:
            return .content(after: batch.next.content, limit: asked)
        case .done:
            return nil
        }
    }

    /// Takes the rows of the query ``nextQuery`` named.
    mutating func receive(_ rows: [FeedRow]) throws {
        switch phase {
        case .catchUp(let savedOnly):
            try receiveCatchUp(rows, savedOnly: savedOnly)
        case .state:
            try receiveState(rows)
        case .content:
            try receiveContent(rows)
        case .done:
            break
        }
    }

    // MARK: Phases

    private mutating func receiveCatchUp(_ rows: [FeedRow], savedOnly: Bool) throws {
        for row in rows {
            guard case .brief(let brief) = row, let date = CalendarDate(iso: brief.date) else {
                continue
            }
            guard roomForMore else {
                return stop()
            }
            try take(brief)
            batch.next.catchUp?.after = CatchUp.Mark(date: date, position: brief.position)
        }
        // this part of the catch-up is exhausted
        if !savedOnly, let window = batch.next.catchUp?.window,
            let before = CalendarDate(
                daysSinceEpoch: window.daysSinceEpoch - 1
            )
        {
            batch.next.catchUp?.after = CatchUp.Mark(date: before, position: CatchUp.Mark.endOfDay)
            phase = .catchUp(savedOnly: true)
        } else {
            batch.next.catchUp = nil
            phase = .state
        }
        // even without room, the next phase is queried: a row there says that more follow, and
        // none lets the page end at both heads instead of sending an empty page after it
    }

    private mutating func receiveState(_ rows: [FeedRow]) throws {
        for row in rows {
            guard roomForMore else {
                return stop()
            }
            switch row {
            case .readState(let json, let position):
                try appendState(json)
                bytes += json.utf8.count
                batch.next.state = position
            case .follow(let topic, let followed, let position):
                batch.next.state = position
                guard let topic = TopicID(rawValue: topic) else {
                    continue
                }
                if !followed {
                    batch.unfollowedTopics.append(topic)
                } else {
                    batch.followedTopics.append(topic)
                    if batch.next.content > 0 {
                        // its briefs behind the content position come next, newest first; then
                        // the state plane goes on after this change
                        taken += 1
                        batch.next.catchUp = CatchUp(topic: topic, through: batch.next.content, window: window)
                        phase = .catchUp(savedOnly: false)
                        return
                    }
                }
            case .brief:
                continue
            }
            taken += 1
        }
        batch.next.state = max(batch.next.state, heads.state)
        phase = .content
    }

    private mutating func receiveContent(_ rows: [FeedRow]) throws {
        for row in rows {
            guard case .brief(let brief) = row else {
                continue
            }
            guard roomForMore else {
                return stop()
            }
            try take(brief)
            batch.next.content = brief.position
        }
        batch.next.content = max(batch.next.content, heads.content)
        phase = .done
    }

    // MARK: Items

    /// Whether the page may take another item: within the limit, and within the byte budget
    /// unless it holds nothing yet.
    private var roomForMore: Bool {
        taken < limit && (taken == 0 || bytes < maxBytes)
    }

    private mutating func stop() {
        batch.hasMore = true
        phase = .done
    }

    /// Adds a read-state, as stored JSON, to the page.
    private mutating func appendState(_ json: String) throws {
        batch.readStates.append(try decoder.decode(ReadState.self, from: Data(json.utf8)))
    }

    /// Takes a brief's reference, and the user's state of it when the row carries one.
    private mutating func take(_ brief: BriefRow) throws {
        if let state = brief.state {
            try appendState(state)
        }
        taken += 1
        guard let id = BriefID(rawValue: brief.id), let topic = TopicID(rawValue: brief.topic),
            let date = CalendarDate(iso: brief.date)
        else {
            return
        }
        batch.briefs.append(
            BriefRefV2(
                id: id,
                version: brief.version,
                topic: topic,
                date: date,
                digest: brief.digest.map(ContentDigest.hex),
                size: brief.digest == nil ? 0 : brief.size,
                retracted: brief.digest == nil
            )
        )
        // the page's budget is of the content a device fetches for it, which it then stores in
        // one transaction with the page
        bytes += brief.digest == nil ? 64 : brief.size
    }

    private static func isSavedPhase(_ catchUp: CatchUp) -> Bool {
        guard let window = catchUp.window, let after = catchUp.after else {
            return false
        }
        return after.date < window
    }
}

extension CatchUp.Mark {
    /// A position above every real one (positions are SQL `BIGINT`s): a mark at the end of its day.
    static let endOfDay = UInt64(Int64.max)
    /// A date after every brief's.
    static let lastDate = CalendarDate(year: 9999, month: 12, day: 31)!
}

extension CatchUp {
    /// Where its next query starts: after its last brief sent, or above every brief before the first.
    var mark: Mark { after ?? Mark(date: Mark.lastDate, position: Mark.endOfDay) }
}

extension FeedRow {
    /// The position of a state-plane row.
    var statePosition: UInt64 {
        switch self {
        case .readState(_, let position), .follow(_, _, let position): position
        case .brief(let brief): brief.position
        }
    }

    /// Two state-plane streams, each in position order, as one, cut to `limit`.
    static func mergedByStatePosition(_ first: [FeedRow], _ second: [FeedRow], limit: Int) -> [FeedRow] {
        var merged: [FeedRow] = []
        merged.reserveCapacity(min(limit, first.count + second.count))
        var (i, j) = (0, 0)
        while merged.count < limit, i < first.count || j < second.count {
            if j == second.count || (i < first.count && first[i].statePosition < second[j].statePosition) {
                merged.append(first[i])
                i += 1
            } else {
                merged.append(second[j])
                j += 1
            }
        }
        return merged
    }
}
