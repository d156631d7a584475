import BriefModel
import BriefSchema
import BriefTestSupport
import Crypto
import Foundation
import GRDB
import Logging
import Testing

@testable import BriefServer

/// Schema version 6 numbers the briefs for the Reader API and keeps whether a state says read:
/// a database of version 5 gets item ids in the order its briefs arrived (ties by id) and its
/// read flags from the stored states, and numbering goes on above them.
@Suite struct ReaderMigrationTests {
    /// The rows of a version 5 database: b-1 and b-2 published in one millisecond, b-3 later,
    /// and anna's state of b-1 read. `blob` writes a hex literal in the dialect.
    static func version5Rows(blob: (String) -> String, saved: String) throws -> [String] {
        let read = ReadState(briefID: BriefID(rawValue: "b-1")!)
            .applying(.markRead, at: HybridTimestamp(wall: 1_000, device: DeviceID(rawValue: "phone")!))
        let state = String(decoding: try WireCoding.encoder().encode(read), as: UTF8.self)
        var rows = [
            "INSERT INTO users (id, username, password_hash, created_at) VALUES (1, 'anna', 'h', 1)",
            "INSERT INTO user_heads (user_id, position) VALUES (1, 4)",
            "INSERT INTO topics (id, name) VALUES ('climate', 'Climate')",
            "UPDATE content_head SET position = 3",
            "INSERT INTO read_states (user_id, brief_id, state, position, saved) VALUES (1, 'b-1', '\(state)', 4, \(saved))",
        ]
        for (position, id, publishedAt) in [(1, "b-2", 5_000), (2, "b-1", 5_000), (3, "b-3", 7_000)] {
            let document = String(
                decoding: try WireCoding.encoder().encode(try StoreConformanceTests.brief(id)),
                as: UTF8.self
            )
            let digest = ContentDigest.hex(Array(SHA256.hash(data: Data(document.utf8))))
            rows += [
                """
                INSERT INTO contents (digest, document, created_at)
                VALUES (\(blob(digest)), '\(document.replacingOccurrences(of: "'", with: "''"))', 1)
                """,
                """
                INSERT INTO briefs (id, topic_id, version, digest, size, published_at, position, brief_date)
                VALUES ('\(id)', 'climate', 1, \(blob(digest)), \(document.utf8.count), \(publishedAt), \(position),
                        '2026-06-26')
                """,
            ]
        }
        return rows
    }

    @Test func sqlite() async throws {
        let queue = try DatabaseQueue()
        var version5 = DatabaseMigrator()
        for (id, sql) in SchemaSQL.sqlite.prefix(5) {
            version5.registerMigration(id) { db in try db.execute(sql: sql) }
        }
        try version5.migrate(queue)
        let rows = try Self.version5Rows(blob: { "X'\($0)'" }, saved: "0")
        try await queue.write { db in
            for row in rows {
                try db.execute(sql: row)
            }
        }
        try await Self.expectNumbered(try SQLiteDeltaStore(queue))
    }

    @Test(.enabled(if: TestServices.postgres, "needs PostgreSQL (BRIEFSYNC_TEST_POSTGRES; scripts/test starts one)"))
    func postgres() async throws {
        try await TestPostgres.withDatabase { settings in
            try await TestPostgres.migrate(settings, through: 5)
            for row in try Self.version5Rows(blob: { "decode('\($0)', 'hex')" }, saved: "FALSE") {
                try await TestPostgres.execute(row, on: settings)
            }
            try await withOpenStore(.postgres(settings), logger: Logger(label: "migration")) { store in
                try await Self.expectNumbered(store)
            }
        }
    }

    static func expectNumbered(_ store: any DeltaStore) async throws {
        let all = try await store.readerItems(for: 1, matching: ReaderItemQuery(scope: .followed, limit: 10))
        #expect(all.map(\.briefID.rawValue) == ["b-3", "b-2", "b-1"])
        #expect(all.map(\.itemID) == [7_000_000, 5_000_001, 5_000_000])
        #expect(all.map(\.read) == [false, false, true])
        #expect(try await store.readerContents(for: 1, ids: [5_000_001]).map(\.ref.briefID.rawValue) == ["b-2"])
        // a brief published now, with a clock behind them all, still comes after every one
        _ = try await store.publish(try StoreConformanceTests.brief("b-4"), now: 6)
        let newest = try await store.readerItems(for: 1, matching: ReaderItemQuery(scope: .all, limit: 1))
        #expect(newest.map(\.itemID) == [7_000_001])
    }
}
