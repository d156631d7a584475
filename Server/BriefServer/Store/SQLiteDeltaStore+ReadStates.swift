import BriefModel
import Foundation
import GRDB

extension SQLiteDeltaStore {
    public func push(_ push: PushRequestV1, for user: UserID, applier: PushApplier, now: Int64) async throws
        -> PushApplier.Outcome
    {
        try await write { db in
            let named = Set(push.mutations.map(\.briefID.rawValue))
            let existing = try String.fetchSet(
                db.cachedStatement(sql: "SELECT id FROM briefs WHERE id IN (SELECT value FROM json_each(?))"),
                arguments: [String(decoding: try JSONEncoder().encode(Array(named)), as: UTF8.self)]
            )
            let unknown = push.mutations.enumerated().filter { !existing.contains($0.element.briefID.rawValue) }
            guard unknown.isEmpty else {
                throw StoreError.unknownBriefs(unknown.map { .init(index: $0.offset, briefID: $0.element.briefID) })
            }
            let incarnation = push.incarnation ?? ""
            let cursor =
                try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT last_applied_id, recent FROM push_cursors
                            WHERE user_id = ? AND device_id = ? AND incarnation = ?
                            """
                    ),
                    arguments: [user, push.deviceID.rawValue, incarnation]
                ).map { row in
                    PushCursor(
                        lastAppliedID: UInt64(row["last_applied_id"] as Int64),
                        recentBytes: [UInt8](row["recent"] as Data)
                    )
                } ?? .initial
            var current: [BriefID: ReadState] = [:]
            let decoder = WireCoding.decoder(unknownFields: .ignore)
            for id in named {
                if let json = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT state FROM read_states WHERE user_id = ? AND brief_id = ?"),
                    arguments: [user, id]
                ),
                    let briefID = BriefID(rawValue: id)
                {
                    current[briefID] = try decoder.decode(ReadState.self, from: Data(json.utf8))
                }
            }
            var clamped: [HybridTimestamp: Int64] = [:]
            for row in try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT wall, counter, admitted_wall FROM clamped_stamps
                        WHERE user_id = ? AND device_id = ? AND wall IN (SELECT value FROM json_each(?))
                        """
                ),
                arguments: [
                    user, push.deviceID.rawValue,
                    String(
                        decoding: try JSONEncoder().encode(Array(Set(push.mutations.map(\.stamp.wall)))),
                        as: UTF8.self
                    ),
                ]
            ) {
                let stamp = HybridTimestamp(
                    wall: row["wall"],
                    counter: UInt32(truncatingIfNeeded: row["counter"] as Int64),
                    device: push.deviceID
                )
                clamped[stamp] = row["admitted_wall"]
            }
            let outcome: PushApplier.Outcome
            do {
                outcome = try applier.apply(push, cursor: cursor, current: current, clamped: clamped, now: now)
            } catch let conflict as PushConflict {
                throw StoreError.incarnationConflict(conflict)
            }
            let encoder = WireCoding.encoder()
            let changed = outcome.changedStates(from: current)
            if !changed.isEmpty {
                var position = try Self.nextStatePositions(db, user: user, count: changed.count)
                for state in changed {
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO read_states (user_id, brief_id, state, position, saved, is_read)
                            VALUES (?, ?, ?, ?, ?, ?)
                            ON CONFLICT (user_id, brief_id) DO UPDATE
                            SET state = excluded.state, position = excluded.position, saved = excluded.saved,
                                is_read = excluded.is_read
                            """
                    ).execute(arguments: [
                        user, state.briefID.rawValue, String(decoding: try encoder.encode(state), as: UTF8.self),
                        position, state.isSaved, state.isRead,
                    ]
                    )
                    position += 1
                }
            }
            for (stamp, wall) in outcome.clamped {
                try db.cachedStatement(
                    sql: """
                        INSERT OR IGNORE INTO clamped_stamps (user_id, device_id, wall, counter, admitted_wall)
                        VALUES (?, ?, ?, ?, ?)
                        """
                ).execute(arguments: [user, push.deviceID.rawValue, stamp.wall, Int64(stamp.counter), wall]
                )
            }
            if let next = outcome.cursor {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO push_cursors (user_id, device_id, incarnation, last_applied_id, recent)
                        VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (user_id, device_id, incarnation)
                        DO UPDATE SET last_applied_id = excluded.last_applied_id, recent = excluded.recent
                        """
                ).execute(arguments: [
                    user, push.deviceID.rawValue, incarnation, Int64(next.lastAppliedID), Data(next.recentBytes),
                ]
                )
            }
            return outcome
        }
    }

    public func topics(for user: UserID) async throws -> [TopicStatusV1] {
        try await read { db in try Self.topics(db, user: user, only: nil) }
    }

    public func setFollowing(_ topic: TopicID, _ follow: Bool, for user: UserID) async throws -> TopicStatusV1? {
        try await write { db in
            let plan = FollowPlan(follow, current: try Self.topics(db, user: user, only: topic).first)
            guard case .write(let updated) = plan else {
                return plan.status
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO subscriptions (user_id, topic_id, followed, position) VALUES (?, ?, ?, ?)
                    ON CONFLICT (user_id, topic_id) DO UPDATE SET followed = excluded.followed, position = excluded.position
                    """
            ).execute(arguments: [user, topic.rawValue, follow, try Self.nextStatePositions(db, user: user)]
            )
            return updated
        }
    }

    private static func topics(_ db: Database, user: UserID, only: TopicID?) throws -> [TopicStatusV1] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT t.id, t.name, COALESCE(s.followed, 1) AS followed, t.live_briefs AS brief_count
                    FROM topics t LEFT JOIN subscriptions s ON s.topic_id = t.id AND s.user_id = ?
                    WHERE ? IS NULL OR t.id = ?
                    ORDER BY t.id
                    """
            ),
            arguments: [user, only?.rawValue, only?.rawValue]
        ).compactMap { row in
            TopicID(rawValue: row["id"]).map {
                TopicStatusV1(id: $0, name: row["name"], followed: row["followed"], briefCount: row["brief_count"])
            }
        }
    }
}
