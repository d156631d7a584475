import BriefModel
import BriefSchema
import Crypto
import Foundation
import GRDB
import Testing

@testable import BriefServer

/// A database of schema version 2 (one global feed) migrated to version 3 (two planes) keeps
/// its briefs, states and follows, and their positions carry on on each plane.
@Suite struct FeedPlanesMigrationTests {
    @Test func aVersionTwoDatabaseCarriesOnOnBothPlanes() async throws {
        let queue = try DatabaseQueue()
        var version2 = DatabaseMigrator()
        for (id, sql) in SchemaSQL.sqlite.prefix(2) {
            version2.registerMigration(id) { db in try db.execute(sql: sql) }
        }
        try version2.migrate(queue)
        // anna saved b-1 (position 3) and unfollowed tech (position 4) on the one feed
        let saved = ReadState(briefID: BriefID(rawValue: "b-1")!)
            .applying(.save, at: HybridTimestamp(wall: 1_000, device: DeviceID(rawValue: "phone")!))
        let state = String(decoding: try WireCoding.encoder().encode(saved), as: UTF8.self)
        try await queue.write { db in
            try db.execute(
                sql: "INSERT INTO users (id, username, password_hash, created_at) VALUES (1, 'anna', 'h', 1)"
            )
            try db.execute(sql: "INSERT INTO topics (id, name) VALUES ('climate', 'Climate'), ('tech', 'Tech')")
            for (position, id, date) in [(1, "b-1", "2026-07-01"), (2, "b-2", "2026-07-09")] {
                let brief = try StoreConformanceTests.brief(id, date: date)
                let document = String(decoding: try WireCoding.encoder().encode(brief), as: UTF8.self)
                try db.execute(
                    sql: """
                        INSERT INTO briefs (id, topic_id, version, document, digest, published_at, position)
                        VALUES (?, 'climate', 1, ?, ?, 1, ?)
                        """,
                    arguments: [id, document, Data(SHA256.hash(data: Data(document.utf8))), position]
                )
            }
            try db.execute(
                sql: "INSERT INTO read_states (user_id, brief_id, state, position) VALUES (1, 'b-1', ?, 3)",
                arguments: [state]
            )
            try db.execute(
                sql: "INSERT INTO subscriptions (user_id, topic_id, followed, position) VALUES (1, 'tech', 0, 4)"
            )
            try db.execute(sql: "UPDATE feed_head SET position = 4")
        }

        let store = try SQLiteDeltaStore(queue)
        let (heads, dates, savedFlags, contents) = try await queue.read { db in
            (
                try Row.fetchOne(
                    db,
                    sql:
                        "SELECT (SELECT position FROM content_head), (SELECT position FROM user_heads WHERE user_id = 1)"
                ).map { [$0[0] as Int64, $0[1] as Int64] },
                try String.fetchAll(db, sql: "SELECT brief_date FROM briefs ORDER BY id"),
                try Bool.fetchAll(db, sql: "SELECT saved FROM read_states"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM contents"),
            )
        }
        #expect(heads == [4, 4])
        #expect(dates == ["2026-07-01", "2026-07-09"])
        #expect(savedFlags == [true])
        #expect(contents == 2)
        #expect(try await queue.read { db in try db.tableExists("backfill") || db.tableExists("feed_head") } == false)
        // version 4: each brief names its edition's size, and its document lives only in contents
        let (sizesMatch, briefColumns) = try await queue.read { db in
            (
                try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) = 2 FROM briefs b JOIN contents c ON c.digest = b.digest
                        WHERE b.size = length(CAST(c.document AS BLOB)) AND b.size > 0
                        """
                ),
                try db.columns(in: "briefs").map(\.name),
            )
        }
        #expect(sizesMatch == true)
        #expect(!briefColumns.contains("document") && briefColumns.contains("size"))

        // a device starting over with a window after b-1's date gets b-2, then saved b-1 with its state
        let (pages, cursor) = try await StoreConformanceTests.drain(
            store,
            user: 1,
            window: CalendarDate(iso: "2026-07-05")
        )
        #expect(StoreConformanceTests.ids(pages) == ["b-2", "b-1"])
        #expect(pages.flatMap(\.published).allSatisfy { $0.digest?.utf8.count == 64 && $0.size > 0 })
        #expect(pages.flatMap(\.readStates).map(\.isSaved) == [true])
        #expect(cursor.content == 4 && cursor.state == 4)

        // and each plane numbers on from where the one feed stood
        _ = try await store.publish(try StoreConformanceTests.brief("b-3", date: "2026-07-10"), now: 2)
        _ = try await store.setFollowing(TopicID(rawValue: "tech")!, true, for: 1)
        let (next, after) = try await StoreConformanceTests.drain(store, user: 1, after: cursor)
        #expect(after.content == 5 && after.state == 5)
        #expect(StoreConformanceTests.ids(next) == ["b-3"] && next.flatMap(\.followedTopics).count == 1)
    }
}
