import BriefModel
import Foundation
import GRDB

extension SQLiteDeltaStore {
    public func createSession(_ session: SessionRecord) async throws {
        try await write { db in
            try db.cachedStatement(
                sql: """
                    INSERT INTO sessions (
                        token_hash, id, user_id, device_id, device_name, created_at, last_used_at, scope)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                Data(session.tokenHash), session.id, session.userID, session.deviceID.rawValue, session.deviceName,
                session.createdAt, session.lastUsedAt, session.scope.rawValue,
            ]
            )
        }
    }

    public func session(tokenHash: [UInt8]) async throws -> SessionRecord? {
        try await read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "\(Self.sessionSelect) WHERE s.token_hash = ? AND s.revoked_at IS NULL"),
                arguments: [Data(tokenHash)]
            ).flatMap(Self.session)
        }
    }

    public func sessions(of user: UserID) async throws -> [SessionRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    \(Self.sessionSelect) WHERE s.user_id = ? AND s.revoked_at IS NULL
                    ORDER BY s.last_used_at DESC, s.created_at DESC
                    """,
                arguments: [user]
            ).compactMap(Self.session)
        }
    }

    public func touchSession(tokenHash: [UInt8], now: Int64) async throws {
        try await write { db in
            try db.cachedStatement(
                sql: "UPDATE sessions SET last_used_at = ? WHERE token_hash = ? AND last_used_at < ?"
            ).execute(arguments: [now, Data(tokenHash), now]
            )
        }
    }

    public func revokeSession(tokenHash: [UInt8], now: Int64) async throws {
        try await write { db in
            try db.cachedStatement(
                sql: "UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL"
            ).execute(arguments: [now, Data(tokenHash)]
            )
        }
    }

    public func revokeSession(id: String, of user: UserID, now: Int64) async throws -> [UInt8]? {
        try await write { db in
            guard
                let hash = try Data.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT token_hash FROM sessions WHERE id = ? AND user_id = ? AND revoked_at IS NULL"
                    ),
                    arguments: [id, user]
                )
            else {
                return nil
            }
            try db.cachedStatement(sql: "UPDATE sessions SET revoked_at = ? WHERE token_hash = ?").execute(arguments: [
                now, hash,
            ])
            return [UInt8](hash)
        }
    }

    public func changePassword(of user: UserID, to passwordHash: String, keeping tokenHash: [UInt8], now: Int64)
        async throws -> [[UInt8]]
    {
        try await write { db in
            try db.cachedStatement(sql: "UPDATE users SET password_hash = ? WHERE id = ?").execute(arguments: [
                passwordHash, user,
            ])
            let others = try Data.fetchAll(
                db.cachedStatement(
                    sql: "SELECT token_hash FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND token_hash != ?"
                ),
                arguments: [user, Data(tokenHash)]
            )
            try db.cachedStatement(
                sql: "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND token_hash != ?"
            ).execute(arguments: [now, user, Data(tokenHash)]
            )
            return others.map { [UInt8]($0) }
        }
    }

    public func deleteUser(_ user: UserID) async throws -> [[UInt8]] {
        try await write { db in
            let hashes = try Data.fetchAll(
                db.cachedStatement(sql: "SELECT token_hash FROM sessions WHERE user_id = ?"),
                arguments: [user]
            )
            // why each table named, not left to ON DELETE CASCADE: it holds only with foreign keys on
            for table in [
                "read_states", "subscriptions", "push_cursors", "clamped_stamps", "user_heads", "sessions", "users",
            ] {
                let column = table == "users" ? "id" : "user_id"
                try db.execute(sql: "DELETE FROM \(table) WHERE \(column) = ?", arguments: [user])
            }
            return hashes.map { [UInt8]($0) }
        }
    }

    private static let sessionSelect = """
        SELECT s.token_hash, s.id, s.user_id, u.username, s.device_id, s.device_name, s.created_at, s.last_used_at,
            s.scope
        FROM sessions s JOIN users u ON u.id = s.user_id
        """

    private static func session(_ row: Row) -> SessionRecord? {
        // why nil for a scope this build does not know: a newer instance's session grants nothing here
        guard let device = DeviceID(rawValue: row["device_id"]), let scope = SessionScope(rawValue: row["scope"]) else {
            return nil
        }
        return SessionRecord(
            tokenHash: [UInt8](row["token_hash"] as Data),
            id: row["id"],
            userID: row["user_id"],
            username: row["username"],
            deviceID: device,
            deviceName: row["device_name"],
            createdAt: row["created_at"],
            lastUsedAt: row["last_used_at"],
            scope: scope
        )
    }
}
