import BriefModel
import Foundation
import GRDB

extension SQLiteDeltaStore {
    public func readerItems(for user: UserID, matching query: ReaderItemQuery) async throws -> [ReaderItemRef] {
        guard !query.matchesNothing else {
            return []
        }
        let ids = try query.ids.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return try await read { db in
            // why one statement with optional filters (`? IS NULL OR …`): a stream's filters are
            // the same few, and the item id index gives the order either way
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT b.item_id, b.id, b.topic_id, COALESCE(r.is_read, 0) AS is_read,
                               COALESCE(r.saved, 0) AS saved
                        FROM briefs b
                        LEFT JOIN read_states r ON r.user_id = :user AND r.brief_id = b.id
                        LEFT JOIN subscriptions s ON s.user_id = :user AND s.topic_id = b.topic_id
                        WHERE b.retracted_at IS NULL AND b.item_id BETWEEN :lowest AND :highest
                          AND (:topic IS NULL OR b.topic_id = :topic)
                          AND (:followed = 0 OR COALESCE(s.followed, 1) = 1)
                          AND (:read IS NULL OR COALESCE(r.is_read, 0) = :read)
                          AND (:saved IS NULL OR COALESCE(r.saved, 0) = :saved)
                          AND (:ids IS NULL OR b.item_id IN (SELECT value FROM json_each(:ids)))
                        ORDER BY b.item_id \(query.oldestFirst ? "ASC" : "DESC") LIMIT :limit
                        """
                ),
                arguments: [
                    "user": user, "lowest": query.lowest, "highest": query.highest, "topic": query.topic?.rawValue,
                    "followed": query.scope == .followed, "read": query.read, "saved": query.saved, "ids": ids,
                    "limit": query.limit,
                ]
            ).compactMap(Self.readerItemRef)
        }
    }

    public func readerContents(for user: UserID, ids: [Int64]) async throws -> [ReaderItem] {
        guard !ids.isEmpty else {
            return []
        }
        let list = String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)
        return try await read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT b.item_id, b.id, b.topic_id, COALESCE(r.is_read, 0) AS is_read,
                               COALESCE(r.saved, 0) AS saved, t.name, b.published_at, c.document
                        FROM briefs b
                        JOIN topics t ON t.id = b.topic_id
                        JOIN contents c ON c.digest = b.digest
                        LEFT JOIN read_states r ON r.user_id = ? AND r.brief_id = b.id
                        WHERE b.retracted_at IS NULL AND b.item_id IN (SELECT value FROM json_each(?))
                        ORDER BY b.item_id
                        """
                ),
                arguments: [user, list]
            ).compactMap { row in
                Self.readerItemRef(row).map {
                    ReaderItem(
                        ref: $0,
                        topicName: row["name"],
                        publishedAt: row["published_at"],
                        document: row["document"]
                    )
                }
            }
        }
    }

    public func readerUnreadCounts(for user: UserID) async throws -> [ReaderUnreadCount] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT b.topic_id, COUNT(*) AS unread, MAX(b.item_id) AS newest
                        FROM briefs b
                        LEFT JOIN read_states r ON r.user_id = :user AND r.brief_id = b.id
                        LEFT JOIN subscriptions s ON s.user_id = :user AND s.topic_id = b.topic_id
                        WHERE b.retracted_at IS NULL AND b.item_id IS NOT NULL AND COALESCE(s.followed, 1) = 1
                          AND COALESCE(r.is_read, 0) = 0
                        GROUP BY b.topic_id ORDER BY b.topic_id
                        """
                ),
                arguments: ["user": user]
            ).compactMap { row in
                TopicID(rawValue: row["topic_id"]).map {
                    ReaderUnreadCount(topic: $0, count: row["unread"], newestItemID: row["newest"])
                }
            }
        }
    }

    private static func readerItemRef(_ row: Row) -> ReaderItemRef? {
        guard let brief = BriefID(rawValue: row["id"]), let topic = TopicID(rawValue: row["topic_id"]) else {
            return nil
        }
        return ReaderItemRef(
            itemID: row["item_id"],
            briefID: brief,
            topic: topic,
            read: row["is_read"],
            saved: row["saved"]
        )
    }
}
