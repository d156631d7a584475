import BriefModel
import BriefSchema
import BriefStore
import Foundation
import GRDB
import Testing

/// A device store of schema version 1 (before accounts): its queue, reading state and change
/// token belong to the first account that signs in, as they belonged to the one logged in.
@Suite struct DeviceStoreMigrationTests {
    let phone = DeviceID(rawValue: "phone")!
    let brief = BriefID(rawValue: "b-1")!

    func version1Store() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        var version1 = DatabaseMigrator()
        let (id, sql) = SchemaSQL.device[0]
        version1.registerMigration(id) { db in try db.execute(sql: sql) }
        try version1.migrate(queue)
        var recorder = ChangeRecorder(device: phone)
        let mutations = [recorder.record(.markRead, on: brief, now: 10), recorder.record(.save, on: brief, now: 11)]
        let encoder = WireCoding.encoder()
        let text = { (value: any Encodable) in String(decoding: try encoder.encode(value), as: UTF8.self) }
        let visible = ReadState(briefID: brief).applying(mutations)
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO sync_state (id, device_id, recorder, change_token) VALUES (1, ?, ?, 'token-1')",
                arguments: [phone.rawValue, try text(recorder)]
            )
            try db.execute(
                sql: """
                    INSERT INTO briefs (id, topic_id, topic_name, date, title, version, document, stored_at)
                    VALUES ('b-1', 'climate', 'Climate', '2026-06-26', 'A title', 1, '{}', 1)
                    """
            )
            for mutation in mutations {
                try db.execute(
                    sql: "INSERT INTO outbox (mutation_id, brief_id, mutation, queued_at) VALUES (?, 'b-1', ?, 10)",
                    arguments: [Int64(mutation.id), try text(mutation)]
                )
            }
            try db.execute(
                sql: """
                    INSERT INTO read_states (brief_id, confirmed, visible, is_read, is_saved, progress)
                    VALUES ('b-1', NULL, ?, 1, 1, 0)
                    """,
                arguments: [try text(visible)]
            )
        }
        return queue
    }

    @Test func theFirstAccountTakesWhatAVersion1StoreHeld() async throws {
        let store = try DeviceStore(try version1Store())
        #expect(store.deviceID == phone)
        #expect(try await store.incarnation().hasPrefix("i-"))
        let anna = AccountID(server: "https://briefs.example", username: "anna")

        // Given the store has no account yet, when the account logged in before signs in
        let outcome = try await store.signIn(anna, now: 20)

        // Then its queue, its state and its token are kept: no resync, nothing sealed
        #expect(outcome.sealed == nil && !outcome.resyncs)
        #expect(try await store.changeToken() == "token-1")
        let batch = try #require(try await store.preparePush(limit: 10))
        #expect(batch.account == anna && batch.request.mutations.map(\.id) == [1, 2])
        #expect(batch.request.incarnation == (try await store.incarnation()))
        #expect(try await store.readState(brief).isSaved)
        // and the next edit continues the counter
        #expect(try await store.record(.markUnread, on: brief, now: 30).id == 3)

        // A second account gets none of it
        try await store.signOut()
        let bob = AccountID(server: "https://briefs.example", username: "bob")
        #expect(try await store.signIn(bob, now: 40).resyncs)
        #expect(try await store.preparePush(limit: 10) == nil)
        #expect(try await store.readState(brief) == ReadState(briefID: brief))
        #expect(try await store.changeToken() == nil)
        let queues = try await store.status().accounts
        #expect(queues.map(\.username) == ["anna", "bob"] && queues.map(\.pendingMutations) == [3, 0])
    }
}
