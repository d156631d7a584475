import BriefModel
import Crypto
import Foundation
import GRDB

extension SQLiteDeltaStore {
    public func publish(_ brief: Brief, now: Int64) async throws -> PublishResultV1 {
        let edition = try Edition(brief)
        let (document, digest) = (edition.document, Data(edition.digest))
        return try await write { db in
            try db.cachedStatement(
                sql: "INSERT INTO topics (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name"
            ).execute(arguments: [brief.topic.id.rawValue, brief.topic.name]
            )
            let held = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT version, digest, retracted_at FROM briefs WHERE id = ?"),
                arguments: [brief.id.rawValue]
            ).map {
                EditionPlan.Held(
                    version: $0["version"],
                    digest: ($0["digest"] as Data?).map { [UInt8]($0) },
                    retracted: $0["retracted_at"] as Int64? != nil
                )
            }
            let plan = EditionPlan.publish(digest: edition.digest, over: held)
            guard case .write(let version) = plan else {
                return plan.result(brief.id, digest: edition.hexDigest)
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO contents (digest, document, gzip, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (digest) DO NOTHING
                    """
            ).execute(arguments: [digest, document, Data(edition.gzip), now]
            )
            try db.execute(
                sql: """
                    INSERT INTO briefs (
                        id, topic_id, version, digest, size, published_at, retracted_at, position, brief_date, item_id)
                    VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, MAX(?, COALESCE((SELECT MAX(item_id) FROM briefs), 0) + 1))
                    ON CONFLICT (id) DO UPDATE SET
                        topic_id = excluded.topic_id, version = excluded.version, digest = excluded.digest,
                        size = excluded.size, published_at = excluded.published_at, retracted_at = NULL,
                        position = excluded.position, brief_date = excluded.brief_date
                    """,
                // why item_id is not updated: a Reader API client keeps it as the item's identity
                // (Schema/sqlite/server_v6.sql), so a correction or a return keeps it
                arguments: [
                    brief.id.rawValue, brief.topic.id.rawValue, version, digest, document.utf8.count, now,
                    try Self.nextContentPosition(db), brief.date.iso, now * 1000,
                ]
            )
            return plan.result(brief.id, digest: edition.hexDigest)
        }
    }

    public func content(digest: [UInt8], gzip: Bool) async throws -> StoredContent? {
        try await read { db in
            // why a cursor, and columns by index: `Row.fetchOne` copies the row with its column
            // names, a tenth of the server's CPU for a content fetch (perf)
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT CASE WHEN ?1 THEN gzip END, CASE WHEN NOT ?1 OR gzip IS NULL THEN document END
                        FROM contents WHERE digest = ?2
                        """
                ),
                arguments: [gzip, Data(digest)]
            )
            return try rows.next().map { row in
                if let bytes = row[0] as Data? { .gzip([UInt8](bytes)) } else { .document(row[1]) }
            }
        }
    }

    public func topicEditions(_ topic: TopicID, limit: Int) async throws -> TopicEditions? {
        try await read { db in
            guard
                let name = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT name FROM topics WHERE id = ?"),
                    arguments: [topic.rawValue]
                )
            else {
                return nil
            }
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT b.version, b.published_at, b.digest, c.document FROM briefs b
                        JOIN contents c ON c.digest = b.digest
                        WHERE b.topic_id = ? AND b.retracted_at IS NULL
                        ORDER BY b.brief_date DESC, b.position DESC LIMIT ?
                        """
                ),
                arguments: [topic.rawValue, limit]
            )
            return TopicEditions(
                name: name,
                editions: rows.map {
                    .init(
                        version: $0["version"],
                        publishedAt: $0["published_at"],
                        digest: [UInt8]($0["digest"] as Data),
                        document: $0["document"]
                    )
                }
            )
        }
    }

    public func keepCompressed(_ gzip: [UInt8], digest: [UInt8]) async throws {
        try await write { db in
            try db.cachedStatement(sql: "UPDATE contents SET gzip = ? WHERE digest = ? AND gzip IS NULL").execute(
                arguments: [Data(gzip), Data(digest)]
            )
        }
    }

    public func retract(_ id: BriefID, now: Int64) async throws -> PublishResultV1? {
        try await write { db in
            let held = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT version, retracted_at FROM briefs WHERE id = ?"),
                arguments: [id.rawValue]
            ).map {
                EditionPlan.Held(version: $0["version"], digest: nil, retracted: $0["retracted_at"] as Int64? != nil)
            }
            let plan = EditionPlan.retract(held)
            if case .tombstone(let version) = plan {
                try db.cachedStatement(
                    sql: "UPDATE briefs SET version = ?, retracted_at = ?, position = ? WHERE id = ?"
                ).execute(arguments: [version, now, try Self.nextContentPosition(db), id.rawValue]
                )
            }
            return plan.result(id)
        }
    }

    public func purgeTombstones(retractedBefore cutoff: Int64) async throws -> Int {
        try await write { db in
            let horizon = try Int64.fetchOne(
                db.cachedStatement(
                    sql: "SELECT MAX(position) FROM briefs WHERE retracted_at IS NOT NULL AND retracted_at < ?"
                ),
                arguments: [cutoff]
            )
            guard let horizon else {
                return 0
            }
            try db.cachedStatement(sql: "DELETE FROM briefs WHERE retracted_at IS NOT NULL AND retracted_at < ?")
                .execute(arguments: [cutoff]
                )
            let purged = db.changesCount
            // editions no brief points to any more, once as old as the tombstones
            try db.cachedStatement(
                sql: "DELETE FROM contents WHERE created_at < ? AND digest NOT IN (SELECT digest FROM briefs)"
            ).execute(arguments: [cutoff]
            )
            // why: a token at or below the newest purged tombstone may have missed that retraction
            try db.cachedStatement(
                sql: """
                    INSERT INTO server_meta (key, value) VALUES ('purged_through', ?)
                    ON CONFLICT (key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))
                    """
            ).execute(arguments: [String(horizon)]
            )
            return purged
        }
    }

    public func feedState() async throws -> FeedState {
        try await read { db in
            var state = FeedState(epoch: 0, purgedThrough: 0)
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT key, value FROM server_meta WHERE key IN ('epoch', 'purged_through')")
            )
            while let row = try rows.next() {
                let (key, value): (String, String) = (row["key"], row["value"])
                if key == "epoch" {
                    state.epoch = UInt32(value) ?? 0
                } else {
                    state.purgedThrough = UInt64(value) ?? 0
                }
            }
            return state
        }
    }
}
