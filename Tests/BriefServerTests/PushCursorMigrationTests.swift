import BriefModel
import BriefSchema
import BriefTestSupport
import GRDB
import Logging
import Testing

@testable import BriefServer

/// A database of schema version 1 keeps every device's cursor: `device_cursors` becomes the
/// cursor of the incarnation `''`, which stores older than incarnations push under.
@Suite struct PushCursorMigrationTests {
    static func legacyPush(_ id: UInt64, _ action: ReadAction) -> PushRequestV1 {
        let phone = DeviceID(rawValue: "phone")!
        return PushRequestV1(
            deviceID: phone,
            mutations: [
                MutationV1(
                    id: id,
                    briefID: BriefID(rawValue: "b-1")!,
                    action: action,
                    stamp: HybridTimestamp(wall: 1_000 + Int64(id), device: phone)
                )
            ]
        )
    }

    /// What a store migrated from version 1 with phone's cursor at 2 must do.
    static func expectTheCursorKept(_ store: any DeltaStore, user: UserID) async throws {
        _ = try await store.publish(try StoreConformanceTests.brief("b-1"), now: 1)
        // Mutations after the migrated cursor apply; one at or below it cannot be shown to be a retry
        let next = try await store.push(Self.legacyPush(3, .markRead), for: user, applier: PushApplier(), now: 10)
        #expect(next.appliedCount == 1 && next.lastAppliedID == 3)
        await #expect(throws: StoreError.incarnationConflict(.init(index: 0, mutationID: 2, lastAppliedID: 3))) {
            try await store.push(Self.legacyPush(2, .save), for: user, applier: PushApplier(), now: 11)
        }
        #expect(
            try await store.push(Self.legacyPush(3, .markRead), for: user, applier: PushApplier(), now: 12).appliedCount
                == 0
        )
    }

    @Test func sqlite() async throws {
        let queue = try DatabaseQueue()
        var version1 = DatabaseMigrator()
        let (id, sql) = SchemaSQL.sqlite[0]
        version1.registerMigration(id) { db in try db.execute(sql: sql) }
        try version1.migrate(queue)
        try await queue.write { db in
            try db.execute(
                sql: "INSERT INTO users (id, username, password_hash, created_at) VALUES (1, 'anna', 'h', 1)"
            )
            try db.execute(
                sql: "INSERT INTO device_cursors (user_id, device_id, last_applied_id) VALUES (1, 'phone', 2)"
            )
        }
        let store = try SQLiteDeltaStore(queue)
        #expect(try await queue.read { db in try db.tableExists("device_cursors") } == false)
        try await Self.expectTheCursorKept(store, user: 1)
    }

    @Test(.enabled(if: TestServices.postgres, "needs PostgreSQL (BRIEFSYNC_TEST_POSTGRES; scripts/test starts one)"))
    func postgres() async throws {
        try await TestPostgres.withDatabase { settings in
            try await TestPostgres.migrate(settings, through: 1)
            try await TestPostgres.execute(
                "INSERT INTO users (id, username, password_hash, created_at) VALUES (1, 'anna', 'h', 1)",
                on: settings
            )
            try await TestPostgres.execute(
                "INSERT INTO device_cursors (user_id, device_id, last_applied_id) VALUES (1, 'phone', 2)",
                on: settings
            )
            try await withOpenStore(.postgres(settings), logger: Logger(label: "migration")) { store in
                try await Self.expectTheCursorKept(store, user: 1)
            }
        }
    }
}
