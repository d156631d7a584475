import BriefModel
import Foundation
import GRDB

/// What the sync engine reads and writes. Each method is one transaction, so a crash between two
/// of them leaves the store as it was after the first: never a page without its token, never an
/// acknowledgement half applied.
extension DeviceStore {
    /// Every read-state the device holds, as the reader sees it (pending changes applied), by brief id.
    public func readStates() async throws -> [ReadState] {
        try await writer.read { db in
            try String.fetchAll(db.cachedStatement(sql: "SELECT visible FROM read_states ORDER BY brief_id")).map {
                try Self.decode(ReadState.self, $0)
            }
        }
    }

    /// The token of the last page applied; `nil` before the first, or while starting over.
    public func changeToken() async throws -> String? {
        try await writer.read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT change_token FROM sync_state WHERE id = 1"))
        }
    }

    /// The editions of `page` the device must fetch before it can apply it: every brief it names
    /// that the device does not hold at that version. A device starting over fetches only what
    /// differs, since what it holds is compared here.
    public func editionsNeeded(for page: ChangesPageV2) async throws -> [BriefRefV2] {
        try await writer.read { db in try Self.needed(page, db) }
    }

    /// Applies one page of changes with the content it names, and stores its token, in one
    /// transaction: a read-state is never stored for a brief whose content the device lacks, and
    /// a crash leaves the page wholly applied or not at all.
    ///
    /// A brief already held at the same version is not written again. A retracted brief is
    /// deleted with its search entry, unless it is saved: then it stays, marked retracted. A
    /// read-state is merged into the confirmed one and the pending mutations are applied on top.
    ///
    /// - Parameters:
    ///   - editions: The content of the briefs ``editionsNeeded(for:)`` named (more is ignored).
    ///   - account: The account whose feed the page is from. When given and no longer signed in,
    ///     nothing is written (``DeviceStoreError/accountChanged``), so that one account's reading
    ///     state never lands in another's.
    /// - Throws: ``DeviceStoreError/missingContent(_:)`` when the page names an edition the device
    ///   neither holds nor was given (it evicted one meanwhile): fetch what
    ///   ``editionsNeeded(for:)`` names now, and apply again.
    public func apply(
        _ page: ChangesPageV2,
        editions: [FetchedEdition] = [],
        now: Int64,
        account: AccountID? = nil
    ) async throws -> PageOutcome {
        try await writer.write { db in
            if let account, try Self.account(db) != account {
                throw DeviceStoreError.accountChanged
            }
            var outcome = PageOutcome()
            let fetched = Dictionary(editions.map { ($0.ref.id, $0) }, uniquingKeysWith: { $1 })
            let resyncing =
                try Bool.fetchOne(db.cachedStatement(sql: "SELECT full_resync FROM sync_state WHERE id = 1")) ?? false
            if resyncing {
                // why retractions too: the server sends a retracted brief when it is saved, and
                // the device keeps it then
                for ref in page.briefs {
                    try db.cachedStatement(sql: "INSERT OR IGNORE INTO resync_seen (brief_id) VALUES (?)").execute(
                        arguments: [ref.id.rawValue]
                    )
                }
            }
            for ref in page.briefs where !ref.retracted {
                let held = try Self.held(ref.id, db)
                if Self.holds(ref, held) {
                    continue  // why: after a token reset, briefs already held arrive again unchanged
                }
                guard let edition = fetched[ref.id], edition.ref.version == ref.version else {
                    throw DeviceStoreError.missingContent(ref.id)
                }
                try Self.store(edition, held: held != nil, db, now: now)
                outcome.received += 1
            }
            // read-states before retractions: a brief saved in this page stays when it is retracted
            var recorder = try Self.recorder(db)
            for state in page.readStates {
                try Self.mergeConfirmed(state, db, now: now)
                recorder.observe(state)
                outcome.readStates += 1
            }
            try Self.save(recorder, db)
            for ref in page.briefs where ref.retracted {
                outcome.retracted += try Self.retract(ref.id, db)
            }
            for topic in page.unfollowedTopics {
                outcome.dropped += try Self.dropTopic(topic, db)
            }
            try db.cachedStatement(sql: "UPDATE sync_state SET change_token = ? WHERE id = 1").execute(arguments: [
                page.nextToken
            ])
            return outcome
        }
    }

    /// Starts over after the server refused the token: forgets the token, keeps the outbox and
    /// the reader's state, and notes which briefs the new pass brings.
    public func beginFullResync() async throws {
        try await writer.write { db in
            try db.cachedStatement(sql: "UPDATE sync_state SET change_token = NULL, full_resync = 1 WHERE id = 1")
                .execute()
            try db.cachedStatement(sql: "DELETE FROM resync_seen").execute()
        }
    }

    /// Ends a resync from scratch: a brief the device holds that the server no longer sent is
    /// gone for this account (retracted and not saved, retracted and purged, or of a topic
    /// unfollowed and not saved: the server sends every saved brief, retracted or not), so it
    /// goes here too. Only one the reader saved here, with that save not yet sent, stays, marked
    /// retracted: any other mark the device holds is older than the server's.
    ///
    /// - Returns: How many briefs were removed or marked.
    @discardableResult
    public func finishFullResync() async throws -> Int {
        try await writer.write { db in
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT full_resync FROM sync_state WHERE id = 1")) == true
            else {
                return 0
            }
            let missing = try String.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM briefs WHERE id NOT IN (SELECT brief_id FROM resync_seen)")
            )
            var removed = 0
            for id in missing.compactMap(BriefID.init(rawValue:)) {
                let pending =
                    try Bool.fetchOne(
                        db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM outbox WHERE brief_id = ?)"),
                        arguments: [id.rawValue]
                    ) ?? false
                if pending {
                    removed += try Self.retract(id, db)
                } else {
                    try Self.removeFromSearch(id.rawValue, db)
                    try db.cachedStatement(sql: "DELETE FROM briefs WHERE id = ?").execute(arguments: [id.rawValue])
                    removed += db.changesCount > 0 ? 1 : 0
                }
            }
            try db.cachedStatement(sql: "DELETE FROM resync_seen").execute()
            try db.cachedStatement(sql: "UPDATE sync_state SET full_resync = 0 WHERE id = 1").execute()
            return removed
        }
    }

    /// Notes the end of a sync: its time when it succeeded, or why it failed.
    public func recordSyncResult(at now: Int64, error: String?) async throws {
        try await writer.write { db in
            if let error {
                try db.cachedStatement(sql: "UPDATE sync_state SET last_error = ? WHERE id = 1").execute(arguments: [
                    error
                ])
            } else {
                try db.cachedStatement(sql: "UPDATE sync_state SET last_sync_at = ?, last_error = NULL WHERE id = 1")
                    .execute(arguments: [now]
                    )
            }
        }
    }

    /// Keeps the storage budget: removes briefs dated before `cutoff` with their search entries,
    /// except saved ones and ones with mutations still queued.
    ///
    /// - Returns: How many briefs were evicted.
    @discardableResult
    public func evict(datedBefore cutoff: CalendarDate) async throws -> Int {
        try await writer.write { db in
            let victims = try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT b.id FROM briefs b LEFT JOIN read_states r ON r.brief_id = b.id
                        WHERE b.date < ? AND COALESCE(r.is_saved, 0) = 0
                          AND b.id NOT IN (SELECT brief_id FROM outbox UNION SELECT brief_id FROM sealed_outbox)
                        """
                ),
                arguments: [cutoff.iso]
            )
            for id in victims {
                try Self.removeFromSearch(id, db)
                try db.cachedStatement(sql: "DELETE FROM briefs WHERE id = ?").execute(arguments: [id])
            }
            return victims.count
        }
    }

    // MARK: Helpers

    static func mergeConfirmed(_ incoming: ReadState, _ db: Database, now: Int64) throws {
        let id = incoming.briefID
        let current = try String.fetchOne(
            db.cachedStatement(sql: "SELECT confirmed FROM read_states WHERE brief_id = ?"),
            arguments: [id.rawValue]
        ).map { try decode(ReadState.self, $0) }
        let merged = current.map { $0.merged(with: incoming) } ?? incoming
        guard merged != current else {
            // what the server confirms is what the device held (most often its own edits coming
            // back): neither state changes, only when it was last confirmed. Skips the queue's
            // read and two encodings, a visible part of applying a page (perf, BENCHMARKS.md).
            try db.cachedStatement(sql: "UPDATE read_states SET confirmed_at = ? WHERE brief_id = ?")
                .execute(arguments: [now, id.rawValue])
            return
        }
        try writeState(db, id, confirmed: merged, confirmedAt: now)
    }

    static func needed(_ page: ChangesPageV2, _ db: Database) throws -> [BriefRefV2] {
        try page.briefs.filter { ref in
            guard !ref.retracted else {
                return false
            }
            return !holds(ref, try held(ref.id, db))
        }
    }

    /// Whether the brief held is the live edition `ref` names: nothing to fetch or write.
    private static func holds(_ ref: BriefRefV2, _ held: (version: Int, retracted: Bool)?) -> Bool {
        held.map { $0.version == ref.version && !$0.retracted } ?? false
    }

    private static func held(_ id: BriefID, _ db: Database) throws -> (version: Int, retracted: Bool)? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT version, retracted FROM briefs WHERE id = ?"),
            arguments: [id.rawValue]
        ).map { ($0["version"], $0["retracted"]) }
    }

    /// Stores a brief and its search entry; `held` says whether a row of it was there, with its entry.
    static func store(_ edition: FetchedEdition, held: Bool, _ db: Database, now: Int64) throws {
        let brief = edition.brief
        // why cached statements: a page stores hundreds of briefs, and compiling each statement
        // again was a visible part of a sync (perf, BENCHMARKS.md)
        try db.cachedStatement(
            sql: """
                INSERT INTO briefs (id, topic_id, topic_name, date, title, version, document, retracted, stored_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
                ON CONFLICT (id) DO UPDATE SET
                    topic_id = excluded.topic_id, topic_name = excluded.topic_name, date = excluded.date,
                    title = excluded.title, version = excluded.version, document = excluded.document,
                    retracted = 0, stored_at = excluded.stored_at
                """
        ).execute(
            arguments: [
                brief.id.rawValue, brief.topic.id.rawValue, brief.topic.name, brief.date.iso, brief.title,
                edition.ref.version, edition.document, now,
            ]
        )
        if held {
            try removeFromSearch(brief.id.rawValue, db)
        }
        try index(brief.id, searchColumns: edition.searchColumns, db)
    }

    /// Removes a brief, or marks it retracted when the user saved it. Returns 1 when it held it.
    static func retract(_ id: BriefID, _ db: Database) throws -> Int {
        let saved =
            try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT is_saved FROM read_states WHERE brief_id = ?"),
                arguments: [id.rawValue]
            )
            ?? false
        if saved {
            try db.cachedStatement(sql: "UPDATE briefs SET retracted = 1 WHERE id = ?").execute(arguments: [id.rawValue]
            )
        } else {
            try removeFromSearch(id.rawValue, db)
            try db.cachedStatement(sql: "DELETE FROM briefs WHERE id = ?").execute(arguments: [id.rawValue])
        }
        return db.changesCount > 0 ? 1 : 0
    }

    static func dropTopic(_ topic: TopicID, _ db: Database) throws -> Int {
        let ids = try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT b.id FROM briefs b LEFT JOIN read_states r ON r.brief_id = b.id
                    WHERE b.topic_id = ? AND COALESCE(r.is_saved, 0) = 0
                    """
            ),
            arguments: [topic.rawValue]
        )
        for id in ids {
            try removeFromSearch(id, db)
            try db.cachedStatement(sql: "DELETE FROM briefs WHERE id = ?").execute(arguments: [id])
        }
        return ids.count
    }
}
