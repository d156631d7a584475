import BriefModel
import Foundation
import GRDB

/// What the device can say about itself: where sync stands, and why a brief's state is what it is.
extension DeviceStore {
    /// Where the device's sync stands: the signed-in account's queue, every account's queue on
    /// this device, and the mutations dropped because they could no longer apply.
    public func status() async throws -> SyncStatus {
        try await writer.read { db in
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT last_sync_at, last_error, full_resync, incarnation,
                               (SELECT COUNT(*) FROM outbox) AS pending, (SELECT COUNT(*) FROM briefs) AS briefs
                        FROM sync_state WHERE id = 1
                        """
                )
            )
            let signedIn = try Self.account(db)
            var queues: [String: AccountQueue] = [:]
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT account, server, username FROM accounts")) {
                queues[row["account"]] = AccountQueue(
                    account: row["account"],
                    server: row["server"],
                    username: row["username"],
                    isSignedIn: signedIn?.rawValue == row["account"],
                    pendingMutations: 0,
                    oldestQueuedAt: nil
                )
            }
            // why two sources: the outbox is the signed-in account's, sealed rows name their own
            let counts = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT account, COUNT(*) AS pending, MIN(queued_at) AS oldest FROM sealed_outbox GROUP BY account
                        UNION ALL
                        SELECT (SELECT account FROM sync_state WHERE id = 1), COUNT(*), MIN(queued_at) FROM outbox
                        """
                )
            )
            for row in counts {
                guard let account: String = row["account"], queues[account] != nil else {
                    continue
                }
                queues[account]?.pendingMutations += row["pending"] as Int
                queues[account]?.oldestQueuedAt = row["oldest"]
            }
            let shown = queues.values.filter { $0.isSignedIn || $0.pendingMutations > 0 }.sorted {
                $0.account < $1.account
            }
            let dropped = try Self.droppedMutations(db, limit: SyncStatus.droppedShown)
            return SyncStatus(
                pendingMutations: row?["pending"] ?? 0,
                lastSyncAt: row?["last_sync_at"],
                lastError: row?["last_error"],
                fullResyncInProgress: row?["full_resync"] ?? false,
                briefCount: row?["briefs"] ?? 0,
                deviceID: deviceID,
                incarnation: row?["incarnation"] ?? "",
                account: signedIn,
                accounts: shown,
                droppedMutations: dropped
            )
        }
    }

    /// Every mutation dropped on this device because it could no longer apply, newest first
    /// (``status()`` lists the last ``SyncStatus/droppedShown``).
    public func droppedMutations() async throws -> [DroppedMutation] {
        try await writer.read { db in try Self.droppedMutations(db, limit: nil) }
    }

    private static func droppedMutations(_ db: Database, limit: Int?) throws -> [DroppedMutation] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT mutation_id, account, brief_id, mutation, reason, dropped_at FROM dropped_mutations
                    ORDER BY dropped_at DESC, mutation_id DESC LIMIT ?
                    """
            ),
            arguments: [limit ?? -1]  // why -1: SQLite reads a negative LIMIT as none
        ).map { row in
            DroppedMutation(
                mutationId: UInt64(row["mutation_id"] as Int64),
                account: row["account"],
                briefId: row["brief_id"],
                action: (try? decode(MutationV1.self, row["mutation"]))?.action.name ?? "?",
                reason: row["reason"],
                droppedAt: row["dropped_at"]
            )
        }
    }

    /// What decides one brief's reading state here: the server's confirmed state, the pending
    /// mutations on top, and when the server last confirmed it (`brief-device explain`).
    public func explain(_ id: BriefID) async throws -> ReadStateExplanation {
        try await writer.read { db in
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT confirmed, confirmed_at FROM read_states WHERE brief_id = ?"),
                arguments: [id.rawValue]
            )
            let pending = try String.fetchAll(
                db.cachedStatement(sql: "SELECT mutation FROM outbox WHERE brief_id = ? ORDER BY mutation_id"),
                arguments: [id.rawValue]
            ).map { try Self.decode(MutationV1.self, $0) }
            return ReadStateExplanation(
                briefID: id,
                visible: try Self.visibleState(db, id),
                confirmed: try (row?["confirmed"] as String?).map { try Self.decode(ReadState.self, $0) },
                pending: pending,
                confirmedAt: row?["confirmed_at"]
            )
        }
    }
}
