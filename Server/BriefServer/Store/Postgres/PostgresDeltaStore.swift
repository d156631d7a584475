import BriefModel
import BriefSchema
import Crypto
import Foundation
import Logging
import Metrics
import NIOCore
import PostgresNIO

/// The store for several instances: PostgreSQL through a postgres-nio connection pool.
///
/// ## Commit order
///
/// Positions on each plane of the feed (``FeedCursor``) must become visible in the order they
/// were handed out: a reader that has seen position `p` must never later find a change at or
/// below `p` that was not there before. A sequence or serial column does not give that.
/// Transaction A takes 7, transaction B takes 8 and commits first; a reader sees 8, moves its
/// token to 8, and never sees 7 when A commits.
///
/// Here every transaction that hands out positions first takes the row lock on the head of its
/// plane (`SELECT … FOR UPDATE`): `content_head` for publishing and retracting, the user's
/// `user_heads` row for a push or a follow. It numbers its changes from the head it read, writes
/// the new head back, and keeps the lock until it commits. (A push reads the head without the
/// lock and takes it in its one write, which writes nothing unless the head is still the one it
/// read: the same order, in two round trips; see `PostgresDeltaStore+Push.swift`.) So, on each plane:
/// 1. Two such transactions never overlap between taking the lock and committing: B cannot read
///    the head until A has committed (or rolled back), so every position of B is greater than
///    every position of A *and* B commits after A.
/// 2. PostgreSQL marks a transaction committed, visible to new snapshots, before it releases its
///    locks. So when B can take the lock, A's changes are already visible to any new snapshot.
/// 3. A page of changes reads both heads and all its queries in one `REPEATABLE READ` snapshot.
///    If that snapshot holds position `p` of a plane, it holds every position below `p` (by 1
///    and 2), and the head it reads is the highest committed one. The page's token never passes
///    a change still in flight.
///
/// Writes of one user run one at a time, and so do publications; writes of different users never
/// wait for each other. Account, session and cursor writes take no head lock. A transaction takes
/// one head lock, first, before any other row lock, so these transactions cannot deadlock with
/// each other. `ScaleOutTests` holds a transaction open between numbering and commit and shows
/// that a reader then misses nothing on either plane, and that it does miss a change when
/// positions come from a plain counter instead: that numbering, and the pause before commit, are
/// the tests' own ``FeedNumbering``s; the server numbers with ``HeadLockNumbering`` only.
///
/// ## Across instances
///
/// A transaction that changes the feed sends `NOTIFY briefsync_changes` with `*` (a brief, for
/// everyone) or a user id; PostgreSQL delivers it on commit to every instance that listens
/// (``listenForChanges(_:)``), which wakes its held long-polls.
public final class PostgresDeltaStore: DeltaStore {
    static let channel = "briefsync_changes"

    let client: PostgresClient
    let logger: Logger
    /// How feed transactions hand out positions (``HeadLockNumbering``, but in tests).
    let numbering: any FeedNumbering
    /// How often pushes of one user got in each other's way (`PostgresDeltaStore+Push.swift`).
    let contention: PushContention
    /// Tells this instance's own notifications from other instances'.
    let instance = UUID().uuidString

    /// Other instances commit to the same database.
    public var isShared: Bool { true }
    private let running: Task<Void, Never>

    init(
        client: PostgresClient,
        logger: Logger,
        numbering: any FeedNumbering = HeadLockNumbering(),
        metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) {
        self.client = client
        self.logger = logger
        self.numbering = numbering
        self.contention = PushContention(factory: metrics)
        self.running = Task { await client.run() }
    }

    /// Connects, waits until the database answers, and creates or migrates the schema.
    ///
    /// - Parameter metrics: Where the store counts pushes that got in each other's way
    ///   (``PushContention``); nowhere by default.
    /// - Throws: When the database cannot be reached or migrated; the pool is shut down then.
    public static func connect(
        _ settings: PostgresSettings,
        logger: Logger,
        metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) async throws -> PostgresDeltaStore {
        try await connect(settings, logger: logger, numbering: HeadLockNumbering(), metrics: metrics)
    }

    static func connect(
        _ settings: PostgresSettings,
        logger: Logger,
        numbering: any FeedNumbering,
        metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) async throws -> PostgresDeltaStore {
        // why before the pool: a failure is then reported at once and plainly, and the pool's first
        // lease never races its own start (PostgresNIO warns when that happens)
        let connection = try await probe(settings, logger: logger)
        do {
            try await prepare(connection, logger: logger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
        return PostgresDeltaStore(
            client: PostgresClient(configuration: try clientConfiguration(settings), backgroundLogger: logger),
            logger: logger,
            numbering: numbering,
            metrics: metrics
        )
    }

    /// One connection made before the pool starts: the pool retries failed connections with
    /// backoff for a minute and then reports only "circuit breaker tripped", while this says at
    /// once what is wrong (refused, wrong password, untrusted certificate).
    private static func probe(_ settings: PostgresSettings, logger: Logger) async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(
                configuration: try settings.connectionConfiguration(),
                id: 0,
                logger: logger
            )
        } catch {
            throw PostgresStoreError("cannot connect to \(settings): \(PostgresStoreError.describing(error))")
        }
    }

    /// Creates or migrates the schema and gives the database its epoch, in one transaction.
    private static func prepare(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("BEGIN", logger: logger)
        do {
            try await migrate(connection, logger: logger)
            // why: the epoch tells tokens of this database from tokens of any other (a restored backup)
            let epoch = String(UInt32.random(in: 1...UInt32.max))
            try await connection.query(
                "INSERT INTO server_meta (key, value) VALUES ('epoch', \(epoch)) ON CONFLICT (key) DO NOTHING",
                logger: logger
            )
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw PostgresStoreError.describing(error)
        }
    }

    private static func clientConfiguration(_ settings: PostgresSettings) throws -> PostgresClient.Configuration {
        var tls = PostgresClient.Configuration.TLS.disable
        if settings.tls == .require {
            tls = .require(settings.tlsConfiguration)
        }
        var configuration = PostgresClient.Configuration(
            host: settings.host,
            port: settings.port,
            username: settings.username,
            password: settings.password,
            database: settings.database,
            tls: tls
        )
        configuration.options.maximumConnections = settings.maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    /// Stops the pool; the store answers nothing afterwards.
    public func shutdown() async {
        running.cancel()
        await running.value
    }

    // MARK: Migrations

    /// Applies the migrations of `Schema/postgres/` not yet applied, inside the caller's
    /// transaction, under an advisory lock: instances that start together take turns, and the
    /// second finds the work done.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """,
            logger: logger
        )
        var applied = Set<String>()
        for try await id in try await connection.query("SELECT id FROM schema_migrations", logger: logger)
            .decode(String.self)
        {
            applied.insert(id)
        }
        for migration in SchemaSQL.postgres where !applied.contains(migration.id) {
            for statement in Self.statements(of: migration.sql) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query("INSERT INTO schema_migrations (id) VALUES (\(migration.id))", logger: logger)
            logger.info("Applied migration", metadata: ["db.migration": "\(migration.id)"])
        }
    }

    /// An arbitrary constant naming BriefSync's migration lock among other users of the database.
    static let migrationLock: Int64 = 0x4272_6965_6653_796E  // "BriefSyn"

    /// The statements of a migration: each ends with `;` at the end of a line; comments dropped.
    static func statements(of sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let code = line.trimmingCharacters(in: .whitespaces)
            if code.hasPrefix("--") || code.isEmpty {
                continue
            }
            current += line + "\n"
            if code.hasSuffix(";") {
                statements.append(current)
                current = ""
            }
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            statements.append(current)
        }
        return statements
    }

    // MARK: Transactions

    /// Runs `body` in one transaction on one pooled connection: committed when it returns,
    /// rolled back when it throws (the error is the body's own, not wrapped).
    func transaction<T: Sendable>(
        _ begin: PostgresQuery = "BEGIN",
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await client.withConnection { connection in
            try await connection.query(begin, logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw PostgresStoreError.describing(error)
            }
        }
    }

    /// Runs `body`, turning PostgreSQL's errors into ``PostgresStoreError``s that say what happened.
    func converting<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw PostgresStoreError.describing(error)
        }
    }

    /// A transaction that may number changes on one plane of the feed (see "Commit order" above)
    /// and wake listeners when it commits.
    func feedWrite<T: Sendable>(
        label: String,
        plane: FeedTransaction.Plane,
        _ body: (FeedTransaction) async throws -> T
    ) async throws -> T {
        try await transaction { connection in
            let feed = FeedTransaction(connection: connection, store: self, plane: plane)
            try await numbering.begin(feed)
            let result = try await body(feed)
            try await feed.finish()
            if feed.numbered {
                try await numbering.beforeCommit(feed, label: label)
            }
            return result
        }
    }

    // MARK: Secrets and health

    public func sharedSecret(named name: String, create: @Sendable () -> [UInt8]) async throws -> [UInt8] {
        let key = "secret.\(name)"
        let candidate = Data(create()).base64EncodedString()
        // why one statement: two instances starting together must end with one secret, the first stored
        let stored = try await transaction { connection in
            try await connection.query(
                "INSERT INTO server_meta (key, value) VALUES (\(key), \(candidate)) ON CONFLICT (key) DO NOTHING",
                logger: logger
            )
            return try await connection.query("SELECT value FROM server_meta WHERE key = \(key)", logger: logger)
                .decode(String.self).first { _ in true }
        }
        guard let stored, let bytes = Data(base64Encoded: stored) else {
            throw PostgresStoreError("the secret \(name) in server_meta is not base64")
        }
        return [UInt8](bytes)
    }

    public func ping() async throws {
        try await converting { try await client.query("SELECT 1", logger: logger) }
    }

    // MARK: Accounts

    public func createUser(username: String, passwordHash: String, now: Int64) async throws -> UserRecord {
        do {
            let id = try await transaction { connection in
                try await connection.query(
                    """
                    WITH created AS (
                        INSERT INTO users (username, password_hash, created_at)
                        VALUES (\(username), \(passwordHash), \(now)) RETURNING id),
                    head AS (INSERT INTO user_heads (user_id, position) SELECT id, 0 FROM created)
                    SELECT id FROM created
                    """,
                    logger: logger
                ).decode(Int64.self).first { _ in true }
            }
            guard let id else {
                throw PostgresStoreError("INSERT … RETURNING id returned no row")
            }
            return UserRecord(id: id, username: username, passwordHash: passwordHash)
        } catch let error as PostgresStoreError where error.sqlState == "23505" {
            throw StoreError.duplicate
        }
    }

    public func user(named username: String) async throws -> UserRecord? {
        try await converting {
            let rows = try await client.query(
                "SELECT id, username, password_hash FROM users WHERE lower(username) = lower(\(username))",
                logger: logger
            )
            for try await (id, name, hash) in rows.decode((Int64, String, String).self) {
                return UserRecord(id: id, username: name, passwordHash: hash)
            }
            return nil
        }
    }

}

/// One transaction that numbers changes on one plane of the feed (see ``PostgresDeltaStore``'s
/// "Commit order").
final class FeedTransaction {
    /// Which head the transaction numbers from.
    enum Plane {
        /// The content log: publishing and retracting.
        case content
        /// One user's state sequence: pushes and follows.
        case user(UserID)
    }

    let connection: PostgresConnection
    let store: PostgresDeltaStore
    let plane: Plane
    /// The plane's head as this transaction last numbered it.
    var head: Int64 = 0
    private(set) var numbered = false
    private var notifications = Set<String>()

    init(connection: PostgresConnection, store: PostgresDeltaStore, plane: Plane) {
        self.connection = connection
        self.store = store
        self.plane = plane
    }

    var logger: Logger { store.logger }

    /// Takes the row lock on the plane's head; held until the transaction ends. A user's head
    /// row is made with the user.
    func lockHead() async throws {
        let position: Int64?
        switch plane {
        case .content:
            position = try await connection.query(
                "SELECT position FROM content_head WHERE id = 1 FOR UPDATE",
                logger: logger
            ).decode(Int64.self).first { _ in true }
        case .user(let user):
            // why prepared: every follow and every push overtaken too often takes it (see PushStatements)
            position = try await connection.execute(PushStatements.LockUserHead(user: user), logger: logger)
                .first { _ in true }
        }
        guard let position else {
            throw PostgresStoreError("the head of the feed's plane is missing")
        }
        head = position
    }

    /// The next position on the plane, for a change this transaction writes.
    func nextPosition() async throws -> Int64 {
        numbered = true
        return try await store.numbering.next(self)
    }

    /// Wakes every instance's long-polls of everyone (`nil`) or of one user, on commit.
    func notify(user: UserID?) {
        notifications.insert(user.map(String.init) ?? "*")
    }

    /// The `pg_notify` payloads of the notifications queued so far.
    var payloads: [String] { notifications.sorted().map { "\(store.instance) \($0)" } }

    /// The head to write back at the end: the last position numbered, when the numbering writes it.
    var headToWrite: Int64? { numbered && store.numbering.writesHead ? head : nil }

    /// The caller wrote ``headToWrite`` and sent ``payloads`` in a statement of its own (one
    /// round trip less); ``finish()`` then writes nothing.
    func wroteHeadAndNotified() {
        finished = true
    }

    private var finished = false

    /// Writes the head back and queues the notifications; they are delivered when the transaction commits.
    func finish() async throws {
        guard !finished else {
            return
        }
        finished = true
        let payloads = payloads
        if numbered && store.numbering.writesHead {
            // one round trip for both (a data-modifying WITH runs whether or not its rows are read)
            switch plane {
            case .content:
                try await connection.query(
                    """
                    WITH head AS (UPDATE content_head SET position = \(head) WHERE id = 1)
                    SELECT pg_notify(\(PostgresDeltaStore.channel), payload) FROM unnest(\(payloads)::text[]) AS payload
                    """,
                    logger: logger
                )
            case .user(let user):
                try await connection.query(
                    """
                    WITH head AS (UPDATE user_heads SET position = \(head) WHERE user_id = \(user))
                    SELECT pg_notify(\(PostgresDeltaStore.channel), payload) FROM unnest(\(payloads)::text[]) AS payload
                    """,
                    logger: logger
                )
            }
        } else if !payloads.isEmpty {
            try await connection.query(
                """
                SELECT pg_notify(\(PostgresDeltaStore.channel), payload) FROM unnest(\(payloads)::text[]) AS payload
                """,
                logger: logger
            )
        }
    }
}

/// How a feed transaction hands out positions on its plane.
///
/// The server numbers with ``HeadLockNumbering`` only. The protocol exists so that tests can
/// number otherwise (a plain counter, as a sequence would) or pause before commit, and show that
/// the commit-order argument above is what keeps a reader from skipping a change.
protocol FeedNumbering: Sendable {
    /// Whether the transaction writes the head back at its end (it numbered from the head it read).
    var writesHead: Bool { get }
    /// At the start of the transaction, before it takes any other row lock.
    func begin(_ feed: FeedTransaction) async throws
    /// A position for one change of the transaction.
    func next(_ feed: FeedTransaction) async throws -> Int64
    /// After the transaction wrote its changes and its head, just before it commits.
    func beforeCommit(_ feed: FeedTransaction, label: String) async throws
    /// Whether ``beforeCommit(_:label:)`` does anything. A push that would otherwise commit in
    /// its one write statement then runs in a transaction of its own, so that the pause falls
    /// between its write and its commit (see `PostgresDeltaStore+Push.swift`).
    var pausesBeforeCommit: Bool { get }
}

/// Positions numbered from the head under its row lock, held to the commit: commit order.
struct HeadLockNumbering: FeedNumbering {
    var writesHead: Bool { true }

    func begin(_ feed: FeedTransaction) async throws {
        try await feed.lockHead()
    }

    func next(_ feed: FeedTransaction) async throws -> Int64 {
        feed.head += 1
        return feed.head
    }

    func beforeCommit(_ feed: FeedTransaction, label: String) async throws {}

    var pausesBeforeCommit: Bool { false }
}

/// A store failure that is not the caller's: a broken invariant, or what PostgreSQL answered.
public struct PostgresStoreError: Error, CustomStringConvertible {
    public let description: String
    /// The SQLSTATE PostgreSQL answered with, if it did (e.g. `40P01` for a deadlock).
    public let sqlState: String?

    init(_ description: String, sqlState: String? = nil) {
        self.description = description
        self.sqlState = sqlState
    }

    /// PostgreSQL's own message and SQLSTATE for a `PSQLError` (whose description hides both),
    /// without the query's bound values, which may be secrets; other errors pass through.
    static func describing(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else {
            return error
        }
        if let info = error.serverInfo {
            let state = info[.sqlState]
            return PostgresStoreError(
                "PostgreSQL: \(info[.message] ?? "error") (SQLSTATE \(state ?? "?"))"
                    + (info[.detail].map { ": \($0)" } ?? ""),
                sqlState: state
            )
        }
        let cause = error.underlying.map { ": \($0)" } ?? ""
        return PostgresStoreError("PostgreSQL connection failed (\(error.code))\(cause)")
    }
}
