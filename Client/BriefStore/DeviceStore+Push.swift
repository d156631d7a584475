import BriefModel
import Foundation
import GRDB

/// The push side of a sync: the next batch, its acknowledgement, and the mutations that can
/// never apply. Each method is one transaction.
extension DeviceStore {
    /// The next push: the signed-in account's oldest queued mutations, in the order they were
    /// made, under this store's incarnation; `nil` when none is queued. Notes in the same
    /// transaction that they are sent, so that a cursor above every id sent is known for a copy's.
    ///
    /// - Throws: ``DeviceStoreError/notSignedIn``.
    public func preparePush(limit: Int) async throws -> PushBatch? {
        try await writer.write { db in
            guard let account = try Self.account(db) else {
                throw DeviceStoreError.notSignedIn
            }
            let mutations = try String.fetchAll(
                db.cachedStatement(sql: "SELECT mutation FROM outbox ORDER BY mutation_id LIMIT ?"),
                arguments: [limit]
            ).map { try Self.decode(MutationV1.self, $0) }
            guard let last = mutations.last else {
                return nil
            }
            try db.cachedStatement(sql: "UPDATE sync_state SET sent_through = MAX(sent_through, ?) WHERE id = 1")
                .execute(arguments: [Int64(last.id)]
                )
            let request = PushRequestV1(deviceID: deviceID, incarnation: try Self.incarnation(db), mutations: mutations)
            return PushBatch(account: account, request: request)
        }
    }

    /// Applies the answer to a push: drops the mutations of that push the server acknowledged
    /// (never one it was not sent), stores the server's merged states as confirmed, and
    /// recomputes what the reader sees from them and the mutations still queued.
    ///
    /// An answer whose cursor is above every mutation id this store ever sent can only come from
    /// another copy of the store having pushed under this incarnation: the store takes a new
    /// incarnation, so that its later pushes are applied instead of taken for that copy's.
    /// When another account signed in meanwhile, the acknowledged mutations leave that account's
    /// sealed queue and the states are left for its next sync, so that nothing crosses accounts.
    ///
    /// - Parameter now: The device's wall time, noted as when the server last confirmed the states.
    public func acknowledge(_ result: PushResultV1, of batch: PushBatch, now: Int64) async throws -> Acknowledgement {
        try await writer.write { db in
            let sent = batch.request.mutations.map(\.id).filter { $0 <= result.lastAppliedId }
            let ids = try Self.encode(sent)
            let signedIn = try Self.account(db) == batch.account
            var acknowledgement = Acknowledgement(acknowledged: 0, renewedIncarnation: false)
            let sentThrough =
                try Int64.fetchOne(db.cachedStatement(sql: "SELECT sent_through FROM sync_state WHERE id = 1")) ?? 0
            if result.lastAppliedId > UInt64(max(0, sentThrough)),
                try Self.incarnation(db) == batch.request.incarnation
            {
                _ = try Self.renewIncarnation(db)
                acknowledgement.renewedIncarnation = true
            }
            guard signedIn else {
                try db.cachedStatement(
                    sql:
                        "DELETE FROM sealed_outbox WHERE account = ? AND mutation_id IN (SELECT value FROM json_each(?))"
                ).execute(arguments: [batch.account.rawValue, ids]
                )
                acknowledgement.acknowledged = db.changesCount
                return acknowledgement
            }
            let touched = try String.fetchAll(
                db.cachedStatement(
                    sql: "SELECT DISTINCT brief_id FROM outbox WHERE mutation_id IN (SELECT value FROM json_each(?))"
                ),
                arguments: [ids]
            )
            try db.cachedStatement(sql: "DELETE FROM outbox WHERE mutation_id IN (SELECT value FROM json_each(?))")
                .execute(arguments: [ids]
                )
            acknowledgement.acknowledged = db.changesCount
            var recorder = try Self.recorder(db)
            for state in result.states {
                try Self.mergeConfirmed(state, db, now: now)
                recorder.observe(state)
            }
            try Self.save(recorder, db)
            for id in Set(touched).subtracting(result.states.map(\.briefID.rawValue)).compactMap(
                BriefID.init(rawValue:)
            ) {
                try Self.refreshVisible(db, id)
            }
            return acknowledgement
        }
    }

    /// Removes queued mutations of a push that can never apply (their brief is gone from the
    /// server), so that they do not block the ones behind them. Each is recorded in
    /// ``SyncStatus/droppedMutations`` with the reason.
    public func dropMutations(_ ids: [UInt64], of batch: PushBatch, reason: String, now: Int64) async throws {
        try await writer.write { db in
            let idList = try Self.encode(ids)
            let signedIn = try Self.account(db) == batch.account
            let table = signedIn ? "outbox" : "sealed_outbox"
            let scope = signedIn ? "" : "AND account = ?"
            let scopeArguments: StatementArguments = signedIn ? [] : [batch.account.rawValue]
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT mutation_id, brief_id, mutation FROM \(table) WHERE mutation_id IN (SELECT value FROM json_each(?)) \(scope)",
                arguments: [idList] + scopeArguments
            )
            for row in rows {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO dropped_mutations (mutation_id, account, brief_id, mutation, reason, dropped_at)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """
                ).execute(arguments: [
                    row["mutation_id"] as Int64, batch.account.rawValue, row["brief_id"] as String,
                    row["mutation"] as String, reason, now,
                ]
                )
            }
            try db.execute(
                sql: "DELETE FROM \(table) WHERE mutation_id IN (SELECT value FROM json_each(?)) \(scope)",
                arguments: [idList] + scopeArguments
            )
            try db.cachedStatement(sql: "UPDATE sync_state SET last_error = ? WHERE id = 1").execute(arguments: [reason]
            )
            if signedIn {
                for id in Set(rows.map { $0["brief_id"] as String }).compactMap(BriefID.init(rawValue:)) {
                    try Self.refreshVisible(db, id)
                }
            }
        }
    }
}
