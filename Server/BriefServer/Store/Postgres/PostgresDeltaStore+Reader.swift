import BriefModel
import Foundation
import PostgresNIO

extension PostgresDeltaStore {
    public func readerItems(for user: UserID, matching query: ReaderItemQuery) async throws -> [ReaderItemRef] {
        guard !query.matchesNothing else {
            return []
        }
        return try await converting {
            // why one statement with optional filters: as SQLiteDeltaStore.readerItems
            let rows =
                query.oldestFirst
                ? try await client.execute(ReaderItemsOldestFirst(user: user, query: query), logger: logger)
                : try await client.execute(ReaderItemsNewestFirst(user: user, query: query), logger: logger)
            var refs: [ReaderItemRef] = []
            for try await row in rows {
                if let ref = Self.readerItemRef(row) {
                    refs.append(ref)
                }
            }
            return refs
        }
    }

    public func readerContents(for user: UserID, ids: [Int64]) async throws -> [ReaderItem] {
        guard !ids.isEmpty else {
            return []
        }
        return try await converting {
            var items: [ReaderItem] = []
            for try await row in try await client.query(
                """
                SELECT b.item_id, b.id, b.topic_id, COALESCE(r.is_read, FALSE), COALESCE(r.saved, FALSE),
                       t.name, b.published_at, c.document
                FROM briefs b
                JOIN topics t ON t.id = b.topic_id
                JOIN contents c ON c.digest = b.digest
                LEFT JOIN read_states r ON r.user_id = \(user) AND r.brief_id = b.id
                WHERE b.retracted_at IS NULL AND b.item_id = ANY(\(ids))
                ORDER BY b.item_id
                """,
                logger: logger
            ).decode((Int64, String, String, Bool, Bool, String, Int64, String).self) {
                if let ref = Self.readerItemRef((row.0, row.1, row.2, row.3, row.4)) {
                    items.append(ReaderItem(ref: ref, topicName: row.5, publishedAt: row.6, document: row.7))
                }
            }
            return items
        }
    }

    public func readerUnreadCounts(for user: UserID) async throws -> [ReaderUnreadCount] {
        try await converting {
            var counts: [ReaderUnreadCount] = []
            for try await (topic, count, newest) in try await client.query(
                """
                SELECT b.topic_id, COUNT(*), MAX(b.item_id)
                FROM briefs b
                LEFT JOIN read_states r ON r.user_id = \(user) AND r.brief_id = b.id
                LEFT JOIN subscriptions s ON s.user_id = \(user) AND s.topic_id = b.topic_id
                WHERE b.retracted_at IS NULL AND b.item_id IS NOT NULL AND COALESCE(s.followed, TRUE)
                  AND NOT COALESCE(r.is_read, FALSE)
                GROUP BY b.topic_id ORDER BY b.topic_id
                """,
                logger: logger
            ).decode((String, Int64, Int64).self) {
                if let topic = TopicID(rawValue: topic) {
                    counts.append(ReaderUnreadCount(topic: topic, count: Int(count), newestItemID: newest))
                }
            }
            return counts
        }
    }

    fileprivate static func readerItemRef(_ row: (Int64, String, String, Bool, Bool)) -> ReaderItemRef? {
        guard let brief = BriefID(rawValue: row.1), let topic = TopicID(rawValue: row.2) else {
            return nil
        }
        return ReaderItemRef(itemID: row.0, briefID: brief, topic: topic, read: row.3, saved: row.4)
    }
}

/// A Reader API stream's briefs (``ReaderItemQuery``), in one of its two orders. Binds $1 user,
/// $2 and $3 the item id range, $4 topic or NULL, $5 followed only, $6 read or NULL, $7 saved or
/// NULL, $8 item ids or NULL, $9 limit.
protocol ReaderItemsStatement: PostgresPreparedStatement where Row == (Int64, String, String, Bool, Bool) {
    var user: Int64 { get }
    var query: ReaderItemQuery { get }
}

extension ReaderItemsStatement {
    static var filteredSQL: String {
        """
        SELECT b.item_id, b.id, b.topic_id, COALESCE(r.is_read, FALSE), COALESCE(r.saved, FALSE)
        FROM briefs b
        LEFT JOIN read_states r ON r.user_id = $1 AND r.brief_id = b.id
        LEFT JOIN subscriptions s ON s.user_id = $1 AND s.topic_id = b.topic_id
        WHERE b.retracted_at IS NULL AND b.item_id BETWEEN $2 AND $3
          AND ($4::text IS NULL OR b.topic_id = $4)
          AND (NOT $5::boolean OR COALESCE(s.followed, TRUE))
          AND ($6::boolean IS NULL OR COALESCE(r.is_read, FALSE) = $6)
          AND ($7::boolean IS NULL OR COALESCE(r.saved, FALSE) = $7)
          AND ($8::bigint[] IS NULL OR b.item_id = ANY($8))
        """
    }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(user)
        bindings.append(query.lowest)
        bindings.append(query.highest)
        bindings.append(query.topic?.rawValue)
        bindings.append(query.scope == .followed)
        bindings.append(query.read)
        bindings.append(query.saved)
        bindings.append(query.ids)
        bindings.append(Int64(query.limit))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

struct ReaderItemsNewestFirst: ReaderItemsStatement {
    static let sql = filteredSQL + " ORDER BY b.item_id DESC LIMIT $9"
    var user: Int64
    var query: ReaderItemQuery
}

struct ReaderItemsOldestFirst: ReaderItemsStatement {
    static let sql = filteredSQL + " ORDER BY b.item_id ASC LIMIT $9"
    var user: Int64
    var query: ReaderItemQuery
}
