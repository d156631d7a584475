import BriefModel
import Foundation
import GRDB

extension SQLiteDeltaStore {
    /// The SQL of the four streams a user's feed merges, each an indexed range scan on `position`
    /// (checked by `QueryPlanTests`), so a page costs what it returns, not the history behind it.
    enum FeedSQL {
        /// Briefs published, corrected or retracted, in topics the user has not unfollowed.
        static let briefs = """
            SELECT id, topic_id, version, document, retracted_at, position FROM briefs
            WHERE position > ?
              AND topic_id NOT IN (SELECT topic_id FROM subscriptions WHERE user_id = ? AND followed = 0)
            ORDER BY position
            """
        /// Briefs of topics the user followed again, whose own positions lie behind the token.
        static let backfill = """
            SELECT b.id, b.topic_id, b.version, b.document, b.retracted_at, f.position FROM backfill f
            JOIN briefs b ON b.id = f.brief_id
            WHERE f.user_id = ? AND f.position > ? AND b.retracted_at IS NULL
            ORDER BY f.position
            """
        static let readStates = """
            SELECT state, position FROM read_states WHERE user_id = ? AND position > ? ORDER BY position
            """
        static let unfollowed = """
            SELECT topic_id, position FROM subscriptions
            WHERE user_id = ? AND position > ? AND followed = 0 ORDER BY position
            """
    }

    public func changes(for user: UserID, after position: UInt64, limit: Int, maxBytes: Int) async throws
        -> ChangeBatch
    {
        try await read { db in
            let after = Int64(clamping: position)
            let head = try Int64.fetchOne(db, sql: "SELECT position FROM feed_head") ?? 0
            var streams: [PeekingCursor] = [
                PeekingCursor(kind: .brief, try Row.fetchCursor(db, sql: FeedSQL.briefs, arguments: [after, user])),
                PeekingCursor(kind: .brief, try Row.fetchCursor(db, sql: FeedSQL.backfill, arguments: [user, after])),
                PeekingCursor(
                    kind: .readState,
                    try Row.fetchCursor(db, sql: FeedSQL.readStates, arguments: [user, after])
                ),
                PeekingCursor(
                    kind: .unfollow,
                    try Row.fetchCursor(db, sql: FeedSQL.unfollowed, arguments: [user, after])
                ),
            ]
            for index in streams.indices {
                try streams[index].advance()
            }
            var batch = ChangeBatch(nextPosition: UInt64(max(head, after)), hasMore: false)
            var taken = 0
            var bytes = 0
            var seenBriefs = Set<String>()
            var lastPosition = after
            while let index = streams.indices.filter({ streams[$0].current != nil })
                .min(by: { streams[$0].position < streams[$1].position })
            {
                if taken >= limit || (taken > 0 && bytes >= maxBytes) {
                    batch.hasMore = true
                    break
                }
                let row = streams[index].current!
                lastPosition = streams[index].position
                switch streams[index].kind {
                case .brief:
                    let id: String = row["id"]
                    if seenBriefs.insert(id).inserted {
                        bytes += try Self.add(brief: row, to: &batch, freshDevice: position == 0)
                    }
                case .readState:
                    let state: String = row["state"]
                    bytes += state.utf8.count
                    batch.readStates.append(
                        try WireCoding.decoder(unknownFields: .ignore).decode(ReadState.self, from: Data(state.utf8))
                    )
                case .unfollow:
                    if let topic = TopicID(rawValue: row["topic_id"]) {
                        batch.unfollowedTopics.append(topic)
                    }
                }
                taken += 1
                try streams[index].advance()
            }
            if batch.hasMore {
                batch.nextPosition = UInt64(lastPosition)
            }
            return batch
        }
    }

    /// Adds a brief row as a record or a retraction; returns the bytes it adds.
    private static func add(brief row: Row, to batch: inout ChangeBatch, freshDevice: Bool) throws -> Int {
        guard let id = BriefID(rawValue: row["id"]), let topic = TopicID(rawValue: row["topic_id"]) else {
            return 0
        }
        let version: Int = row["version"]
        if row["retracted_at"] as Int64? != nil {
            // why: a device starting from nothing holds nothing to retract
            if !freshDevice {
                batch.retractions.append(RetractionV1(id: id, topic: topic, version: version))
            }
            return 64
        }
        let document: String = row["document"]
        let brief = try WireCoding.decoder(unknownFields: .ignore).decode(Brief.self, from: Data(document.utf8))
        batch.briefs.append(BriefRecordV1(version: version, brief: brief))
        return document.utf8.count
    }
}

/// A row cursor that holds its next row, so that several position-ordered streams can be merged.
private struct PeekingCursor {
    enum Kind { case brief, readState, unfollow }

    let kind: Kind
    var cursor: RowCursor
    var current: Row?
    var position: Int64 = .max

    init(kind: Kind, _ cursor: RowCursor) {
        self.kind = kind
        self.cursor = cursor
    }

    mutating func advance() throws {
        // why copy: a cursor reuses its Row between steps
        current = try cursor.next()?.copy()
        position = current?["position"] ?? .max
    }
}
