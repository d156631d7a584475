import BriefModel
import Foundation
import Logging
import NIOCore
import PostgresNIO

extension PostgresDeltaStore {
    public func createSession(_ session: SessionRecord) async throws {
        try await converting {
            try await client.query(
                """
                INSERT INTO sessions (
                    token_hash, id, user_id, device_id, device_name, created_at, last_used_at, scope)
                VALUES (\(ByteBuffer(bytes: session.tokenHash)), \(session.id), \(session.userID),
                        \(session.deviceID.rawValue), \(session.deviceName), \(session.createdAt), \(session.lastUsedAt),
                        \(session.scope.rawValue))
                """,
                logger: logger
            )
        }
    }

    public func session(tokenHash: [UInt8]) async throws -> SessionRecord? {
        // every authenticated request asks this: a prepared statement
        let rows = try await converting {
            try await client.execute(SessionByToken(tokenHash: tokenHash), logger: logger)
                .reduce(into: [SessionByToken.Row]()) { $0.append($1) }
        }
        return rows.first.flatMap(Self.session)
    }

    public func sessions(of user: UserID) async throws -> [SessionRecord] {
        try await converting {
            var sessions: [SessionRecord] = []
            for try await row in try await client.query(
                """
                SELECT s.token_hash, s.id, s.user_id, u.username, s.device_id, s.device_name, s.created_at, s.last_used_at,
                    s.scope
                FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.user_id = \(user) AND s.revoked_at IS NULL
                ORDER BY s.last_used_at DESC, s.created_at DESC
                """,
                logger: logger
            ).decode(SessionByToken.Row.self) {
                if let session = Self.session(row) {
                    sessions.append(session)
                }
            }
            return sessions
        }
    }

    public func touchSession(tokenHash: [UInt8], now: Int64) async throws {
        try await converting {
            try await client.query(
                """
                UPDATE sessions SET last_used_at = \(now)
                WHERE token_hash = \(ByteBuffer(bytes: tokenHash)) AND last_used_at < \(now)
                """,
                logger: logger
            )
        }
    }

    public func revokeSession(tokenHash: [UInt8], now: Int64) async throws {
        try await converting {
            try await client.query(
                """
                UPDATE sessions SET revoked_at = \(now)
                WHERE token_hash = \(ByteBuffer(bytes: tokenHash)) AND revoked_at IS NULL
                """,
                logger: logger
            )
        }
    }

    public func revokeSession(id: String, of user: UserID, now: Int64) async throws -> [UInt8]? {
        try await transaction { connection in
            try await connection.query(
                """
                UPDATE sessions SET revoked_at = \(now)
                WHERE id = \(id) AND user_id = \(user) AND revoked_at IS NULL RETURNING token_hash
                """,
                logger: logger
            ).decode(ByteBuffer.self).first { _ in true }.map { Array($0.readableBytesView) }
        }
    }

    public func changePassword(of user: UserID, to passwordHash: String, keeping tokenHash: [UInt8], now: Int64)
        async throws -> [[UInt8]]
    {
        try await transaction { connection in
            try await connection.query(
                "UPDATE users SET password_hash = \(passwordHash) WHERE id = \(user)",
                logger: logger
            )
            var revoked: [[UInt8]] = []
            for try await hash in try await connection.query(
                """
                UPDATE sessions SET revoked_at = \(now)
                WHERE user_id = \(user) AND revoked_at IS NULL AND token_hash <> \(ByteBuffer(bytes: tokenHash))
                RETURNING token_hash
                """,
                logger: logger
            ).decode(ByteBuffer.self) {
                revoked.append(Array(hash.readableBytesView))
            }
            return revoked
        }
    }

    public func deleteUser(_ user: UserID) async throws -> [[UInt8]] {
        try await transaction { connection in
            var hashes: [[UInt8]] = []
            for try await hash in try await connection.query(
                "DELETE FROM sessions WHERE user_id = \(user) RETURNING token_hash",
                logger: logger
            ).decode(ByteBuffer.self) {
                hashes.append(Array(hash.readableBytesView))
            }
            // why each table named: the same statements as SQLite's, whatever the foreign keys say
            try await connection.query("DELETE FROM read_states WHERE user_id = \(user)", logger: logger)
            try await connection.query("DELETE FROM subscriptions WHERE user_id = \(user)", logger: logger)
            try await connection.query("DELETE FROM user_heads WHERE user_id = \(user)", logger: logger)
            try await connection.query("DELETE FROM push_cursors WHERE user_id = \(user)", logger: logger)
            try await connection.query("DELETE FROM clamped_stamps WHERE user_id = \(user)", logger: logger)
            try await connection.query("DELETE FROM users WHERE id = \(user)", logger: logger)
            return hashes
        }
    }

    private static func session(_ row: SessionByToken.Row) -> SessionRecord? {
        // why nil for a scope this build does not know: a newer instance's session grants nothing here
        guard let device = DeviceID(rawValue: row.4), let scope = SessionScope(rawValue: row.8) else {
            return nil
        }
        return SessionRecord(
            tokenHash: Array(row.0.readableBytesView),
            id: row.1,
            userID: row.2,
            username: row.3,
            deviceID: device,
            deviceName: row.5,
            createdAt: row.6,
            lastUsedAt: row.7,
            scope: scope
        )
    }
}

/// The session lookup every authenticated request makes, prepared once per connection.
struct SessionByToken: PostgresPreparedStatement {
    static let sql = """
        SELECT s.token_hash, s.id, s.user_id, u.username, s.device_id, s.device_name, s.created_at, s.last_used_at,
            s.scope
        FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.revoked_at IS NULL
        """
    typealias Row = (ByteBuffer, String, Int64, String, String, String?, Int64, Int64, String)

    var tokenHash: [UInt8]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(ByteBuffer(bytes: tokenHash))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}
