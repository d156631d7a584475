import BriefModel
import BriefSchema
import Foundation
import GRDB

/// The device's database: briefs, the reader's state, the outbox of local changes and the sync
/// state, in one SQLite file, so that a change, its queued mutation and the change token are
/// always committed together.
///
/// Every method is one transaction. Reading and editing work with no network at all.
public struct DeviceStore: Sendable {
    let writer: any DatabaseWriter

    /// The device's identifier, fixed when the store was created.
    public let deviceID: DeviceID

    /// Wraps a database (`DatabaseQueue()` in memory for tests and previews, a pool for a file),
    /// creating or migrating the schema from `Schema/sqlite/device_v*.sql`.
    ///
    /// - Parameter deviceID: The identity of a new store; ignored for an existing one. `nil` makes
    ///   a random one.
    public init(_ writer: any DatabaseWriter, deviceID: DeviceID? = nil) throws {
        self.writer = writer
        var migrator = DatabaseMigrator()
        for migration in SchemaSQL.device {
            migrator.registerMigration(migration.id) { db in try db.execute(sql: migration.sql) }
        }
        try migrator.migrate(writer)
        let proposed = deviceID ?? DeviceID(rawValue: "d-" + UUID().uuidString.lowercased())!
        let stored = try writer.write { db -> String in
            let existing = try String.fetchOne(db.cachedStatement(sql: "SELECT device_id FROM sync_state WHERE id = 1"))
            if existing == nil {
                let recorder = try Self.encode(ChangeRecorder(device: proposed))
                try db.cachedStatement(sql: "INSERT INTO sync_state (id, device_id, recorder) VALUES (1, ?, ?)")
                    .execute(arguments: [proposed.rawValue, recorder]
                    )
            }
            if try String.fetchOne(db.cachedStatement(sql: "SELECT incarnation FROM sync_state WHERE id = 1")) == nil {
                _ = try Self.renewIncarnation(db)  // a new store, or one made before incarnations
            }
            return existing ?? proposed.rawValue
        }
        guard let id = DeviceID(rawValue: stored) else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "sync_state.device_id is not a device id")
        }
        self.deviceID = id
    }

    /// Asks for the page size of a store file, 16 KiB, on a connection opening a file; SQLite
    /// applies it only to a file not yet written (the benchmarks' raw-insert reference uses it too).
    ///
    /// why: a brief's document and its search text are about 16 KB each; with 16 KiB pages,
    /// storing a first sync's pages took a fifth less time than with SQLite's 4 KiB, for 3% more
    /// space (BENCHMARKS.md).
    @_spi(Benchmarks)
    public static func choosePageSize(_ db: Database) throws {
        try db.execute(sql: "PRAGMA page_size = 16384")
    }

    /// Opens (creating if needed) the store file at `path`.
    ///
    /// A new file gets pages of 16 KiB; an existing one keeps the pages it was made with. It is
    /// created readable by its owner only (0600): it holds the reading history and queued edits.
    public static func open(path: String, deviceID: DeviceID? = nil) throws -> DeviceStore {
        try PrivateFile.create(atPath: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase(choosePageSize)
        return try DeviceStore(DatabasePool(path: path, configuration: configuration), deviceID: deviceID)
    }

    // MARK: Reading

    /// The briefs a list shows, newest first.
    public func briefs(_ query: BriefQuery = BriefQuery()) async throws -> [BriefSummary] {
        try await writer.read { db in try Self.fetchSummaries(db, query) }
    }

    /// One brief with its state, or `nil` when the device does not hold it.
    public func brief(_ id: BriefID) async throws -> StoredBrief? {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT version, document, retracted FROM briefs WHERE id = ?"),
                    arguments: [id.rawValue]
                )
            else {
                return nil
            }
            let document: String = row["document"]
            let brief = try WireCoding.decoder(unknownFields: .ignore).decode(Brief.self, from: Data(document.utf8))
            return StoredBrief(
                brief: brief,
                version: row["version"],
                readState: try Self.visibleState(db, id),
                isRetracted: row["retracted"]
            )
        }
    }

    /// The reader's state of one brief, pending changes applied; an empty state when there is none.
    public func readState(_ id: BriefID) async throws -> ReadState {
        try await writer.read { db in try Self.visibleState(db, id) }
    }

    /// Calls `onChange` with the list now and again after every change to it, from this process
    /// (a sync, another screen) until the returned stream's consumer stops.
    public func observeBriefs(_ query: BriefQuery = BriefQuery()) -> AsyncThrowingStream<[BriefSummary], any Error> {
        let observation = ValueObservation.tracking { db in try Self.fetchSummaries(db, query) }.removeDuplicates()
        let values = observation.values(in: writer)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await value in values {
                        continuation.yield(value)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: Local edits

    /// Records what the reader did: the state changes at once and a mutation is queued for the
    /// server, in one transaction, with or without a network.
    ///
    /// - Parameters:
    ///   - action: What the reader did.
    ///   - id: On which brief; the device must hold it.
    ///   - now: The device's wall time in milliseconds since 1970.
    /// - Returns: The queued mutation.
    /// - Throws: ``DeviceStoreError/notSignedIn``, ``DeviceStoreError/unknownBrief(_:)``,
    ///   ``DeviceStoreError/progressOutOfRange(_:)``.
    @discardableResult
    public func record(_ action: ReadAction, on id: BriefID, now: Int64) async throws -> MutationV1 {
        if let value = action.value, !(value.isFinite && (0...1).contains(value)) {
            throw DeviceStoreError.progressOutOfRange(value)
        }
        return try await writer.write { db in
            guard
                try Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT 1 FROM briefs WHERE id = ?"),
                    arguments: [id.rawValue]
                )
                    != nil
            else {
                throw DeviceStoreError.unknownBrief(id)
            }
            // why: every queued edit belongs to the account that made it
            guard try Self.account(db) != nil else {
                throw DeviceStoreError.notSignedIn
            }
            var recorder = try Self.recorder(db)
            let mutation = recorder.record(action, on: id, now: now)
            try Self.save(recorder, db)
            try db.cachedStatement(
                sql: "INSERT INTO outbox (mutation_id, brief_id, mutation, queued_at) VALUES (?, ?, ?, ?)"
            ).execute(arguments: [Int64(mutation.id), id.rawValue, try Self.encode(mutation), now])
            try Self.applyVisible(mutation, db)
            return mutation
        }
    }

    // MARK: Shared helpers

    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try WireCoding.encoder().encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try WireCoding.decoder(unknownFields: .ignore).decode(T.self, from: Data(text.utf8))
    }

    static func recorder(_ db: Database) throws -> ChangeRecorder {
        guard let text = try String.fetchOne(db.cachedStatement(sql: "SELECT recorder FROM sync_state WHERE id = 1"))
        else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "sync_state is missing")
        }
        return try decode(ChangeRecorder.self, text)
    }

    static func save(_ recorder: ChangeRecorder, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE sync_state SET recorder = ? WHERE id = 1").execute(arguments: [
            try encode(recorder)
        ])
    }

    static func visibleState(_ db: Database, _ id: BriefID) throws -> ReadState {
        guard
            let text = try String.fetchOne(
                db.cachedStatement(sql: "SELECT visible FROM read_states WHERE brief_id = ?"),
                arguments: [id.rawValue]
            )
        else {
            return ReadState(briefID: id)
        }
        return try decode(ReadState.self, text)
    }

    /// Recomputes what the reader sees of a brief: the confirmed state with every pending
    /// mutation applied on top, so an older server state can never undo a local change.
    /// Applies a mutation just recorded to the visible state: the confirmed state with every
    /// pending mutation applied is merged with one more, so applying it to the visible state
    /// gives the same (the merge laws), without reading the whole queue of the brief again.
    static func applyVisible(_ mutation: MutationV1, _ db: Database) throws {
        let id = mutation.briefID
        guard
            let current = try String.fetchOne(
                db.cachedStatement(sql: "SELECT visible FROM read_states WHERE brief_id = ?"),
                arguments: [id.rawValue]
            ).map({ try decode(ReadState.self, $0) })
        else {
            return try refreshVisible(db, id)
        }
        let visible = current.applying(mutation.action, at: mutation.stamp)
        try db.cachedStatement(
            sql: """
                UPDATE read_states SET visible = ?, is_read = ?, is_saved = ?, progress = ?, last_opened_at = ?
                WHERE brief_id = ?
                """
        ).execute(arguments: [
            try encode(visible), visible.isRead, visible.isSaved, visible.progressValue, visible.lastOpenedAt,
            id.rawValue,
        ])
    }

    static func refreshVisible(_ db: Database, _ id: BriefID) throws {
        let confirmed = try String.fetchOne(
            db.cachedStatement(sql: "SELECT confirmed FROM read_states WHERE brief_id = ?"),
            arguments: [id.rawValue]
        ).map { try decode(ReadState.self, $0) }
        try writeState(db, id, confirmed: confirmed, confirmedAt: nil)
    }

    /// Writes a brief's state: `confirmed` (as the server last confirmed it; `nil`, never) and
    /// what the reader sees, the confirmed state with every pending mutation of the brief
    /// applied, with its flat columns. `confirmedAt` is when the server confirmed it now; `nil`
    /// keeps the time stored. Each state is encoded once (the visible one is the confirmed one
    /// when nothing is pending), as a sync writes one for every read-state of a page.
    static func writeState(_ db: Database, _ id: BriefID, confirmed: ReadState?, confirmedAt: Int64?) throws {
        let pending = try String.fetchAll(
            db.cachedStatement(sql: "SELECT mutation FROM outbox WHERE brief_id = ? ORDER BY mutation_id"),
            arguments: [id.rawValue]
        ).map { try decode(MutationV1.self, $0) }
        let confirmedText = try confirmed.map(encode)
        let visible = (confirmed ?? ReadState(briefID: id)).applying(pending)
        let visibleText = pending.isEmpty && confirmedText != nil ? confirmedText : try encode(visible)
        try db.cachedStatement(
            sql: """
                INSERT INTO read_states (brief_id, confirmed, visible, is_read, is_saved, progress, last_opened_at,
                                         confirmed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (brief_id) DO UPDATE SET
                    confirmed = excluded.confirmed, visible = excluded.visible, is_read = excluded.is_read,
                    is_saved = excluded.is_saved, progress = excluded.progress,
                    last_opened_at = excluded.last_opened_at,
                    confirmed_at = COALESCE(excluded.confirmed_at, read_states.confirmed_at)
                """
        ).execute(arguments: [
            id.rawValue, confirmedText, visibleText, visible.isRead, visible.isSaved, visible.progressValue,
            visible.lastOpenedAt, confirmedAt,
        ])
    }

    static func fetchSummaries(_ db: Database, _ query: BriefQuery) throws -> [BriefSummary] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let topic = query.topic {
            conditions.append("b.topic_id = ?")
            _ = arguments.append(contentsOf: [topic.rawValue])
        }
        if let dates = query.dates {
            conditions.append("b.date BETWEEN ? AND ?")
            _ = arguments.append(contentsOf: [dates.lowerBound.iso, dates.upperBound.iso])
        }
        if let isRead = query.isRead {
            conditions.append("COALESCE(r.is_read, 0) = ?")
            _ = arguments.append(contentsOf: [isRead])
        }
        if query.savedOnly {
            conditions.append("r.is_saved = 1")
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        _ = arguments.append(contentsOf: [query.limit.map { max(0, $0) } ?? -1])  // -1: no limit
        // why cached: a list is read for every screen and edit, and its few shapes (one per
        // combination of filters) compile once
        return try Row.fetchAll(
            db.cachedStatement(sql: "\(summarySelect) \(filter) ORDER BY b.date DESC, b.id LIMIT ?"),
            arguments: arguments
        ).compactMap(summary)
    }

    static let summarySelect = """
        SELECT b.id, b.title, b.topic_id, b.topic_name, b.date, b.version, b.retracted,
               COALESCE(r.is_read, 0) AS is_read, COALESCE(r.is_saved, 0) AS is_saved,
               COALESCE(r.progress, 0) AS progress, r.last_opened_at
        FROM briefs b LEFT JOIN read_states r ON r.brief_id = b.id
        """

    static func summary(_ row: Row) -> BriefSummary? {
        guard let id = BriefID(rawValue: row["id"]), let topic = TopicID(rawValue: row["topic_id"]),
            let date = CalendarDate(iso: row["date"])
        else {
            return nil
        }
        return BriefSummary(
            id: id,
            title: row["title"],
            topic: topic,
            topicName: row["topic_name"],
            date: date,
            version: row["version"],
            isRead: row["is_read"],
            isSaved: row["is_saved"],
            progress: row["progress"],
            lastOpenedAt: row["last_opened_at"],
            isRetracted: row["retracted"]
        )
    }
}

extension DeviceStore {
    /// The database underneath, for tests that simulate failures. Not API.
    public func databaseForTesting() throws -> any DatabaseWriter {
        writer
    }
}
