import BriefModel
import Foundation
import GRDB

extension SQLiteDeltaStore {
    /// The SQL of the queries a page runs (``FeedQuery``), each an indexed range scan (checked by
    /// `QueryPlanTests`), so a page costs what it returns, not the history behind it.
    enum FeedSQL {
        static let heads = """
            SELECT (SELECT position FROM content_head), COALESCE((SELECT position FROM user_heads WHERE user_id = ?), 0)
            """
        /// Editions after a content position, in topics the user has not unfollowed, each live
        /// one with the user's state of it (see ``FeedPager``).
        static let content = """
            SELECT b.id, b.topic_id, b.version, CASE WHEN b.retracted_at IS NULL THEN b.digest END AS digest, b.size,
                   b.brief_date, b.position, CASE WHEN b.retracted_at IS NULL THEN r.state END AS state
            FROM briefs b LEFT JOIN read_states r ON r.user_id = ?2 AND r.brief_id = b.id
            WHERE b.position > ?1
              AND b.topic_id NOT IN (SELECT topic_id FROM subscriptions WHERE user_id = ?2 AND followed = 0)
            ORDER BY b.position LIMIT ?3
            """
        static let readStates = """
            SELECT state, position FROM read_states WHERE user_id = ?1 AND position > ?2 ORDER BY position LIMIT ?3
            """
        static let follows = """
            SELECT topic_id, followed, position FROM subscriptions
            WHERE user_id = ?1 AND position > ?2 ORDER BY position LIMIT ?3
            """
        /// A catch-up's window, newest first: ?1 user, ?2 topic, ?3 through, ?4 window or NULL, ?5
        /// and ?6 the mark, ?7 limit. A saved brief comes in whatever its topic: a device keeps
        /// the saved briefs of a topic it unfollows, and one starting over must hold the same. A reverse scan of `briefs_newest` (every topic) or of
        /// `briefs_newest_by_topic` (one), from the mark down.
        static func catchUpWindow(oneTopic: Bool) -> String {
            """
            SELECT b.id, b.topic_id, b.version, CASE WHEN b.retracted_at IS NULL THEN b.digest END AS digest, b.size,
                   b.brief_date, b.position, r.state
            FROM briefs b LEFT JOIN read_states r ON r.user_id = ?1 AND r.brief_id = b.id
            WHERE \(oneTopic ? "b.topic_id = ?2" : "?2 IS NULL")
              AND (b.brief_date, b.position) < (?5, ?6)
              AND (?4 IS NULL OR b.brief_date >= ?4)
              AND (b.retracted_at IS NULL OR r.saved = 1) AND b.position <= ?3
              AND (r.saved = 1
                   OR b.topic_id NOT IN (SELECT topic_id FROM subscriptions WHERE user_id = ?1 AND followed = 0))
            ORDER BY \(oneTopic ? "b.topic_id DESC, " : "")b.brief_date DESC, b.position DESC LIMIT ?7
            """
        }
        static let catchUpWindowAll = catchUpWindow(oneTopic: false)
        static let catchUpWindowTopic = catchUpWindow(oneTopic: true)
        /// A catch-up's saved briefs dated before its window, newest first (the same arguments):
        /// the user's saved states, sorted, a handful. (`INDEXED BY`: on a small table SQLite
        /// would rather read all of the user's states by the primary key.)
        static let catchUpSaved = """
            SELECT b.id, b.topic_id, b.version, CASE WHEN b.retracted_at IS NULL THEN b.digest END AS digest, b.size,
                   b.brief_date, b.position, r.state
            FROM read_states r INDEXED BY read_states_saved JOIN briefs b ON b.id = r.brief_id
            WHERE r.user_id = ?1 AND r.saved = 1
              AND b.position <= ?3
              AND (?2 IS NULL OR b.topic_id = ?2)
              AND b.brief_date < ?4
              AND (b.brief_date, b.position) < (?5, ?6)
            ORDER BY b.brief_date DESC, b.position DESC LIMIT ?7
            """
    }

    public func changes(
        for user: UserID,
        after cursor: FeedCursor?,
        window: CalendarDate?,
        limit: Int,
        maxBytes: Int
    ) async throws -> ChangeBatch {
        try await read { db in
            // why cached statements here: a poll is mostly these queries, and compiling them
            // (GRDB's authorizer included) was a fifth of its time (perf, BENCHMARKS.md)
            let heads = try Row.fetchOne(db.cachedStatement(sql: FeedSQL.heads), arguments: [user])
            var pager = FeedPager(
                cursor: cursor,
                window: window,
                heads: (UInt64(heads?[0] as Int64? ?? 0), UInt64(heads?[1] as Int64? ?? 0)),
                limit: limit,
                maxBytes: maxBytes
            )
            while let query = pager.nextQuery {
                try pager.receive(try Self.rows(of: query, for: user, in: db))
            }
            return pager.batch
        }
    }

    private static func rows(of query: FeedQuery, for user: UserID, in db: Database) throws -> [FeedRow] {
        switch query {
        case .content(let after, let limit):
            return try Row.fetchAll(
                db.cachedStatement(sql: FeedSQL.content),
                arguments: [Int64(clamping: after), user, limit]
            ).map { .brief(brief($0, state: $0["state"])) }
        case .state(let after, let limit):
            // two index scans merged by position: read-states and follows share the sequence
            let arguments: StatementArguments = [user, Int64(clamping: after), limit]
            let states = try Row.fetchAll(db.cachedStatement(sql: FeedSQL.readStates), arguments: arguments).map {
                FeedRow.readState(json: $0["state"], position: UInt64($0["position"] as Int64))
            }
            let follows = try Row.fetchAll(db.cachedStatement(sql: FeedSQL.follows), arguments: arguments).map {
                FeedRow.follow(
                    topic: $0["topic_id"],
                    followed: $0["followed"],
                    position: UInt64($0["position"] as Int64)
                )
            }
            return FeedRow.mergedByStatePosition(states, follows, limit: limit)
        case .catchUp(let catchUp, let savedOnly, let limit):
            let mark = catchUp.mark
            return try Row.fetchAll(
                db.cachedStatement(
                    sql: savedOnly
                        ? FeedSQL.catchUpSaved
                        : catchUp.topic == nil ? FeedSQL.catchUpWindowAll : FeedSQL.catchUpWindowTopic
                ),
                arguments: [
                    user, catchUp.topic?.rawValue, Int64(clamping: catchUp.through), catchUp.window?.iso,
                    mark.date.iso, Int64(clamping: mark.position), limit,
                ]
            ).map { .brief(brief($0, state: $0["state"])) }
        }
    }

    private static func brief(_ row: Row, state: String?) -> BriefRow {
        BriefRow(
            id: row["id"],
            topic: row["topic_id"],
            version: row["version"],
            digest: (row["digest"] as Data?).map { [UInt8]($0) },
            size: row["size"],
            date: row["brief_date"],
            position: UInt64(row["position"] as Int64),
            state: state
        )
    }
}
