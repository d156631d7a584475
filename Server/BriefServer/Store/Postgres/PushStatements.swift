import NIOCore
import PostgresNIO

/// The statements of a push, prepared once per pooled connection and executed by name after.
///
/// why prepared: a statement sent as a plain query is parsed, analysed and planned at every
/// execution. In `brief-bench push --postgres` (64 devices, a mutation per push) that was half of
/// PostgreSQL's CPU time, against 5% for executing the statements.
enum PushStatements {
    /// Takes the row lock on a user's head (see `FeedTransaction.lockHead`); its position.
    struct LockUserHead: PostgresPreparedStatement {
        static let sql = "SELECT position FROM user_heads WHERE user_id = $1 FOR UPDATE"
        static let bindingDataTypes: [PostgresDataType] = [.int8]
        typealias Row = Int64

        var user: Int64

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(user)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64.self) }
    }

    /// What a push needs to read, in one round trip and one snapshot: the user's head, each brief
    /// it names that exists (with the user's state of it, if any), the device's push cursor, and
    /// the stamps of the push that were clamped before. Each row says which of the four it is
    /// (``Kind``).
    ///
    /// why the state in a subquery, not a join: the plan is made once for every push, without
    /// the values, and a join was planned as a hash of all the user's states; the subquery is
    /// an index lookup per brief named, however many states the user has.
    struct Read: PostgresPreparedStatement {
        static let sql = """
            SELECT 0, NULL, NULL, position, NULL::bytea, NULL::bigint, NULL::bigint FROM user_heads WHERE user_id = $1
            UNION ALL
            SELECT 1, b.id, (SELECT r.state FROM read_states r WHERE r.user_id = $1 AND r.brief_id = b.id),
                NULL, NULL, NULL, NULL
            FROM briefs b WHERE b.id = ANY($2)
            UNION ALL
            SELECT 2, NULL, NULL, last_applied_id, recent, NULL, NULL FROM push_cursors
            WHERE user_id = $1 AND device_id = $3 AND incarnation = $4
            UNION ALL
            SELECT 3, NULL, NULL, wall, NULL, counter, admitted_wall FROM clamped_stamps
            WHERE user_id = $1 AND device_id = $3 AND wall = ANY($5)
            """
        static let bindingDataTypes: [PostgresDataType] = [.int8, .textArray, .text, .text, .int8Array]
        typealias Row = (Int32, String?, String?, Int64?, ByteBuffer?, Int64?, Int64?)

        /// What a row of ``Read`` holds, by its first column.
        enum Kind: Int32 {
            /// The user's head: (position in the fourth column).
            case head = 0
            /// A brief the push names: (id, the user's state of it or `NULL`).
            case brief = 1
            /// The incarnation's cursor: (last applied id, recent).
            case cursor = 2
            /// A stamp clamped before: (wall, counter, admitted wall).
            case clampedStamp = 3
        }

        var user: Int64
        var briefs: [String]
        var device: String
        var incarnation: String
        var walls: [Int64]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 5)
            bindings.append(user)
            bindings.append(briefs)
            bindings.append(device)
            bindings.append(incarnation)
            bindings.append(walls)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// Everything a push writes, in one statement, and only if the user's head still stands where
    /// the push read it (`expectedHead`): the head's row lock is taken first, by the guard, and
    /// the states, the cursor, the newly clamped stamps, the head (when `head` is set) and the
    /// notifications are written only when it holds (every data-modifying WITH runs, whether or
    /// not its rows are read, so each is made conditional). Its one row says whether the guard
    /// held and counts the notifications sent.
    ///
    /// Sent on its own, outside a transaction, it commits at once: a push then costs two round
    /// trips (``Read`` and this) and holds the user's lock only while PostgreSQL runs this
    /// statement and commits. A `NULL` `expectedHead` writes with no guard (a test numbering
    /// positions from a plain counter; see `FeedNumbering.writesHead`).
    struct Write: PostgresPreparedStatement {
        static let sql = """
            WITH head AS (
                UPDATE user_heads SET position = COALESCE($15, position)
                WHERE user_id = $1 AND position = $18
                RETURNING position
            ), guard AS (
                SELECT $18::bigint IS NULL OR EXISTS (SELECT 1 FROM head) AS holds
            ), states AS (
                INSERT INTO read_states (user_id, brief_id, state, position, saved, is_read)
                SELECT $1, changed.brief_id, changed.state, changed.position, changed.saved, changed.is_read
                FROM unnest($2::text[], $3::text[], $4::bigint[], $5::boolean[], $6::boolean[])
                    AS changed(brief_id, state, position, saved, is_read)
                WHERE (SELECT holds FROM guard)
                ON CONFLICT (user_id, brief_id) DO UPDATE
                SET state = excluded.state, position = excluded.position, saved = excluded.saved,
                    is_read = excluded.is_read
            ), pushed AS (
                INSERT INTO push_cursors (user_id, device_id, incarnation, last_applied_id, recent)
                SELECT $1, $7, $8, $9, $10
                WHERE $11 AND (SELECT holds FROM guard)
                ON CONFLICT (user_id, device_id, incarnation)
                DO UPDATE SET last_applied_id = excluded.last_applied_id, recent = excluded.recent
            ), clamps AS (
                INSERT INTO clamped_stamps (user_id, device_id, wall, counter, admitted_wall)
                SELECT $1, $7, stamp.wall, stamp.counter, stamp.admitted_wall
                FROM unnest($12::bigint[], $13::bigint[], $14::bigint[]) AS stamp(wall, counter, admitted_wall)
                WHERE (SELECT holds FROM guard)
                ON CONFLICT DO NOTHING
            )
            SELECT holds, (SELECT count(pg_notify($16, payload)) FROM unnest($17::text[]) AS payload WHERE holds)
            FROM guard
            """
        static let bindingDataTypes: [PostgresDataType] = [
            .int8, .textArray, .textArray, .int8Array, .boolArray, .boolArray, .text, .text, .int8, .bytea, .bool,
            .int8Array, .int8Array, .int8Array, .int8, .text, .textArray, .int8,
        ]
        /// Whether the guard held (and so everything was written), and the notifications sent.
        typealias Row = (Bool, Int64)

        var user: Int64
        var ids: [String]
        var states: [String]
        var positions: [Int64]
        var saved: [Bool]
        var read: [Bool]
        var device: String
        var incarnation: String
        /// The new cursor (last applied id, recent digests), if it changed.
        var cursor: (lastAppliedID: Int64, recent: ByteBuffer)?
        var clampedWalls: [Int64]
        var clampedCounters: [Int64]
        var admittedWalls: [Int64]
        var head: Int64?
        var channel: String
        var payloads: [String]
        /// The head as the push read it: nothing is written unless it still stands there.
        var expectedHead: Int64?

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 18)
            bindings.append(user)
            bindings.append(ids)
            bindings.append(states)
            bindings.append(positions)
            bindings.append(saved)
            bindings.append(read)
            bindings.append(device)
            bindings.append(incarnation)
            bindings.append(cursor?.lastAppliedID)
            bindings.append(cursor?.recent)
            bindings.append(cursor != nil)
            bindings.append(clampedWalls)
            bindings.append(clampedCounters)
            bindings.append(admittedWalls)
            bindings.append(head)
            bindings.append(channel)
            bindings.append(payloads)
            bindings.append(expectedHead)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }
}
