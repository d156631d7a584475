import BriefModel
import BriefSchema
import BriefTestSupport
import Crypto
import Foundation
import GRDB
import Logging
import Testing

@testable import BriefServer

/// A database of schema version 2 (one global feed) migrated to version 3 (two planes) and 4
/// (briefs name their edition, documents only in contents) keeps its briefs, states and follows,
/// and their positions carry on on each plane; on SQLite and on PostgreSQL.
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

        try await Self.expectBothPlanesCarryOn(store)
    }

    @Test(.enabled(if: TestServices.postgres, "needs PostgreSQL (BRIEFSYNC_TEST_POSTGRES; scripts/test starts one)"))
    func postgres() async throws {
        try await TestPostgres.withDatabase { settings in
            try await TestPostgres.migrate(settings, through: 2)
            let saved = ReadState(briefID: BriefID(rawValue: "b-1")!)
                .applying(.save, at: HybridTimestamp(wall: 1_000, device: DeviceID(rawValue: "phone")!))
            let state = String(decoding: try WireCoding.encoder().encode(saved), as: UTF8.self)
            var statements = [
                "INSERT INTO users (id, username, password_hash, created_at) VALUES (1, 'anna', 'h', 1)",
                "INSERT INTO topics (id, name) VALUES ('climate', 'Climate'), ('tech', 'Tech')",
            ]
            for (position, id, date) in [(1, "b-1", "2026-07-01"), (2, "b-2", "2026-07-09")] {
                let brief = try StoreConformanceTests.brief(id, date: date)
                let document = String(decoding: try WireCoding.encoder().encode(brief), as: UTF8.self)
                let digest = ContentDigest.hex(Array(SHA256.hash(data: Data(document.utf8))))
                statements.append(
                    """
                    INSERT INTO briefs (id, topic_id, version, document, digest, published_at, position)
                    VALUES ('\(id)', 'climate', 1, '\(document.replacingOccurrences(of: "'", with: "''"))',
                            decode('\(digest)', 'hex'), 1, \(position))
                    """
                )
            }
            statements += [
                "INSERT INTO read_states (user_id, brief_id, state, position) VALUES (1, 'b-1', '\(state)', 3)",
                "INSERT INTO subscriptions (user_id, topic_id, followed, position) VALUES (1, 'tech', FALSE, 4)",
                "UPDATE feed_head SET position = 4",
            ]
            for statement in statements {
                try await TestPostgres.execute(statement, on: settings)
            }
            try await withOpenStore(.postgres(settings), logger: Logger(label: "migration")) { store in
                try await Self.expectBothPlanesCarryOn(store)
            }
            // version 4 took the document out of briefs: it lives in contents only
            await #expect(throws: (any Error).self) {
                try await TestPostgres.execute("SELECT document FROM briefs", on: settings)
            }
        }
    }

    /// What a migrated database of the fixture above serves: the window newest first with the
    /// saved brief and its state, each edition named by digest and size and served from contents,
    /// and each plane numbering on from where the one feed stood.
    static func expectBothPlanesCarryOn(_ store: any DeltaStore) async throws {
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
        for ref in pages.flatMap(\.published) {
            let digest = try #require(ref.digest.flatMap { ContentDigest.parse(Substring($0)) })
            let content = try #require(try await store.content(digest: digest, gzip: false))
            guard case .document(let document) = content else {
                Issue.record("a fetch that takes no gzip got \(content)")
                continue
            }
            #expect(document.utf8.count == ref.size)
        }
    }
}
