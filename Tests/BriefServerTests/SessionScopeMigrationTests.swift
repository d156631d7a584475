import BriefModel
import BriefSchema
import Foundation
import GRDB
import Testing

@testable import BriefServer

/// Schema version 5 gives sessions a scope: every session made before it is a device's session,
/// and keeps working as one.
@Suite struct SessionScopeMigrationTests {
    @Test func sessionsMadeBeforeScopesAreDeviceSessions() async throws {
        let queue = try DatabaseQueue()
        var version4 = DatabaseMigrator()
        for (id, sql) in SchemaSQL.sqlite.prefix(4) {
            version4.registerMigration(id) { db in try db.execute(sql: sql) }
        }
        try version4.migrate(queue)
        let hash = [UInt8](repeating: 7, count: 32)
        try await queue.write { db in
            try db.execute(
                sql: "INSERT INTO users (id, username, password_hash, created_at) VALUES (1, 'anna', 'h', 1)"
            )
            try db.execute(
                sql: """
                    INSERT INTO sessions (token_hash, id, user_id, device_id, device_name, created_at, last_used_at)
                    VALUES (?, 's-0123456789abcdef', 1, 'phone', NULL, 1, 1)
                    """,
                arguments: [Data(hash)]
            )
        }
        let store = try SQLiteDeltaStore(queue)
        let session = try #require(try await store.session(tokenHash: hash))
        #expect(session.scope == .device && session.deviceID.rawValue == "phone")
        #expect(SchemaSQL.sqlite.map(\.id) == SchemaSQL.postgres.map(\.id))
    }
}
