import BriefModel
import BriefSchema
import Crypto
import Foundation
import GRDB

/// The embedded store: one SQLite file (WAL mode) through GRDB.
///
/// **Commit order.** SQLite runs one write transaction at a time, and every change takes its
/// position inside its own write transaction: an edition from the `content_head` counter, a
/// user's read-state or follow from that user's `user_heads` row. So positions on each plane are
/// handed out in the order transactions commit, and a reader, whose read transaction sees a
/// snapshot, sees either all changes up to some position or none beyond it: it can never see
/// position `p + 1` while `p` is still to commit. That is what lets a token be two numbers.
public struct SQLiteDeltaStore: DeltaStore {
    private let writer: any DatabaseWriter

    /// Wraps a database (a `DatabaseQueue()` in memory for tests, a pool for files), creating or
    /// migrating the schema from the SQL in `Schema/sqlite/`.
    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
        try writer.write { db in
            // why: the epoch tells tokens of this database from tokens of any other (a restored backup)
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO server_meta (key, value) VALUES ('epoch', ?)").execute(
                arguments: [String(UInt32.random(in: 1...UInt32.max))]
            )
        }
    }

    /// Opens (creating if needed) the database file at `path` in WAL mode.
    ///
    /// A new file is created readable by its owner only (0600), in a folder created 0700 when
    /// missing: it holds password hashes, sessions and every user's reading. SQLite gives its
    /// `-wal` and `-shm` files the database file's permissions.
    public static func open(path: String) throws -> SQLiteDeltaStore {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: folder.path) {
            try FileManager.default.createDirectory(
                at: folder,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        }
        try PrivateFile.create(atPath: path)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        return try SQLiteDeltaStore(DatabasePool(path: path, configuration: configuration))
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in SchemaSQL.sqlite {
            migrator.registerMigration(migration.id) { db in
                try db.execute(sql: migration.sql)
            }
        }
        return migrator
    }

    // MARK: Accounts

    public func createUser(username: String, passwordHash: String, now: Int64) async throws -> UserRecord {
        do {
            return try await writer.write { db in
                try db.cachedStatement(sql: "INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)")
                    .execute(arguments: [username, passwordHash, now]
                    )
                let id = db.lastInsertedRowID
                try db.cachedStatement(sql: "INSERT INTO user_heads (user_id, position) VALUES (?, 0)").execute(
                    arguments: [id])
                return UserRecord(id: id, username: username, passwordHash: passwordHash)
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw StoreError.duplicate
        }
    }

    public func user(named username: String) async throws -> UserRecord? {
        try await writer.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT id, username, password_hash FROM users WHERE username = ?"),
                arguments: [username]
            ).map { UserRecord(id: $0["id"], username: $0["username"], passwordHash: $0["password_hash"]) }
        }
    }

    // MARK: Secrets and health

    public func sharedSecret(named name: String, create: @Sendable () -> [UInt8]) async throws -> [UInt8] {
        try await writer.write { db in
            let key = "secret.\(name)"
            if let stored = try String.fetchOne(
                db.cachedStatement(sql: "SELECT value FROM server_meta WHERE key = ?"),
                arguments: [key]
            ),
                let bytes = Data(base64Encoded: stored)
            {
                return [UInt8](bytes)
            }
            let secret = create()
            try db.cachedStatement(sql: "INSERT INTO server_meta (key, value) VALUES (?, ?)").execute(arguments: [
                key, Data(secret).base64EncodedString(),
            ]
            )
            return secret
        }
    }

    public func ping() async throws {
        _ = try await writer.read { db in try Int.fetchOne(db.cachedStatement(sql: "SELECT 1")) }
    }

    // MARK: Internals shared by the extensions

    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await writer.write(body)
    }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await writer.read(body)
    }

    /// Takes the next position of the content log. Must run inside the write transaction whose
    /// edition it numbers.
    static func nextContentPosition(_ db: Database) throws -> Int64 {
        guard
            let position = try Int64.fetchOne(
                db.cachedStatement(
                    sql: "UPDATE content_head SET position = position + 1 WHERE id = 1 RETURNING position"
                )
            )
        else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "content_head is missing")
        }
        return position
    }

    /// Takes the next `count` positions of the user's state sequence, returning the first. Must
    /// run inside the write transaction whose changes they number.
    static func nextStatePositions(_ db: Database, user: UserID, count: Int = 1) throws -> Int64 {
        let last = try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    INSERT INTO user_heads (user_id, position) VALUES (?1, ?2)
                    ON CONFLICT (user_id) DO UPDATE SET position = position + ?2 RETURNING position
                    """
            ),
            arguments: [user, count]
        )
        guard let last else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "user_heads returned no row")
        }
        return last - Int64(count) + 1
    }
}
