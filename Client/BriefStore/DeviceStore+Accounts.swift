import BriefModel
import Foundation
import GRDB

/// Accounts on one device store. The outbox and the reading state belong to the account signed
/// in: signing out seals them under that account (kept, never sent under another), and signing
/// in as that account again resumes them. Another account starts with none of them.
///
/// Briefs are the same for every follower, so they stay; when another account signs in, the
/// store resyncs from scratch, which keeps the briefs it holds at their version and removes the
/// ones that account's feed does not bring.
extension DeviceStore {
    /// The account signed in, if any.
    public func signedInAccount() async throws -> AccountID? {
        try await writer.read { db in try Self.account(db) }
    }

    /// Signs `account` in on this store, in one transaction: the queue and reading state of the
    /// account signed in before are sealed, this account's own come back, and the change token
    /// is reset when the briefs followed another account's feed.
    ///
    /// A store that never had an account (one created by version 1 of the schema) gives what it
    /// holds to the first account that signs in.
    @discardableResult
    public func signIn(_ account: AccountID, now: Int64) async throws -> SignInOutcome {
        try await writer.write { db in
            let current = try Self.account(db)
            let firstEver = try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM accounts")) == 0
            try db.cachedStatement(
                sql: """
                    INSERT INTO accounts (account, server, username, signed_in_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (account) DO UPDATE SET
                        server = excluded.server, username = excluded.username, signed_in_at = excluded.signed_in_at
                    """
            ).execute(arguments: [account.rawValue, account.server, account.username, now]
            )
            var outcome = SignInOutcome(sealed: nil, resumedMutations: 0, resyncs: false)
            if current == account {
                return outcome
            }
            if let current {
                try Self.seal(current, db)
                outcome.sealed = current
            } else if !firstEver {
                // why: with no account signed in, the active tables are empty unless a version-1
                // store left rows there; only the first account ever may take those
                try Self.discardActive(db)
            }
            outcome.resumedMutations = try Self.unseal(account, db)
            let feed = try String.fetchOne(db.cachedStatement(sql: "SELECT feed_account FROM sync_state WHERE id = 1"))
            if feed != account.rawValue && !(firstEver && feed == nil) {
                // why: the token and the briefs follow another user's feed (the server would
                // refuse the token anyway); start over, keeping briefs held at their version
                try db.cachedStatement(sql: "UPDATE sync_state SET change_token = NULL, full_resync = 1 WHERE id = 1")
                    .execute()
                try db.cachedStatement(sql: "DELETE FROM resync_seen").execute()
                outcome.resyncs = true
            }
            try db.cachedStatement(sql: "UPDATE sync_state SET account = ?, feed_account = ? WHERE id = 1").execute(
                arguments: [account.rawValue, account.rawValue]
            )
            return outcome
        }
    }

    /// Signs the account out, online or offline: its queued mutations and reading state are
    /// sealed under it until it signs in again, or discarded when `discardingPending` (the
    /// user asked): then they are never sent, and its reading state leaves the device too.
    @discardableResult
    public func signOut(discardingPending: Bool = false) async throws -> SignOutOutcome {
        try await writer.write { db in
            guard let account = try Self.account(db) else {
                return SignOutOutcome(account: nil, sealedMutations: 0, discardedMutations: 0)
            }
            let pending = try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM outbox")) ?? 0
            if discardingPending {
                try Self.discardActive(db)
                // why: its reading state is gone from here, while the token says it was received
                try db.cachedStatement(
                    sql: """
                        UPDATE sync_state SET feed_account = NULL, change_token = NULL, full_resync = 1
                        WHERE id = 1 AND feed_account = ?
                        """
                ).execute(arguments: [account.rawValue]
                )
            } else {
                try Self.seal(account, db)
            }
            try db.cachedStatement(sql: "UPDATE sync_state SET account = NULL WHERE id = 1").execute()
            return SignOutOutcome(
                account: account,
                sealedMutations: discardingPending ? 0 : pending,
                discardedMutations: discardingPending ? pending : 0
            )
        }
    }

    /// The incarnation this store pushes under (see ``PushRequestV1``).
    public func incarnation() async throws -> String {
        try await writer.read { db in try Self.incarnation(db) }
    }

    /// Takes a new incarnation: the server will number this store's pushes from zero again, so
    /// that its queued mutations are applied rather than taken for another copy's. Returns it.
    ///
    /// - Parameter replacing: Renew only if the incarnation is still this one (another sync may
    ///   have renewed it meanwhile); `nil` renews in any case.
    @discardableResult
    public func renewIncarnation(replacing old: String? = nil) async throws -> String {
        try await writer.write { db in
            let current = try Self.incarnation(db)
            if let old, old != current {
                return current
            }
            return try Self.renewIncarnation(db)
        }
    }

    // MARK: Helpers

    static func account(_ db: Database) throws -> AccountID? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT a.server, a.username FROM sync_state s JOIN accounts a ON a.account = s.account
                        WHERE s.id = 1
                        """
                )
            )
        else {
            return nil
        }
        return AccountID(server: row["server"], username: row["username"])
    }

    static func incarnation(_ db: Database) throws -> String {
        guard
            let incarnation = try String.fetchOne(
                db.cachedStatement(sql: "SELECT incarnation FROM sync_state WHERE id = 1")
            )
        else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "sync_state.incarnation is missing")
        }
        return incarnation
    }

    static func renewIncarnation(_ db: Database) throws -> String {
        let incarnation = "i-" + UUID().uuidString.lowercased()
        try db.cachedStatement(sql: "UPDATE sync_state SET incarnation = ? WHERE id = 1").execute(arguments: [
            incarnation
        ])
        return incarnation
    }

    /// Moves the active outbox and reading states under `account`.
    private static func seal(_ account: AccountID, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO sealed_outbox (account, mutation_id, brief_id, mutation, queued_at)
                SELECT ?, mutation_id, brief_id, mutation, queued_at FROM outbox
                """
        ).execute(arguments: [account.rawValue]
        )
        try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO sealed_read_states (account, brief_id, confirmed, visible, confirmed_at)
                SELECT ?, brief_id, confirmed, visible, confirmed_at FROM read_states
                """
        ).execute(arguments: [account.rawValue]
        )
        try discardActive(db)
    }

    private static func discardActive(_ db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM outbox").execute()
        try db.cachedStatement(sql: "DELETE FROM read_states").execute()
    }

    /// Moves `account`'s sealed rows back to the active tables; returns how many mutations.
    private static func unseal(_ account: AccountID, _ db: Database) throws -> Int {
        try db.cachedStatement(
            sql: """
                INSERT INTO outbox (mutation_id, brief_id, mutation, queued_at)
                SELECT mutation_id, brief_id, mutation, queued_at FROM sealed_outbox WHERE account = ?
                """
        ).execute(arguments: [account.rawValue]
        )
        let resumed = db.changesCount
        // why visible is recomputed, not copied: it is the confirmed state with the outbox, just
        // restored, on top; refreshVisible writes it and its flat columns as every edit does
        try db.cachedStatement(
            sql: """
                INSERT INTO read_states (brief_id, confirmed, visible, is_read, is_saved, progress, confirmed_at)
                SELECT brief_id, confirmed, visible, 0, 0, 0, confirmed_at FROM sealed_read_states WHERE account = ?
                """
        ).execute(arguments: [account.rawValue]
        )
        let briefs = try String.fetchAll(
            db.cachedStatement(sql: "SELECT brief_id FROM sealed_read_states WHERE account = ?"),
            arguments: [account.rawValue]
        )
        for id in briefs.compactMap(BriefID.init(rawValue:)) {
            try refreshVisible(db, id)
        }
        try db.cachedStatement(sql: "DELETE FROM sealed_outbox WHERE account = ?").execute(arguments: [account.rawValue]
        )
        try db.cachedStatement(sql: "DELETE FROM sealed_read_states WHERE account = ?").execute(arguments: [
            account.rawValue
        ])
        return resumed
    }
}
