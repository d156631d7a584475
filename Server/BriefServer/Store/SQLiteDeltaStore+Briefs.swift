import BriefModel
import Crypto
import Foundation
import GRDB

extension SQLiteDeltaStore {
    public func publish(_ brief: Brief, now: Int64) async throws -> PublishResultV1 {
        let document = String(decoding: try WireCoding.encoder().encode(brief), as: UTF8.self)
        let digest = Data(SHA256.hash(data: Data(document.utf8)))
        return try await write { db in
            try db.execute(
                sql: "INSERT INTO topics (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                arguments: [brief.topic.id.rawValue, brief.topic.name]
            )
            let existing = try Row.fetchOne(
                db,
                sql: "SELECT version, digest, retracted_at FROM briefs WHERE id = ?",
                arguments: [brief.id.rawValue]
            )
            let previousVersion: Int = existing?["version"] ?? 0
            if let existing, existing["digest"] as Data == digest, existing["retracted_at"] as Int64? == nil {
                // why: an identical re-publish must not feed every device the same brief again
                return PublishResultV1(id: brief.id, version: previousVersion, changed: false)
            }
            let version = previousVersion + 1
            try db.execute(
                sql: """
                    INSERT INTO briefs (id, topic_id, version, document, digest, published_at, retracted_at, position)
                    VALUES (?, ?, ?, ?, ?, ?, NULL, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        topic_id = excluded.topic_id, version = excluded.version, document = excluded.document,
                        digest = excluded.digest, published_at = excluded.published_at, retracted_at = NULL,
                        position = excluded.position
                    """,
                arguments: [
                    brief.id.rawValue, brief.topic.id.rawValue, version, document, digest, now,
                    try Self.nextPosition(db),
                ]
            )
            return PublishResultV1(id: brief.id, version: version, changed: true)
        }
    }

    public func retract(_ id: BriefID, now: Int64) async throws -> PublishResultV1? {
        try await write { db in
            guard
                let existing = try Row.fetchOne(
                    db,
                    sql: "SELECT version, retracted_at FROM briefs WHERE id = ?",
                    arguments: [id.rawValue]
                )
            else {
                return nil
            }
            let version: Int = existing["version"]
            if existing["retracted_at"] as Int64? != nil {
                return PublishResultV1(id: id, version: version, changed: false)
            }
            // The row stays as a tombstone, with a new position, so devices learn of the retraction.
            try db.execute(
                sql: "UPDATE briefs SET version = ?, retracted_at = ?, position = ? WHERE id = ?",
                arguments: [version + 1, now, try Self.nextPosition(db), id.rawValue]
            )
            try db.execute(sql: "DELETE FROM backfill WHERE brief_id = ?", arguments: [id.rawValue])
            return PublishResultV1(id: id, version: version + 1, changed: true)
        }
    }

    public func purgeTombstones(retractedBefore cutoff: Int64) async throws -> Int {
        try await write { db in
            let horizon = try Int64.fetchOne(
                db,
                sql: "SELECT MAX(position) FROM briefs WHERE retracted_at IS NOT NULL AND retracted_at < ?",
                arguments: [cutoff]
            )
            guard let horizon else {
                return 0
            }
            try db.execute(
                sql: "DELETE FROM briefs WHERE retracted_at IS NOT NULL AND retracted_at < ?",
                arguments: [cutoff]
            )
            let purged = db.changesCount
            // why: a token at or below the newest purged tombstone may have missed that retraction
            try db.execute(
                sql: """
                    INSERT INTO server_meta (key, value) VALUES ('purged_through', ?)
                    ON CONFLICT (key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))
                    """,
                arguments: [String(horizon)]
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
