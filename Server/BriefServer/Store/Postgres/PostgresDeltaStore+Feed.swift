import BriefModel
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

extension PostgresDeltaStore {
    // MARK: Publishing

    public func publish(_ brief: Brief, now: Int64) async throws -> PublishResultV1 {
        let document = String(decoding: try WireCoding.encoder().encode(brief), as: UTF8.self)
        let digest = [UInt8](SHA256.hash(data: Data(document.utf8)))
        let (id, topic) = (brief.id.rawValue, brief.topic.id.rawValue)
        return try await feedWrite(label: id) { feed in
            let connection = feed.connection
            try await connection.query(
                """
                INSERT INTO topics (id, name) VALUES (\(topic), \(brief.topic.name))
                ON CONFLICT (id) DO UPDATE SET name = excluded.name
                """,
                logger: logger
            )
            let existing = try await connection.query(
                "SELECT version, digest, retracted_at FROM briefs WHERE id = \(id)",
                logger: logger
            ).decode((Int, ByteBuffer, Int64?).self).first { _ in true }
            let previousVersion = existing?.0 ?? 0
            if let existing, Array(existing.1.readableBytesView) == digest, existing.2 == nil {
                // why: an identical re-publish must not feed every device the same brief again
                return PublishResultV1(id: brief.id, version: previousVersion, changed: false)
            }
            let version = previousVersion + 1
            let position = try await feed.nextPosition()
            try await connection.query(
                """
                INSERT INTO briefs (id, topic_id, version, document, digest, published_at, retracted_at, position)
                VALUES (\(id), \(topic), \(version), \(document), \(ByteBuffer(bytes: digest)), \(now), NULL, \(position))
                ON CONFLICT (id) DO UPDATE SET
                    topic_id = excluded.topic_id, version = excluded.version, document = excluded.document,
                    digest = excluded.digest, published_at = excluded.published_at, retracted_at = NULL,
                    position = excluded.position
                """,
                logger: logger
            )
            feed.notify(user: nil)
            return PublishResultV1(id: brief.id, version: version, changed: true)
        }
    }

    public func retract(_ id: BriefID, now: Int64) async throws -> PublishResultV1? {
        try await feedWrite(label: id.rawValue) { feed in
            let connection = feed.connection
            guard
                let (version, retractedAt) = try await connection.query(
                    "SELECT version, retracted_at FROM briefs WHERE id = \(id.rawValue)",
                    logger: logger
                ).decode((Int, Int64?).self).first(where: { _ in true })
            else {
                return nil
            }
            if retractedAt != nil {
                return PublishResultV1(id: id, version: version, changed: false)
            }
            // The row stays as a tombstone, with a new position, so devices learn of the retraction.
            let position = try await feed.nextPosition()
            try await connection.query(
                """
                UPDATE briefs SET version = \(version + 1), retracted_at = \(now), position = \(position)
                WHERE id = \(id.rawValue)
                """,
                logger: logger
            )
            try await connection.query("DELETE FROM backfill WHERE brief_id = \(id.rawValue)", logger: logger)
            feed.notify(user: nil)
            return PublishResultV1(id: id, version: version + 1, changed: true)
        }
    }

    public func purgeTombstones(retractedBefore cutoff: Int64) async throws -> Int {
        try await transaction { connection in
            let horizon =
                try await connection.query(
                    "SELECT MAX(position) FROM briefs WHERE retracted_at IS NOT NULL AND retracted_at < \(cutoff)",
                    logger: logger
                ).decode(Int64?.self).first { _ in true } ?? nil
            guard let horizon else {
                return 0
            }
            let purged = try await connection.query(
                "DELETE FROM briefs WHERE retracted_at IS NOT NULL AND retracted_at < \(cutoff) RETURNING id",
                logger: logger
            ).decode(String.self).reduce(0) { count, _ in count + 1 }
            // why: a token at or below the newest purged tombstone may have missed that retraction
            try await connection.query(
                """
                INSERT INTO server_meta (key, value) VALUES ('purged_through', \(String(horizon)))
                ON CONFLICT (key) DO UPDATE
                SET value = GREATEST(server_meta.value::bigint, excluded.value::bigint)::text
                """,
                logger: logger
            )
            return purged
        }
    }

    public func feedState() async throws -> FeedState {
        try await converting {
            var state = FeedState(epoch: 0, purgedThrough: 0)
            let rows = try await client.query(
                "SELECT key, value FROM server_meta WHERE key IN ('epoch', 'purged_through')",
                logger: logger
            )
            for try await (key, value) in rows.decode((String, String).self) {
                if key == "epoch" {
                    state.epoch = UInt32(value) ?? 0
                } else {
                    state.purgedThrough = UInt64(value) ?? 0
                }
            }
            return state
        }
    }

    // MARK: Changes

    /// The page reads the head and the four streams in one snapshot (see "Commit order"). Each
    /// stream is one prepared, index-ordered query bounded by the page's limit.
    public func changes(for user: UserID, after position: UInt64, limit: Int, maxBytes: Int) async throws
        -> ChangeBatch
    {
        let after = Int64(clamping: position)
        // why limit + 1: one row more than a page tells "more follow" without another query
        let bound = Int64(limit) + 1
        return try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            let head =
                try await connection.query("SELECT position FROM feed_head WHERE id = 1", logger: logger)
                .decode(Int64.self).first { _ in true } ?? 0
            func fetch<Statement: FeedStreamStatement>(_ type: Statement.Type) async throws -> any FeedStream {
                FetchedFeedStream(
                    try await connection.execute(Statement(after: after, user: user, bound: bound), logger: logger)
                        .reduce(into: []) { $0.append($1) }
                )
            }
            let streams = [
                try await fetch(FeedBriefs.self), try await fetch(FeedBackfill.self),
                try await fetch(FeedReadStates.self), try await fetch(FeedUnfollowed.self),
            ]
            return try FeedMerge.page(streams, after: after, head: head, limit: limit, maxBytes: maxBytes)
        }
    }

    // MARK: Read-state

    public func push(_ push: PushRequestV1, for user: UserID, applier: PushApplier, now: Int64) async throws
        -> PushApplier.Outcome
    {
        let named = Array(Set(push.mutations.map(\.briefID.rawValue))).sorted()
        let device = push.deviceID.rawValue
        return try await feedWrite(label: "push \(device)") { feed in
            let connection = feed.connection
            // why few statements: every one is a round trip made while holding the feed's lock
            var existing = Set<String>()
            var current: [BriefID: ReadState] = [:]
            let decoder = WireCoding.decoder(unknownFields: .ignore)
            for try await (id, json) in try await connection.query(
                """
                SELECT b.id, r.state FROM briefs b
                LEFT JOIN read_states r ON r.user_id = \(user) AND r.brief_id = b.id
                WHERE b.id = ANY(\(named))
                """,
                logger: logger
            ).decode((String, String?).self) {
                existing.insert(id)
                if let json {
                    let state = try decoder.decode(ReadState.self, from: Data(json.utf8))
                    current[state.briefID] = state
                }
            }
            let unknown = push.mutations.enumerated().filter { !existing.contains($0.element.briefID.rawValue) }
            guard unknown.isEmpty else {
                throw StoreError.unknownBriefs(unknown.map { .init(index: $0.offset, briefID: $0.element.briefID) })
            }
            let incarnation = push.incarnation ?? ""
            var cursor = PushCursor.initial
            for try await (last, recent) in try await connection.query(
                """
                SELECT last_applied_id, recent FROM push_cursors
                WHERE user_id = \(user) AND device_id = \(device) AND incarnation = \(incarnation)
                FOR UPDATE
                """,
                logger: logger
            ).decode((Int64, ByteBuffer).self) {
                cursor = PushCursor(lastAppliedID: UInt64(last), recentBytes: Array(recent.readableBytesView))
            }
            let outcome: PushApplier.Outcome
            do {
                outcome = try applier.apply(push, cursor: cursor, current: current, now: now)
            } catch let conflict as PushConflict {
                throw StoreError.incarnationConflict(conflict)
            }
            let encoder = WireCoding.encoder()
            var (ids, states, positions) = ([String](), [String](), [Int64]())
            for state in outcome.states
            where state != current[state.briefID] && state != ReadState(briefID: state.briefID) {
                ids.append(state.briefID.rawValue)
                states.append(String(decoding: try encoder.encode(state), as: UTF8.self))
                positions.append(try await feed.nextPosition())
            }
            if !ids.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO read_states (user_id, brief_id, state, position)
                    SELECT \(user), changed.brief_id, changed.state, changed.position
                    FROM unnest(\(ids)::text[], \(states)::text[], \(positions)::bigint[]) AS changed(brief_id, state, position)
                    ON CONFLICT (user_id, brief_id) DO UPDATE SET state = excluded.state, position = excluded.position
                    """,
                    logger: logger
                )
                feed.notify(user: user)
            }
            if let next = outcome.cursor {
                let recent = ByteBuffer(bytes: next.recentBytes)
                try await connection.query(
                    """
                    INSERT INTO push_cursors (user_id, device_id, incarnation, last_applied_id, recent)
                    VALUES (\(user), \(device), \(incarnation), \(Int64(next.lastAppliedID)), \(recent))
                    ON CONFLICT (user_id, device_id, incarnation)
                    DO UPDATE SET last_applied_id = excluded.last_applied_id, recent = excluded.recent
                    """,
                    logger: logger
                )
            }
            return outcome
        }
    }

    // MARK: Topics

    public func topics(for user: UserID) async throws -> [TopicStatusV1] {
        try await transaction { connection in try await Self.topics(connection, user: user, only: nil, logger: logger) }
    }

    public func setFollowing(_ topic: TopicID, _ follow: Bool, for user: UserID) async throws -> TopicStatusV1? {
        try await feedWrite(label: "follow \(topic.rawValue)") { feed in
            let connection = feed.connection
            guard let status = try await Self.topics(connection, user: user, only: topic, logger: logger).first else {
                return nil
            }
            guard status.followed != follow else {
                return status
            }
            let position = try await feed.nextPosition()
            try await connection.query(
                """
                INSERT INTO subscriptions (user_id, topic_id, followed, position)
                VALUES (\(user), \(topic.rawValue), \(follow), \(position))
                ON CONFLICT (user_id, topic_id) DO UPDATE SET followed = excluded.followed, position = excluded.position
                """,
                logger: logger
            )
            try await connection.query(
                "DELETE FROM backfill WHERE user_id = \(user) AND topic_id = \(topic.rawValue)",
                logger: logger
            )
            if follow {
                // why: the topic's briefs lie behind the user's tokens; give each a new place in this user's feed
                let briefs = try await connection.query(
                    "SELECT id FROM briefs WHERE topic_id = \(topic.rawValue) AND retracted_at IS NULL ORDER BY position",
                    logger: logger
                ).decode(String.self).reduce(into: [String]()) { $0.append($1) }
                for brief in briefs {
                    let position = try await feed.nextPosition()
                    try await connection.query(
                        """
                        INSERT INTO backfill (user_id, brief_id, topic_id, position)
                        VALUES (\(user), \(brief), \(topic.rawValue), \(position))
                        """,
                        logger: logger
                    )
                }
            }
            feed.notify(user: user)
            var updated = status
            updated.followed = follow
            return updated
        }
    }

    private static func topics(
        _ connection: PostgresConnection,
        user: UserID,
        only: TopicID?,
        logger: Logger
    ) async throws -> [TopicStatusV1] {
        let rows = try await connection.query(
            """
            SELECT t.id, t.name, COALESCE(s.followed, TRUE),
                   (SELECT COUNT(*) FROM briefs b WHERE b.topic_id = t.id AND b.retracted_at IS NULL)
            FROM topics t LEFT JOIN subscriptions s ON s.topic_id = t.id AND s.user_id = \(user)
            WHERE \(only?.rawValue)::text IS NULL OR t.id = \(only?.rawValue)
            ORDER BY t.id
            """,
            logger: logger
        )
        var topics: [TopicStatusV1] = []
        for try await (id, name, followed, count) in rows.decode((String, String, Bool, Int64).self) {
            if let id = TopicID(rawValue: id) {
                topics.append(TopicStatusV1(id: id, name: name, followed: followed, briefCount: Int(count)))
            }
        }
        return topics
    }

    // MARK: Across instances

    /// Calls `onChange` for every change another instance commits, until cancelled; reconnects
    /// after a lost connection. Reports ``ChangeSignal/subscribed`` after every (re)subscription,
    /// since notifications sent while not listening are lost, and ``ChangeSignal/unsubscribed``
    /// when the connection is lost.
    public func listenForChanges(_ onChange: @escaping @Sendable (ChangeSignal) -> Void) async throws {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        failures = 0
                        onChange(.subscribed)
                        for try await notification in notifications {
                            let parts = notification.payload.split(separator: " ")
                            guard parts.count == 2, parts[0] != Substring(instance) else {
                                continue  // our own: the routes already woke this instance
                            }
                            onChange(parts[1] == "*" ? .everyone : Int64(parts[1]).map(ChangeSignal.user) ?? .everyone)
                        }
                    }
                }
            } catch {
                onChange(.unsubscribed)
                if Task.isCancelled {
                    return
                }
                failures += 1
                logger.warning(
                    "Listening for other instances' changes failed; retrying",
                    metadata: ["error": "\(error)", "db.failures": "\(failures)"]
                )
                try? await Task.sleep(for: .milliseconds(min(5000, 100 << min(failures, 6))))
            }
        }
    }
}

// MARK: Prepared feed streams

/// One of the four streams of a user's feed, as in `SQLiteDeltaStore.FeedSQL`, each an index
/// range scan. Every one binds ($1 after, $2 user, $3 bound) and yields ``FeedRow``s.
protocol FeedStreamStatement: PostgresPreparedStatement where Row == FeedRow {
    var after: Int64 { get }
    var user: Int64 { get }
    var bound: Int64 { get }
    init(after: Int64, user: Int64, bound: Int64)
}

extension FeedStreamStatement {
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(after)
        bindings.append(user)
        bindings.append(bound)
        return bindings
    }
}

struct FeedBriefs: FeedStreamStatement {
    static let sql = """
        SELECT id, topic_id, version, CASE WHEN retracted_at IS NULL THEN document END, position FROM briefs
        WHERE position > $1
          AND topic_id NOT IN (SELECT topic_id FROM subscriptions WHERE user_id = $2 AND NOT followed)
        ORDER BY position LIMIT $3
        """
    var after: Int64
    var user: Int64
    var bound: Int64

    func decodeRow(_ row: PostgresRow) throws -> FeedRow {
        let (id, topic, version, document, position) = try row.decode((String, String, Int, String?, Int64).self)
        return FeedRow(position: position, item: .brief(id: id, topic: topic, version: version, document: document))
    }
}

struct FeedBackfill: FeedStreamStatement {
    static let sql = """
        SELECT b.id, b.topic_id, b.version, b.document, f.position FROM backfill f
        JOIN briefs b ON b.id = f.brief_id
        WHERE f.user_id = $2 AND f.position > $1 AND b.retracted_at IS NULL
        ORDER BY f.position LIMIT $3
        """
    var after: Int64
    var user: Int64
    var bound: Int64

    func decodeRow(_ row: PostgresRow) throws -> FeedRow {
        try FeedBriefs(after: after, user: user, bound: bound).decodeRow(row)
    }
}

struct FeedReadStates: FeedStreamStatement {
    static let sql = """
        SELECT state, position FROM read_states WHERE user_id = $2 AND position > $1 ORDER BY position LIMIT $3
        """
    var after: Int64
    var user: Int64
    var bound: Int64

    func decodeRow(_ row: PostgresRow) throws -> FeedRow {
        let (state, position) = try row.decode((String, Int64).self)
        return FeedRow(position: position, item: .readState(state))
    }
}

struct FeedUnfollowed: FeedStreamStatement {
    static let sql = """
        SELECT topic_id, position FROM subscriptions
        WHERE user_id = $2 AND position > $1 AND NOT followed ORDER BY position LIMIT $3
        """
    var after: Int64
    var user: Int64
    var bound: Int64

    func decodeRow(_ row: PostgresRow) throws -> FeedRow {
        let (topic, position) = try row.decode((String, Int64).self)
        return FeedRow(position: position, item: .unfollow(topic: topic))
    }
}
