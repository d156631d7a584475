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
            // why cached statements here: a poll is mostly these five queries, and compiling
            // them (GRDB's authorizer included) was a fifth of its time (perf, BENCHMARKS.md)
            let head = try Int64.fetchOne(db.cachedStatement(sql: "SELECT position FROM feed_head")) ?? 0
            let streams: [any FeedStream] = [
                SQLiteFeedStream(
                    try Row.fetchCursor(db.cachedStatement(sql: FeedSQL.briefs), arguments: [after, user]),
                    as: Self.brief
                ),
                SQLiteFeedStream(
                    try Row.fetchCursor(db.cachedStatement(sql: FeedSQL.backfill), arguments: [user, after]),
                    as: Self.brief
                ),
                SQLiteFeedStream(
                    try Row.fetchCursor(db.cachedStatement(sql: FeedSQL.readStates), arguments: [user, after])
                ) {
                    .readState($0["state"])
                },
                SQLiteFeedStream(
                    try Row.fetchCursor(db.cachedStatement(sql: FeedSQL.unfollowed), arguments: [user, after])
                ) {
                    .unfollow(topic: $0["topic_id"])
                },
            ]
            return try FeedMerge.page(streams, after: after, head: head, limit: limit, maxBytes: maxBytes)
        }
    }

    private static func brief(_ row: Row) -> FeedRow.Item {
        .brief(
            id: row["id"],
            topic: row["topic_id"],
            version: row["version"],
            document: row["retracted_at"] as Int64? == nil ? row["document"] : nil
        )
    }
}

/// A GRDB cursor read lazily as a feed stream: a page costs what it returns.
private struct SQLiteFeedStream: FeedStream {
    var cursor: RowCursor
    let item: (Row) -> FeedRow.Item

    init(_ cursor: RowCursor, as item: @escaping (Row) -> FeedRow.Item) {
        self.cursor = cursor
        self.item = item
    }

    mutating func next() throws -> FeedRow? {
        guard let row = try cursor.next() else {
            return nil
        }
        return FeedRow(position: row["position"], item: item(row))
    }
}
