import BriefModel
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

extension PostgresDeltaStore {
    // MARK: Publishing

    public func publish(_ brief: Brief, now: Int64) async throws -> PublishResultV1 {
        let edition = try Edition(brief)
        let (document, digest) = (edition.document, edition.digest)
        let (id, topic) = (brief.id.rawValue, brief.topic.id.rawValue)
        return try await feedWrite(label: id, plane: .content) { feed in
            let connection = feed.connection
            try await connection.query(
                """
                INSERT INTO topics (id, name) VALUES (\(topic), \(brief.topic.name))
                ON CONFLICT (id) DO UPDATE SET name = excluded.name
                """,
                logger: logger
            )
            let held = try await connection.query(
                "SELECT version, digest, retracted_at FROM briefs WHERE id = \(id)",
                logger: logger
            ).decode((Int, ByteBuffer, Int64?).self).first { _ in true }.map {
                EditionPlan.Held(version: $0.0, digest: Array($0.1.readableBytesView), retracted: $0.2 != nil)
            }
            let plan = EditionPlan.publish(digest: digest, over: held)
            guard case .write(let version) = plan else {
                return plan.result(brief.id, digest: edition.hexDigest)
            }
            try await connection.query(
                """
                INSERT INTO contents (digest, document, gzip, created_at)
                VALUES (\(ByteBuffer(bytes: digest)), \(document), \(ByteBuffer(bytes: edition.gzip)), \(now))
                ON CONFLICT (digest) DO NOTHING
                """,
                logger: logger
            )
            let position = try await feed.nextPosition()
            // why item_id is not updated on conflict, and why MAX needs no lock of its own: see
            // Schema/postgres/pg_server_v6.sql; every publish holds the content log's lock here
            try await connection.query(
                """
                INSERT INTO briefs (
                    id, topic_id, version, digest, size, published_at, retracted_at, position, brief_date, item_id)
                VALUES (
                    \(id), \(topic), \(version), \(ByteBuffer(bytes: digest)), \(document.utf8.count), \(now), NULL,
                    \(position), \(brief.date.iso), GREATEST(\(now * 1000), COALESCE((SELECT MAX(item_id) FROM briefs), 0) + 1))
                ON CONFLICT (id) DO UPDATE SET
                    topic_id = excluded.topic_id, version = excluded.version, digest = excluded.digest,
                    size = excluded.size, published_at = excluded.published_at, retracted_at = NULL,
                    position = excluded.position, brief_date = excluded.brief_date
                """,
                logger: logger
            )
            feed.notify(user: nil)
            return plan.result(brief.id, digest: edition.hexDigest)
        }
    }

    public func content(digest: [UInt8], gzip: Bool) async throws -> StoredContent? {
        try await converting {
            let rows = try await client.query(
                """
                SELECT CASE WHEN \(gzip) THEN gzip END,
                    CASE WHEN NOT \(gzip) OR gzip IS NULL THEN document END
                FROM contents WHERE digest = \(ByteBuffer(bytes: digest))
                """,
                logger: logger
            )
            for try await (compressed, document) in rows.decode((ByteBuffer?, String?).self) {
                if let compressed {
                    return .gzip(Array(compressed.readableBytesView))
                }
                guard let document else {
                    throw PostgresStoreError("the content row \(ContentDigest.hex(digest)) has no document")
                }
                return .document(document)
            }
            return nil
        }
    }

    public func topicEditions(_ topic: TopicID, limit: Int) async throws -> TopicEditions? {
        try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            let name = try await connection.query(
                "SELECT name FROM topics WHERE id = \(topic.rawValue)",
                logger: logger
            ).decode(String.self).first { _ in true }
            guard let name else {
                return nil
            }
            var editions: [TopicEditions.Edition] = []
            for try await (version, publishedAt, digest, document) in try await connection.query(
                """
                SELECT b.version, b.published_at, b.digest, c.document FROM briefs b
                JOIN contents c ON c.digest = b.digest
                WHERE b.topic_id = \(topic.rawValue) AND b.retracted_at IS NULL
                ORDER BY b.brief_date DESC, b.position DESC LIMIT \(Int64(limit))
                """,
                logger: logger
            ).decode((Int, Int64, ByteBuffer, String).self) {
                editions.append(
                    .init(
                        version: version,
                        publishedAt: publishedAt,
                        digest: Array(digest.readableBytesView),
                        document: document
                    )
                )
            }
            return TopicEditions(name: name, editions: editions)
        }
    }

    public func keepCompressed(_ gzip: [UInt8], digest: [UInt8]) async throws {
        try await converting {
            try await client.query(
                """
                UPDATE contents SET gzip = \(ByteBuffer(bytes: gzip))
                WHERE digest = \(ByteBuffer(bytes: digest)) AND gzip IS NULL
                """,
                logger: logger
            )
        }
    }

    public func retract(_ id: BriefID, now: Int64) async throws -> PublishResultV1? {
        try await feedWrite(label: id.rawValue, plane: .content) { feed in
            let connection = feed.connection
            let held = try await connection.query(
                "SELECT version, retracted_at FROM briefs WHERE id = \(id.rawValue)",
                logger: logger
            ).decode((Int, Int64?).self).first(where: { _ in true }).map {
                EditionPlan.Held(version: $0.0, digest: nil, retracted: $0.1 != nil)
            }
            let plan = EditionPlan.retract(held)
            if case .tombstone(let version) = plan {
                let position = try await feed.nextPosition()
                try await connection.query(
                    """
                    UPDATE briefs SET version = \(version), retracted_at = \(now), position = \(position)
                    WHERE id = \(id.rawValue)
                    """,
                    logger: logger
                )
                feed.notify(user: nil)
            }
            return plan.result(id)
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
            // editions no brief points to any more, once as old as the tombstones
            try await connection.query(
                "DELETE FROM contents WHERE created_at < \(cutoff) AND digest NOT IN (SELECT digest FROM briefs)",
                logger: logger
            )
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

    /// The page reads both heads and every query it needs in one snapshot (see "Commit order").
    /// Each query is prepared and index-ordered, bounded by the page's limit.
    public func changes(
        for user: UserID,
        after cursor: FeedCursor?,
        window: CalendarDate?,
        limit: Int,
        maxBytes: Int
    ) async throws -> ChangeBatch {
        try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            var heads: (content: UInt64, state: UInt64) = (0, 0)
            for try await (content, state) in try await connection.execute(FeedHeads(user: user), logger: logger) {
                heads = (UInt64(content), UInt64(state))
            }
            var pager = FeedPager(cursor: cursor, window: window, heads: heads, limit: limit, maxBytes: maxBytes)
            while let query = pager.nextQuery {
                var rows: [FeedRow] = []
                switch query {
                case .content(let after, let limit):
                    for try await row in try await connection.execute(
                        FeedContent(after: Int64(clamping: after), user: user, limit: Int64(limit)),
                        logger: logger
                    ) {
                        rows.append(row)
                    }
                case .state(let after, let limit):
                    var (states, follows) = ([FeedRow](), [FeedRow]())
                    let bound = (after: Int64(clamping: after), user: user, limit: Int64(limit))
                    for try await row in try await connection.execute(
                        FeedReadStates(after: bound.after, user: user, limit: bound.limit),
                        logger: logger
                    ) {
                        states.append(row)
                    }
                    for try await row in try await connection.execute(
                        FeedFollows(after: bound.after, user: user, limit: bound.limit),
                        logger: logger
                    ) {
                        follows.append(row)
                    }
                    rows = FeedRow.mergedByStatePosition(states, follows, limit: limit)
                case .catchUp(let catchUp, let savedOnly, let limit):
                    let found =
                        savedOnly
                        ? try await connection.execute(
                            FeedCatchUpSaved(user: user, catchUp: catchUp, limit: Int64(limit)),
                            logger: logger
                        )
                        : try await connection.execute(
                            FeedCatchUpWindow(user: user, catchUp: catchUp, limit: Int64(limit)),
                            logger: logger
                        )
                    for try await row in found {
                        rows.append(row)
                    }
                }
                try pager.receive(rows)
            }
            return pager.batch
        }
    }

    // MARK: Topics

    public func topics(for user: UserID) async throws -> [TopicStatusV1] {
        try await transaction { connection in try await Self.topics(connection, user: user, only: nil, logger: logger) }
    }

    public func setFollowing(_ topic: TopicID, _ follow: Bool, for user: UserID) async throws -> TopicStatusV1? {
        try await feedWrite(label: "follow \(topic.rawValue)", plane: .user(user)) { feed in
            let connection = feed.connection
            let plan = FollowPlan(
                follow,
                current: try await Self.topics(connection, user: user, only: topic, logger: logger).first
            )
            guard case .write(let updated) = plan else {
                return plan.status
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
            feed.notify(user: user)
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
            SELECT t.id, t.name, COALESCE(s.followed, TRUE), t.live_briefs
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

// MARK: Prepared feed queries

/// The heads of the content log and of the user's sequence.
struct FeedHeads: PostgresPreparedStatement {
    static let sql = """
        SELECT (SELECT position FROM content_head WHERE id = 1),
               COALESCE((SELECT position FROM user_heads WHERE user_id = $1), 0)
        """
    typealias Row = (Int64, Int64)
    var user: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(user)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((Int64, Int64).self) }
}

/// The queries of ``FeedQuery``, as in `SQLiteDeltaStore.FeedSQL`, each an index range scan.
/// Each binds ($1 after, $2 user, $3 limit).
protocol FeedRangeStatement: PostgresPreparedStatement where Row == FeedRow {
    var after: Int64 { get }
    var user: Int64 { get }
    var limit: Int64 { get }
}

extension FeedRangeStatement {
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(after)
        bindings.append(user)
        bindings.append(limit)
        return bindings
    }
}

struct FeedContent: FeedRangeStatement {
    static let sql = """
        SELECT b.id, b.topic_id, b.version, CASE WHEN b.retracted_at IS NULL THEN b.digest END, b.size, b.brief_date,
               b.position, CASE WHEN b.retracted_at IS NULL THEN r.state END
        FROM briefs b LEFT JOIN read_states r ON r.user_id = $2 AND r.brief_id = b.id
        WHERE b.position > $1
          AND b.topic_id NOT IN (SELECT topic_id FROM subscriptions WHERE user_id = $2 AND NOT followed)
        ORDER BY b.position LIMIT $3
        """
    var after: Int64
    var user: Int64
    var limit: Int64

    func decodeRow(_ row: PostgresRow) throws -> FeedRow { try .brief(BriefRow(row)) }
}

struct FeedReadStates: FeedRangeStatement {
    static let sql = """
        SELECT state, position FROM read_states WHERE user_id = $2 AND position > $1 ORDER BY position LIMIT $3
        """
    var after: Int64
    var user: Int64
    var limit: Int64

    func decodeRow(_ row: PostgresRow) throws -> FeedRow {
        let (state, position) = try row.decode((String, Int64).self)
        return .readState(json: state, position: UInt64(position))
    }
}

struct FeedFollows: FeedRangeStatement {
    static let sql = """
        SELECT topic_id, followed, position FROM subscriptions
        WHERE user_id = $2 AND position > $1 ORDER BY position LIMIT $3
        """
    var after: Int64
    var user: Int64
    var limit: Int64

    func decodeRow(_ row: PostgresRow) throws -> FeedRow {
        let (topic, followed, position) = try row.decode((String, Bool, Int64).self)
        return .follow(topic: topic, followed: followed, position: UInt64(position))
    }
}

/// A catch-up's briefs, newest first: its window, or its saved briefs dated before the window
/// (as in `SQLiteDeltaStore.FeedSQL`; a saved brief whatever its topic). Each binds ($1 user, $2 topic or NULL, $3 through,
/// $4 window or NULL, $5 and $6 the mark, $7 limit).
protocol FeedCatchUpStatement: PostgresPreparedStatement where Row == FeedRow {
    var user: Int64 { get }
    var catchUp: CatchUp { get }
    var limit: Int64 { get }
}

extension FeedCatchUpStatement {
    func makeBindings() throws -> PostgresBindings {
        let mark = catchUp.mark
        var bindings = PostgresBindings()
        bindings.append(user)
        bindings.append(catchUp.topic?.rawValue)
        bindings.append(Int64(clamping: catchUp.through))
        bindings.append(catchUp.window?.iso)
        bindings.append(mark.date.iso)
        bindings.append(Int64(clamping: mark.position))
        bindings.append(limit)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> FeedRow { try .brief(BriefRow(row)) }
}

struct FeedCatchUpWindow: FeedCatchUpStatement {
    static let sql = """
        SELECT b.id, b.topic_id, b.version, CASE WHEN b.retracted_at IS NULL THEN b.digest END, b.size,
               b.brief_date, b.position, r.state
        FROM briefs b LEFT JOIN read_states r ON r.user_id = $1 AND r.brief_id = b.id
        WHERE (b.retracted_at IS NULL OR r.saved) AND b.position <= $3
          AND ($2::text IS NULL OR b.topic_id = $2)
          AND ($4::text IS NULL OR b.brief_date >= $4)
          AND (b.brief_date, b.position) < ($5::text, $6::bigint)
          AND (r.saved
               OR b.topic_id NOT IN (SELECT topic_id FROM subscriptions WHERE user_id = $1 AND NOT followed))
        ORDER BY b.brief_date DESC, b.position DESC LIMIT $7
        """
    var user: Int64
    var catchUp: CatchUp
    var limit: Int64
}

/// Saved briefs dated before the window: read from the user's saved states, a handful.
struct FeedCatchUpSaved: FeedCatchUpStatement {
    static let sql = """
        SELECT b.id, b.topic_id, b.version, CASE WHEN b.retracted_at IS NULL THEN b.digest END, b.size,
               b.brief_date, b.position, r.state
        FROM read_states r JOIN briefs b ON b.id = r.brief_id
        WHERE r.user_id = $1 AND r.saved
          AND b.position <= $3
          AND ($2::text IS NULL OR b.topic_id = $2)
          AND b.brief_date < $4::text
          AND (b.brief_date, b.position) < ($5::text, $6::bigint)
        ORDER BY b.brief_date DESC, b.position DESC LIMIT $7
        """
    var user: Int64
    var catchUp: CatchUp
    var limit: Int64
}

extension BriefRow {
    /// A row of the columns every brief query selects: id, topic, version, digest (NULL for a
    /// tombstone), size, date, position, and the user's state (NULL when the user has none, and
    /// for the content log's tombstones).
    init(_ row: PostgresRow) throws {
        let (id, topic, version, digest, size, date, position, state) = try row.decode(
            (String, String, Int, ByteBuffer?, Int, String, Int64, String?).self
        )
        self.init(
            id: id,
            topic: topic,
            version: version,
            digest: digest.map { Array($0.readableBytesView) },
            size: size,
            date: date,
            position: UInt64(position),
            state: state
        )
    }
}
