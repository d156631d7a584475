import BriefModel
import Foundation
import Logging
import Metrics
import NIOCore
import PostgresNIO

/// Pushes of read-state on PostgreSQL: two round trips when no other push of the user is in
/// flight, the user's lock when one is.
///
/// ## Without the lock first
///
/// A push reads what it needs, the user's head among it, in one statement (one snapshot), lets
/// ``PushApplier`` decide, numbers its changes from the head it read, and writes them in one
/// statement that commits on its own (``PushStatements/Write``). That statement takes the head's
/// row lock first and writes nothing unless the head still stands where the push read it: if
/// another push of the user committed in between, PostgreSQL re-reads the head once that one has
/// committed, finds it moved, and the push reads again. So a push that commits did decide on the
/// newest state, and numbered above every committed position while holding the head's lock to its
/// commit: the commit order of ``PostgresDeltaStore`` holds as with the lock taken first.
///
/// It is the same write as before, made in two round trips instead of five (`BEGIN`, the lock,
/// the read, the write, `COMMIT`), with the user's lock held for none of them. After
/// ``optimisticAttempts`` reads overtaken in a row, the push takes the user's lock first and then
/// cannot be overtaken, so a user whose devices all push at once still gets every push through.
extension PostgresDeltaStore {
    /// How many times a push reads and tries to write before it takes the user's lock first.
    static let optimisticAttempts = 3

    public func push(_ push: PushRequestV1, for user: UserID, applier: PushApplier, now: Int64) async throws
        -> PushApplier.Outcome
    {
        let label = "push \(push.deviceID.rawValue)"
        for _ in 0..<Self.optimisticAttempts {
            if let outcome = try await pushUnlocked(push, for: user, applier: applier, now: now, label: label) {
                return outcome
            }
            contention.overtaken.increment()
        }
        contention.locked.increment()
        logger.debug(
            "push overtaken \(Self.optimisticAttempts) times; taking the user's lock",
            metadata: ["user": "\(user)"]
        )
        return try await feedWrite(label: label, plane: .user(user)) { feed in
            guard let outcome = try await attempt(push, applier: applier, now: now, feed: feed) else {
                throw PostgresStoreError("the user's head moved under its lock")
            }
            return outcome
        }
    }

    /// One attempt without the user's lock; `nil` when another push of the user committed between
    /// its read and its write (nothing was written then).
    ///
    /// A numbering that pauses before commit (a test's) gets the attempt in a transaction of its
    /// own, so that the pause falls between the write and the commit.
    private func pushUnlocked(
        _ push: PushRequestV1,
        for user: UserID,
        applier: PushApplier,
        now: Int64,
        label: String
    ) async throws -> PushApplier.Outcome? {
        try await converting {
            try await client.withConnection { connection in
                let feed = FeedTransaction(connection: connection, store: self, plane: .user(user))
                guard numbering.pausesBeforeCommit else {
                    return try await attempt(push, applier: applier, now: now, feed: feed)
                }
                try await connection.query("BEGIN", logger: logger)
                do {
                    let outcome = try await attempt(push, applier: applier, now: now, feed: feed)
                    if outcome != nil, feed.numbered {
                        try await numbering.beforeCommit(feed, label: label)
                    }
                    try await connection.query(outcome == nil ? "ROLLBACK" : "COMMIT", logger: logger)
                    return outcome
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    /// Reads what `push` needs, applies it, and writes the outcome if the user's head has not
    /// moved since the read (always, under the user's lock). `nil` when it had moved.
    private func attempt(
        _ push: PushRequestV1,
        applier: PushApplier,
        now: Int64,
        feed: FeedTransaction
    ) async throws -> PushApplier.Outcome? {
        guard case .user(let user) = feed.plane else {
            preconditionFailure("a push numbers on its user's sequence")
        }
        let connection = feed.connection
        let device = push.deviceID.rawValue
        let incarnation = push.incarnation ?? ""
        let read = try await readForPush(push, user: user, connection: connection)
        // why from the read even under the lock: the same value then, and the one to check otherwise
        feed.head = read.head
        let outcome: PushApplier.Outcome
        do {
            outcome = try applier.apply(
                push,
                cursor: read.cursor,
                current: read.current,
                clamped: read.clamped,
                now: now
            )
        } catch let conflict as PushConflict {
            throw StoreError.incarnationConflict(conflict)
        }
        let encoder = WireCoding.encoder()
        var (ids, states, positions, saved, isRead) = ([String](), [String](), [Int64](), [Bool](), [Bool]())
        for state in outcome.changedStates(from: read.current) {
            ids.append(state.briefID.rawValue)
            states.append(String(decoding: try encoder.encode(state), as: UTF8.self))
            positions.append(try await feed.nextPosition())
            saved.append(state.isSaved)
            isRead.append(state.isRead)
        }
        if !ids.isEmpty {
            feed.notify(user: user)
        }
        guard !ids.isEmpty || outcome.cursor != nil else {
            return outcome  // why no write: an exact retry of what the read shows applied
        }
        let clampedStamps = outcome.clamped.sorted { $0.key < $1.key }
        let write = PushStatements.Write(
            user: user,
            ids: ids,
            states: states,
            positions: positions,
            saved: saved,
            read: isRead,
            device: device,
            incarnation: incarnation,
            cursor: outcome.cursor.map { (Int64($0.lastAppliedID), ByteBuffer(bytes: $0.recentBytes)) },
            clampedWalls: clampedStamps.map(\.key.wall),
            clampedCounters: clampedStamps.map { Int64($0.key.counter) },
            admittedWalls: clampedStamps.map(\.value),
            head: feed.headToWrite,
            channel: PostgresDeltaStore.channel,
            payloads: feed.payloads,
            // why even when nothing is numbered: a cursor written on a stale read could let a copy
            // of the store push other mutations under ids this one took (see PushApplier)
            expectedHead: numbering.writesHead ? read.head : nil
        )
        var held = false
        for try await (holds, _) in try await connection.execute(write, logger: logger) {
            held = holds
        }
        feed.wroteHeadAndNotified()
        return held ? outcome : nil
    }

    /// What ``PushStatements/Read`` found for a push.
    private struct PushRead {
        var head: Int64 = 0
        var current: [BriefID: ReadState] = [:]
        var cursor = PushCursor.initial
        var clamped: [HybridTimestamp: Int64] = [:]
    }

    /// Reads the user's head and everything `push` is judged against, in one snapshot.
    ///
    /// - Throws: ``StoreError/unknownBriefs(_:)`` when the push names a brief that does not exist.
    private func readForPush(
        _ push: PushRequestV1,
        user: UserID,
        connection: PostgresConnection
    ) async throws -> PushRead {
        let statement = PushStatements.Read(
            user: user,
            briefs: Array(Set(push.mutations.map(\.briefID.rawValue))).sorted(),
            device: push.deviceID.rawValue,
            incarnation: push.incarnation ?? "",
            walls: Array(Set(push.mutations.map(\.stamp.wall)))
        )
        let decoder = WireCoding.decoder(unknownFields: .ignore)
        var read = PushRead()
        var headFound = false
        var existing = Set<String>()
        for try await (kind, id, json, number, recent, counter, admitted) in try await connection.execute(
            statement,
            logger: logger
        ) {
            switch PushStatements.Read.Kind(rawValue: kind) {
            case .head:
                read.head = number ?? 0
                headFound = number != nil
            case .brief:
                guard let id else { continue }
                existing.insert(id)
                if let json {
                    let state = try decoder.decode(ReadState.self, from: Data(json.utf8))
                    read.current[state.briefID] = state
                }
            case .cursor:
                if let number, let recent {
                    read.cursor = PushCursor(
                        lastAppliedID: UInt64(number),
                        recentBytes: Array(recent.readableBytesView)
                    )
                }
            case .clampedStamp:
                if let number, let counter, let admitted {
                    let stamp = HybridTimestamp(
                        wall: number,
                        counter: UInt32(truncatingIfNeeded: counter),
                        device: push.deviceID
                    )
                    read.clamped[stamp] = admitted
                }
            case nil:
                throw PostgresStoreError("a push read a row of unknown kind \(kind)")
            }
        }
        guard headFound else {
            throw PostgresStoreError("the head of the feed's plane is missing")
        }
        let unknown = push.mutations.enumerated().filter { !existing.contains($0.element.briefID.rawValue) }
        guard unknown.isEmpty else {
            throw StoreError.unknownBriefs(unknown.map { .init(index: $0.offset, briefID: $0.element.briefID) })
        }
        return read
    }
}

/// Pushes of one user that got in each other's way, for operators: many devices of one user
/// pushing at once, or a client retrying in a tight loop, shows here before it shows as latency.
struct PushContention: Sendable {
    /// `briefsync_push_overtaken_total`: attempts that found another push of the user committed
    /// between their read and their write, wrote nothing, and read again.
    let overtaken: Counter
    /// `briefsync_push_locked_total`: pushes overtaken ``PostgresDeltaStore/optimisticAttempts``
    /// times in a row, which then took the user's lock first.
    let locked: Counter

    init(factory: any MetricsFactory) {
        overtaken = Counter(label: "briefsync_push_overtaken_total", factory: factory)
        locked = Counter(label: "briefsync_push_locked_total", factory: factory)
    }
}
