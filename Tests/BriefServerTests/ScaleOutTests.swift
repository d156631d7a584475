import BriefModel
import BriefTestSupport
import Foundation
import HTTPTypes
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import Prometheus
import Testing

@testable import BriefServer

/// Several instances on one PostgreSQL database: commit order of the feed, migrations that race,
/// sessions and tokens that every instance accepts, and long-polls woken by another instance.
@Suite struct ScaleOutTests {
    static let logger = Logger(label: "scale-out")

    static func brief(_ id: String) throws -> Brief {
        try StoreConformanceTests.brief(id)
    }

    /// Everything a reader saw, paging from nothing to both heads.
    struct Reader {
        var cursor: FeedCursor?
        var briefs = Set<String>()
        var readStates = Set<String>()

        mutating func page(_ store: any DeltaStore, user: UserID, limit: Int = 7) async throws {
            var more = true
            while more {
                let page = try await store.changes(
                    for: user,
                    after: cursor,
                    window: nil,
                    limit: limit,
                    maxBytes: 1 << 22
                )
                briefs.formUnion(page.published.map(\.id.rawValue))
                readStates.formUnion(page.readStates.filter(\.isRead).map(\.briefID.rawValue))
                if let cursor {
                    #expect(
                        page.next.content >= cursor.content && page.next.state >= cursor.state,
                        "a token never moves back"
                    )
                }
                cursor = page.next
                more = page.hasMore
            }
        }
    }

    /// The plane a test's writes number changes on.
    enum Plane: String, Sendable, CaseIterable {
        /// Publishing, on the content log.
        case content
        /// Pushes of one user, on that user's sequence.
        case state
    }

    /// A transaction that has numbered its change but not committed yet must hold back every
    /// reader, on either plane: with the head's row lock (`.serialized`) the reader then gets both
    /// changes; with positions from a plain counter (`.unprotected`, the bug the design prevents)
    /// it skips one. The second case is the proof that this test fails when the protection is removed.
    @Test(
        .enabled(if: TestServices.postgres, "needs PostgreSQL (BRIEFSYNC_TEST_POSTGRES; scripts/test starts one)"),
        arguments: [Ordering.serialized, .unprotected],
        Plane.allCases
    )
    func aReaderNeverSkipsAChangeStillInFlight(ordering: Ordering, plane: Plane) async throws {
        try await TestPostgres.withDatabase { settings in
            let gate = Gate()
            let store = try await PostgresDeltaStore.connect(
                settings,
                logger: Self.logger,
                numbering: ordering.numbering(beforeCommit: { label in
                    if label == (plane == .content ? "b-slow" : "push slow") {
                        await gate.arriveAndWait()
                    }
                })
            )
            defer { Task { await store.shutdown() } }
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            var reader = Reader()
            let slow: Task<Void, any Error>
            let fast: Task<Void, any Error>
            switch plane {
            case .content:
                // Given a publish that took its position and has not committed
                slow = Task { _ = try await store.publish(try Self.brief("b-slow"), now: 1) }
                await gate.waitForArrival()
                // and a later publish, which commits as soon as the store lets it
                fast = Task { _ = try await store.publish(try Self.brief("b-fast"), now: 2) }
            case .state:
                // Given a reader up to date with two briefs, and a push of anna's that took its
                // position and has not committed
                _ = try await store.publish(try Self.brief("b-slow"), now: 1)
                _ = try await store.publish(try Self.brief("b-fast"), now: 1)
                try await reader.page(store, user: anna.id)
                reader.briefs = []
                slow = Task {
                    let push = StoreConformanceTests.push(
                        [(1, "b-slow", .markRead)],
                        device: DeviceID(rawValue: "slow")!
                    )
                    _ = try await store.push(push, for: anna.id, applier: PushApplier(), now: 2)
                }
                await gate.waitForArrival()
                // and a later push of hers from another device
                fast = Task {
                    let push = StoreConformanceTests.push(
                        [(1, "b-fast", .markRead)],
                        device: DeviceID(rawValue: "fast")!
                    )
                    _ = try await store.push(push, for: anna.id, applier: PushApplier(), now: 3)
                }
            }
            func seen() -> Set<String> { plane == .content ? reader.briefs : reader.readStates }

            // When a reader pages meanwhile (until it sees b-fast, or for 5 s if it cannot: under a
            // loaded test run, the unprotected b-fast may take a while to commit)
            let started = ContinuousClock.now
            repeat {
                try await Task.sleep(for: .milliseconds(50))
                try await reader.page(store, user: anna.id)
            } while !seen().contains("b-fast") && ContinuousClock.now - started < .seconds(5)

            // and pages again once both have committed
            gate.open()
            _ = try await slow.value
            _ = try await fast.value
            try await reader.page(store, user: anna.id)

            // Then it has both, unless positions were not in commit order
            switch ordering {
            case .serialized:
                #expect(seen() == ["b-slow", "b-fast"])
            case .unprotected:
                // b-slow's position was taken, and the counter committed, before the reader's first
                // page, and every page moves the reader to the head it reads: b-slow is always
                // skipped. b-fast may be skipped too, when its counter commits before its change
                // and a page reads the head in between.
                #expect(!seen().contains("b-slow"), "the unprotected counter lets a reader skip b-slow")
            }
        }
    }

    /// A push reads without the user's lock and writes only if the user's head has not moved
    /// since. Given one push of anna's written and not committed (it saved b-1), and another
    /// that read before that commit (it marks b-1 read): the second waits for the first's lock,
    /// finds the head moved, and reads again, so b-1 ends saved *and* read. A write on what it
    /// read first would have lost the save.
    @Test(.enabled(if: TestServices.postgres, "needs PostgreSQL (BRIEFSYNC_TEST_POSTGRES; scripts/test starts one)"))
    func aPushOvertakenBetweenItsReadAndItsWriteReadsAgain() async throws {
        try await TestPostgres.withDatabase { settings in
            let gate = Gate()
            let registry = PrometheusCollectorRegistry()
            let store = try await PostgresDeltaStore.connect(
                settings,
                logger: Self.logger,
                numbering: Ordering.serialized.numbering(beforeCommit: { label in
                    if label == "push slow" {
                        await gate.arriveAndWait()
                    }
                }),
                metrics: PrometheusMetricsFactory(registry: registry)
            )
            defer { Task { await store.shutdown() } }
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            _ = try await store.publish(try Self.brief("b-1"), now: 1)
            let slow = Task {
                let push = StoreConformanceTests.push([(1, "b-1", .save)], device: DeviceID(rawValue: "slow")!)
                return try await store.push(push, for: anna.id, applier: PushApplier(), now: 2)
            }
            await gate.waitForArrival()
            let fast = Task {
                let push = StoreConformanceTests.push([(1, "b-1", .markRead)], device: DeviceID(rawValue: "fast")!)
                return try await store.push(push, for: anna.id, applier: PushApplier(), now: 3)
            }
            // the second push has read and now waits for the first's lock in its write
            let started = ContinuousClock.now
            while try await Self.backendsWaitingForALock(store) == 0 {
                #expect(ContinuousClock.now - started < .seconds(20), "the second push never waited for the lock")
                guard ContinuousClock.now - started < .seconds(20) else { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            gate.open()
            #expect(try await slow.value.states.map(\.isSaved) == [true])
            let second = try await fast.value
            #expect(second.states.map(\.isSaved) == [true], "the second push decided on the first one's save")
            #expect(second.states.map(\.isRead) == [true])
            var reader = Reader()
            try await reader.page(store, user: anna.id)
            #expect(reader.readStates == ["b-1"])
            // operators see it: one attempt overtaken, read again, and no push needed the lock
            let metrics = Set(registry.exposition.split(separator: "\n").map(String.init))
            #expect(metrics.contains("briefsync_push_overtaken_total 1"))
            #expect(metrics.contains("briefsync_push_locked_total 0"))
        }
    }

    /// Backends of the test's database waiting for a lock now.
    private static func backendsWaitingForALock(_ store: PostgresDeltaStore) async throws -> Int64 {
        try await store.client.query(
            """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
            """,
            logger: logger
        ).decode(Int64.self).first { _ in true } ?? 0
    }

    /// Two instances, each with publishers and read-state pushers, while readers page on both
    /// without pause; afterwards every reader has every change. With `.unprotected` positions the
    /// same run shows readers skipping changes (a known issue there: it is the bug, reproduced;
    /// marked intermittent because a lucky schedule may not hit it).
    @Test(
        .enabled(if: TestServices.postgres, "needs PostgreSQL (BRIEFSYNC_TEST_POSTGRES; scripts/test starts one)"),
        arguments: [Ordering.serialized, .unprotected]
    )
    func concurrentWritersOnTwoInstancesNeverMakeAReaderSkip(ordering: Ordering) async throws {
        if ordering == .unprotected {
            await withKnownIssue("positions from a plain counter let readers skip changes", isIntermittent: true) {
                try await concurrentWriters(ordering: ordering)
            }
        } else {
            try await concurrentWriters(ordering: ordering)
        }
    }

    private func concurrentWriters(ordering: Ordering) async throws {
        try await TestPostgres.withDatabase { settings in
            // A short random pause before each commit widens the window in which a skip could happen.
            let jitter: @Sendable (String) async -> Void = { _ in
                try? await Task.sleep(for: .milliseconds(Int.random(in: 0...4)))
            }
            let first = try await PostgresDeltaStore.connect(
                settings,
                logger: Self.logger,
                numbering: ordering.numbering(beforeCommit: jitter)
            )
            let second = try await PostgresDeltaStore.connect(
                settings,
                logger: Self.logger,
                numbering: ordering.numbering(beforeCommit: jitter)
            )
            defer {
                Task {
                    await first.shutdown(); await second.shutdown()
                }
            }
            let instances = [first, second]
            let anna = try await first.createUser(username: "anna", passwordHash: "h", now: 1)
            // briefs for the pushers to mark read, each exactly once
            let targets = (0..<40).map { "t-\($0)" }
            for id in targets {
                _ = try await first.publish(try Self.brief(id), now: 1)
            }

            let writersDone = NIOLockedValueBox(false)
            let readers = try await withThrowingTaskGroup(of: Reader?.self) { group in
                for (index, store) in instances.enumerated() {
                    for publisher in 0..<2 {
                        group.addTask {
                            for n in 0..<20 {
                                _ = try await store.publish(try Self.brief("p\(index)-\(publisher)-\(n)"), now: 2)
                            }
                            return nil
                        }
                    }
                    group.addTask {
                        let device = DeviceID(rawValue: "device-\(index)")!
                        for (n, target) in targets.enumerated() where n % 2 == index {
                            let push = StoreConformanceTests.push([(UInt64(n + 1), target, .markRead)], device: device)
                            _ = try await store.push(push, for: anna.id, applier: PushApplier(), now: 3)
                        }
                        return nil
                    }
                }
                for index in 0..<4 {
                    group.addTask {
                        var reader = Reader()
                        while !writersDone.withLockedValue({ $0 }) {
                            try await reader.page(instances[index % 2], user: anna.id, limit: 5)
                        }
                        try await reader.page(instances[(index + 1) % 2], user: anna.id, limit: 5)
                        return reader
                    }
                }
                var writers = 6
                var readers: [Reader] = []
                for try await result in group {
                    if let result {
                        readers.append(result)
                    } else {
                        writers -= 1
                        if writers == 0 {
                            writersDone.withLockedValue { $0 = true }
                        }
                    }
                }
                return readers
            }

            var published = Set(targets)
            for index in 0..<2 {
                for publisher in 0..<2 {
                    published.formUnion((0..<20).map { "p\(index)-\(publisher)-\($0)" })
                }
            }
            #expect(readers.count == 4)
            for reader in readers {
                #expect(reader.briefs == published, "missed: \(published.subtracting(reader.briefs).sorted())")
                #expect(reader.readStates == Set(targets), "missed: \(Set(targets).subtracting(reader.readStates))")
            }
        }
    }

    /// `?sslmode=require` encrypts the connection and verifies the server's certificate against
    /// the named CA; without that CA the certificate is refused with an error that says so.
    @Test(
        .enabled(if: TestServices.postgres, "needs PostgreSQL (BRIEFSYNC_TEST_POSTGRES; scripts/test starts one)"),
        .enabled(if: TestServices.postgresCA, "needs its TLS CA (BRIEFSYNC_TEST_POSTGRES_CA; scripts/test makes one)")
    ) func tlsWhenTheURLAsksForIt() async throws {
        let ca = try TestPostgres.required(
            "PostgreSQL with TLS",
            variable: "BRIEFSYNC_TEST_POSTGRES_CA",
            test: #function
        )
        try await TestPostgres.withDatabase { settings in
            var secure = settings
            secure.tls = .require
            secure.rootCertificatePath = ca
            let store = try await PostgresDeltaStore.connect(secure, logger: Self.logger)
            let encrypted = try await store.client.query(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                logger: Self.logger
            ).decode(Bool.self).first { _ in true }
            #expect(encrypted == true)
            await store.shutdown()

            var untrusted = secure
            untrusted.rootCertificatePath = nil
            let started = ContinuousClock.now
            do {
                let store = try await PostgresDeltaStore.connect(untrusted, logger: Self.logger)
                await store.shutdown()
                Issue.record("a certificate from an unknown CA was accepted")
            } catch {
                #expect("\(error)".lowercased().contains("certificate"), "\(error)")
            }
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }

    @Test(.enabled(if: TestServices.postgres, "needs PostgreSQL (BRIEFSYNC_TEST_POSTGRES; scripts/test starts one)"))
    func instancesStartingTogetherMigrateOnce() async throws {
        try await TestPostgres.withDatabase { settings in
            async let first = openStore(.postgres(settings), logger: Self.logger)
            async let second = openStore(.postgres(settings), logger: Self.logger)
            let stores = try await [first, second]
            let secrets = try await [
                stores[0].sharedSecret(named: "k") { Array(repeating: 1, count: 32) },
                stores[1].sharedSecret(named: "k") { Array(repeating: 2, count: 32) },
            ]
            #expect(secrets[0] == secrets[1])
            let epochs = try await [stores[0].feedState().epoch, stores[1].feedState().epoch]
            #expect(epochs[0] == epochs[1])
            for store in stores {
                await store.shutdown()
            }
        }
    }

    /// A session and a change token from one instance work on the other, and a long-poll held
    /// on one wakes when the other commits (LISTEN/NOTIFY).
    @Test(.enabled(if: TestServices.postgres, "needs PostgreSQL (BRIEFSYNC_TEST_POSTGRES; scripts/test starts one)"))
    func sessionsTokensAndWakeUpsCrossInstances() async throws {
        try await TestPostgres.withDatabase { settings in
            let first = try TestServer(store: try await openStore(.postgres(settings), logger: Self.logger))
            let second = try TestServer(store: try await openStore(.postgres(settings), logger: Self.logger))
            defer {
                Task {
                    await first.store.shutdown(); await second.store.shutdown()
                }
            }
            try await first.test { a in
                try await second.test { b in
                    let token = try await a.register("anna")
                    try await a.publish(try TestServer.brief("b-1"))
                    let page = try await b.changes(token).decode(ChangesPageV2.self)
                    #expect(page.published.map(\.id.rawValue) == ["b-1"])
                    let onA = try await a.changes(token, since: page.nextToken)
                    #expect(onA.status == .ok, "a token issued by one instance is accepted by the other")

                    // a long-poll held on the second instance, woken by a publish on the first
                    let started = ContinuousClock.now
                    async let held = b.changes(token, since: page.nextToken, wait: 30)
                    try await Task.sleep(for: .milliseconds(300))
                    try await a.publish(try TestServer.brief("b-2"))
                    let woken = try await held.decode(ChangesPageV2.self)
                    #expect(woken.published.map(\.id.rawValue) == ["b-2"])
                    #expect(ContinuousClock.now - started < .seconds(20), "woken by NOTIFY, not by the timeout")

                    // and a read-state pushed on the second wakes a long-poll on the first
                    let pushStarted = ContinuousClock.now
                    async let heldOnA = a.changes(token, since: woken.nextToken, wait: 30)
                    try await Task.sleep(for: .milliseconds(300))
                    let pushed = try await b.push(token, [mutation(1, "b-2", .markRead, wall: 1)])
                    #expect(pushed.status == .ok)
                    let readState = try await heldOnA.decode(ChangesPageV2.self)
                    #expect(readState.readStates.map(\.briefID.rawValue) == ["b-2"])
                    #expect(ContinuousClock.now - pushStarted < .seconds(20))
                }
            }
        }
    }
}

/// Holds one task at a point until the test opens it.
final class Gate: Sendable {
    private let state = NIOLockedValueBox((arrived: false, open: false))

    func arriveAndWait() async {
        state.withLockedValue { $0.arrived = true }
        while !state.withLockedValue({ $0.open }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    func waitForArrival() async {
        while !state.withLockedValue({ $0.arrived }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    func open() {
        state.withLockedValue { $0.open = true }
    }
}

/// How the tests number the feed: as the server does, or from a plain counter, the bug the
/// commit-order design prevents (each with a hook just before commit).
enum Ordering: Sendable, Hashable {
    /// ``HeadLockNumbering``: under the head's row lock, in commit order.
    case serialized
    /// From a counter bumped outside the transaction, like a sequence: not commit order.
    case unprotected

    func numbering(beforeCommit: @escaping @Sendable (String) async -> Void) -> any FeedNumbering {
        TestNumbering(ordering: self, hook: beforeCommit)
    }
}

private struct TestNumbering: FeedNumbering {
    let ordering: Ordering
    let hook: @Sendable (String) async -> Void
    private let locked = HeadLockNumbering()

    init(ordering: Ordering, hook: @escaping @Sendable (String) async -> Void) {
        self.ordering = ordering
        self.hook = hook
    }

    var writesHead: Bool { ordering == .serialized }

    var pausesBeforeCommit: Bool { true }

    func begin(_ feed: FeedTransaction) async throws {
        if ordering == .serialized {
            try await locked.begin(feed)
        }
    }

    func next(_ feed: FeedTransaction) async throws -> Int64 {
        guard ordering == .unprotected else {
            return try await locked.next(feed)
        }
        // a counter bumped on another connection, committed at once: what a sequence does
        let rows: PostgresRowSequence
        switch feed.plane {
        case .content:
            rows = try await feed.store.client.query(
                "UPDATE content_head SET position = position + 1 WHERE id = 1 RETURNING position",
                logger: feed.logger
            )
        case .user(let user):
            rows = try await feed.store.client.query(
                "UPDATE user_heads SET position = position + 1 WHERE user_id = \(user) RETURNING position",
                logger: feed.logger
            )
        }
        guard let position = try await rows.decode(Int64.self).first(where: { _ in true }) else {
            throw PostgresStoreError("the head of the feed's plane is missing")
        }
        return position
    }

    func beforeCommit(_ feed: FeedTransaction, label: String) async throws {
        await hook(label)
    }
}
