import BriefModel
import BriefServer
import BriefTestSupport
import Crypto
import Foundation
import Logging
import Testing

/// The store interface, as every store must keep it: one suite, run against the embedded SQLite
/// store and against PostgreSQL (which needs `BRIEFSYNC_TEST_POSTGRES`; see `TestPostgres`).
@Suite struct StoreConformanceTests {
    enum Kind: String, CaseIterable, Sendable {
        case sqlite, postgres

        /// The stores this run has: PostgreSQL only with `BRIEFSYNC_TEST_POSTGRES` (or under
        /// `CI=true`, where it must be there). Without it, ``postgresCasesRun()`` says so as skipped.
        static var available: [Kind] { TestServices.postgres ? allCases : [.sqlite] }
    }

    /// Reported as skipped when this run has no PostgreSQL, so that the cases of every test below
    /// that it leaves out are not left out silently.
    @Test(
        .enabled(
            if: TestServices.postgres,
            "needs PostgreSQL: the .postgres case of every conformance test is left out"
        )
    )
    func postgresCasesRun() {
        #expect(Kind.available.contains(.postgres))
    }

    /// Runs `body` on a fresh, empty store of the kind given.
    static func withStore(
        _ kind: Kind,
        test: String = #function,
        _ body: (any DeltaStore) async throws -> Void
    ) async throws {
        switch kind {
        case .sqlite:
            try await body(try openStore(.sqliteInMemory))
        case .postgres:
            try await TestPostgres.withDatabase(test: test) { settings in
                try await withOpenStore(.postgres(settings), logger: Logger(label: "conformance"), body)
            }
        }
    }

    static func brief(
        _ id: String,
        topic: String = "climate",
        title: String = "A title",
        date: String = "2026-06-26"
    ) throws -> Brief {
        let json = try TestServer.brief(id, topic: topic, title: title).setting("date", .string(date))
        return try WireCoding.decoder().decode(Brief.self, from: try JSONEncoder().encode(json))
    }

    static let phone = DeviceID(rawValue: "phone")!

    static func push(
        _ mutations: [(UInt64, String, ReadAction)],
        device: DeviceID = phone,
        incarnation: String? = nil
    ) -> PushRequestV1 {
        PushRequestV1(
            deviceID: device,
            incarnation: incarnation,
            mutations: mutations.map {
                MutationV1(
                    id: $0.0,
                    briefID: BriefID(rawValue: $0.1)!,
                    action: $0.2,
                    stamp: HybridTimestamp(wall: 1_000 + Int64($0.0), device: device)
                )
            }
        )
    }

    /// Every page of a user's feed after `cursor` (`nil`: a device holding nothing), in order.
    static func drain(
        _ store: any DeltaStore,
        user: UserID,
        after cursor: FeedCursor? = nil,
        window: CalendarDate? = nil,
        limit: Int = 100
    ) async throws -> (pages: [ChangeBatch], next: FeedCursor) {
        var pages: [ChangeBatch] = []
        var cursor = cursor
        repeat {
            let page = try await store.changes(
                for: user,
                after: cursor,
                window: window,
                limit: limit,
                maxBytes: 1 << 22
            )
            if let cursor {
                #expect(page.next.content >= cursor.content && page.next.state >= cursor.state, "never moves back")
            }
            pages.append(page)
            cursor = page.next
        } while pages.last!.hasMore
        return (pages, cursor!)
    }

    static func ids(_ pages: [ChangeBatch]) -> [String] {
        pages.flatMap(\.published).map(\.id.rawValue)
    }

    @Test(arguments: Kind.available) func usernamesAreUniqueIgnoringCase(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "Anna", passwordHash: "h1", now: 1)
            await #expect(throws: StoreError.duplicate) {
                try await store.createUser(username: "anna", passwordHash: "h2", now: 2)
            }
            #expect(try await store.user(named: "ANNA") == anna)
            #expect(try await store.user(named: "bob") == nil)
        }
    }

    @Test(arguments: Kind.available) func sessionsAreFoundByHashUntilRevoked(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            let session = SessionRecord(
                tokenHash: Array(repeating: 7, count: 32),
                id: "s-0000000000000007",
                userID: anna.id,
                username: "anna",
                deviceID: Self.phone,
                deviceName: nil,
                createdAt: 5
            )
            try await store.createSession(session)
            #expect(try await store.session(tokenHash: session.tokenHash) == session)
            #expect(try await store.session(tokenHash: Array(repeating: 8, count: 32)) == nil)
            try await store.revokeSession(tokenHash: session.tokenHash, now: 9)
            try await store.revokeSession(tokenHash: session.tokenHash, now: 10)
            #expect(try await store.session(tokenHash: session.tokenHash) == nil)
        }
    }

    static func session(_ byte: UInt8, of user: UserRecord, device: String = "phone", at time: Int64) -> SessionRecord {
        SessionRecord(
            tokenHash: Array(repeating: byte, count: 32),
            id: "s-00000000000000\(String(byte, radix: 16).count == 1 ? "0" : "")\(String(byte, radix: 16))",
            userID: user.id,
            username: user.username,
            deviceID: DeviceID(rawValue: device)!,
            deviceName: "\(device) of \(user.username)",
            createdAt: time
        )
    }

    @Test(arguments: Kind.available) func sessionsAreListedTouchedAndRevokedByIdForTheirUserOnly(kind: Kind)
        async throws
    {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            let bob = try await store.createUser(username: "bob", passwordHash: "h", now: 1)
            let (phone, tablet) = (
                Self.session(1, of: anna, at: 10), Self.session(2, of: anna, device: "tablet", at: 20)
            )
            let bobs = Self.session(3, of: bob, at: 30)
            for session in [phone, tablet, bobs] {
                try await store.createSession(session)
            }
            #expect(try await store.sessions(of: anna.id).map(\.id) == [tablet.id, phone.id])
            try await store.touchSession(tokenHash: phone.tokenHash, now: 50)
            try await store.touchSession(tokenHash: phone.tokenHash, now: 40)  // never backwards
            #expect(try await store.sessions(of: anna.id).map(\.id) == [phone.id, tablet.id])
            #expect(try await store.session(tokenHash: phone.tokenHash)?.lastUsedAt == 50)
            // Bob cannot revoke Anna's session by its id
            #expect(try await store.revokeSession(id: phone.id, of: bob.id, now: 60) == nil)
            #expect(try await store.revokeSession(id: phone.id, of: anna.id, now: 60) == phone.tokenHash)
            #expect(try await store.revokeSession(id: phone.id, of: anna.id, now: 61) == nil)
            #expect(try await store.sessions(of: anna.id).map(\.id) == [tablet.id])
            #expect(try await store.session(tokenHash: phone.tokenHash) == nil)
        }
    }

    @Test(arguments: Kind.available) func aNewPasswordRevokesEveryOtherSession(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "old", now: 1)
            let bob = try await store.createUser(username: "bob", passwordHash: "h", now: 1)
            let sessions = [
                Self.session(1, of: anna, at: 1), Self.session(2, of: anna, at: 2), Self.session(3, of: anna, at: 3),
            ]
            for session in sessions + [Self.session(4, of: bob, at: 4)] {
                try await store.createSession(session)
            }
            let revoked = try await store.changePassword(of: anna.id, to: "new", keeping: sessions[1].tokenHash, now: 9)
            #expect(Set(revoked) == [sessions[0].tokenHash, sessions[2].tokenHash])
            #expect(try await store.sessions(of: anna.id).map(\.id) == [sessions[1].id])
            #expect(try await store.user(named: "anna")?.passwordHash == "new")
            #expect(try await store.sessions(of: bob.id).count == 1)
        }
    }

    @Test(arguments: Kind.available) func deletingAUserTakesEverythingOfTheirsAndNothingElse(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            let bob = try await store.createUser(username: "bob", passwordHash: "h", now: 1)
            _ = try await store.publish(try Self.brief("b-1"), now: 1)
            _ = try await store.publish(try Self.brief("b-2", topic: "tech"), now: 1)
            for user in [anna, bob] {
                try await store.createSession(Self.session(user == anna ? 1 : 2, of: user, at: 1))
                _ = try await store.push(Self.push([(1, "b-1", .save)]), for: user.id, applier: PushApplier(), now: 2)
                _ = try await store.setFollowing(TopicID(rawValue: "tech")!, false, for: user.id)
            }
            #expect(try await store.deleteUser(anna.id) == [Array(repeating: 1, count: 32)])
            #expect(try await store.user(named: "anna") == nil)
            #expect(try await store.sessions(of: anna.id).isEmpty)
            let (pages, _) = try await Self.drain(store, user: anna.id)
            #expect(pages.allSatisfy { $0.readStates.isEmpty && $0.unfollowedTopics.isEmpty })
            // Bob keeps everything of his
            #expect(try await store.sessions(of: bob.id).count == 1)
            let (bobs, _) = try await Self.drain(store, user: bob.id)
            #expect(bobs.flatMap(\.readStates).map(\.isSaved) == [true])
            // a fresh feed holds only the topics followed: tech's brief is not in it
            #expect(Self.ids(bobs) == ["b-1"])
            #expect(try await store.topics(for: bob.id).map(\.followed) == [true, false])
            // and a new anna is a new account, with none of the old one's state
            let again = try await store.createUser(username: "anna", passwordHash: "h", now: 3)
            let (fresh, _) = try await Self.drain(store, user: again.id)
            #expect(fresh.allSatisfy { $0.readStates.isEmpty })
        }
    }

    @Test(arguments: Kind.available) func publishingBumpsVersionsOnlyForRealChanges(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let first = try await store.publish(try Self.brief("b-1"), now: 1)
            #expect(first.version == 1 && first.changed && first.digest?.utf8.count == 64)
            let same = try await store.publish(try Self.brief("b-1"), now: 2)
            #expect(same.version == 1 && !same.changed && same.digest == first.digest)
            let corrected = try await store.publish(try Self.brief("b-1", title: "Corrected"), now: 3)
            #expect(corrected.version == 2 && corrected.changed && corrected.digest != first.digest)
            // every edition stays on the content plane under its digest
            for edition in [first, corrected] {
                let digest = try #require(edition.digest.flatMap { ContentDigest.parse(Substring($0)) })
                #expect(try await store.content(digest: digest, gzip: true) != nil)
            }
            let retracted = try await store.retract(BriefID(rawValue: "b-1")!, now: 4)
            #expect(retracted?.version == 3 && retracted?.changed == true)
            #expect(try await store.retract(BriefID(rawValue: "b-1")!, now: 5)?.changed == false)
            #expect(try await store.retract(BriefID(rawValue: "nope")!, now: 5) == nil)
            // a retracted brief published again comes back
            let back = try await store.publish(try Self.brief("b-1", title: "Corrected"), now: 6)
            #expect(back.version == 4 && back.changed)
        }
    }

    @Test(arguments: Kind.available) func aFreshDeviceGetsItsWindowNewestFirstThenTheLogInOrder(kind: Kind) async throws
    {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            // published oldest first, one a day; b-3 published twice on one day (a correction)
            for day in 1...7 {
                _ = try await store.publish(try Self.brief("b-\(day)", date: "2026-07-0\(day)"), now: Int64(day))
            }
            _ = try await store.publish(try Self.brief("b-3", title: "Corrected", date: "2026-07-03"), now: 8)
            _ = try await store.push(Self.push([(1, "b-2", .markRead)]), for: anna.id, applier: PushApplier(), now: 10)
            let (pages, head) = try await Self.drain(store, user: anna.id, limit: 3)
            #expect(pages.map(\.published.count) == [3, 3, 1])
            #expect(Self.ids(pages) == (1...7).reversed().map { "b-\($0)" }, "newest first, by the brief's date")
            // the read-state comes with its brief, and the state sequence is not replayed from its start
            #expect(pages.flatMap(\.readStates).map(\.briefID.rawValue) == ["b-2"])
            #expect(pages.dropLast().allSatisfy(\.hasMore) && !pages.last!.hasMore)
            #expect(head.catchUp == nil)

            // Up to date: an empty page that keeps the cursor.
            let empty = try await store.changes(for: anna.id, after: head, window: nil, limit: 100, maxBytes: 1 << 20)
            #expect(empty.isEmpty && empty.next == head && !empty.hasMore)

            // After the catch-up, the content log in order: a correction, then a new brief.
            _ = try await store.publish(try Self.brief("b-1", title: "New", date: "2026-07-01"), now: 20)
            _ = try await store.publish(try Self.brief("b-8", date: "2026-07-08"), now: 21)
            let (delta, next) = try await Self.drain(store, user: anna.id, after: head)
            #expect(delta.flatMap(\.published).map { "\($0.id.rawValue)@\($0.version)" } == ["b-1@2", "b-8@1"])
            #expect(next.content > head.content && next.state == head.state)
        }
    }

    @Test(arguments: Kind.available) func aWindowLeavesOutOlderBriefsButNotSavedOnes(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            for day in 1...9 {
                _ = try await store.publish(try Self.brief("b-\(day)", date: "2026-07-0\(day)"), now: Int64(day))
            }
            let marks = Self.push([(1, "b-2", .save), (2, "b-4", .save), (3, "b-4", .unsave), (4, "b-8", .save)])
            _ = try await store.push(marks, for: anna.id, applier: PushApplier(), now: 10)
            let window = CalendarDate(iso: "2026-07-06")
            let (pages, head) = try await Self.drain(store, user: anna.id, window: window, limit: 2)
            // the window newest first, then saved briefs dated before it; b-4 is no longer saved
            #expect(Self.ids(pages) == ["b-9", "b-8", "b-7", "b-6", "b-2"])
            #expect(Set(pages.flatMap(\.readStates).map(\.briefID.rawValue)) == ["b-8", "b-2"])
            #expect(head.catchUp == nil && head.content == 9)
        }
    }

    @Test(arguments: Kind.available) func pushesAndFollowsNumberOnlyTheirUsersSequence(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            let bob = try await store.createUser(username: "bob", passwordHash: "h", now: 1)
            _ = try await store.publish(try Self.brief("b-1"), now: 1)
            let (_, annaHead) = try await Self.drain(store, user: anna.id)
            let (_, bobHead) = try await Self.drain(store, user: bob.id)
            _ = try await store.push(
                Self.push([(1, "b-1", .markRead), (2, "b-1", .save)]),
                for: anna.id,
                applier: PushApplier(),
                now: 10
            )
            _ = try await store.setFollowing(TopicID(rawValue: "climate")!, false, for: anna.id)
            let (annas, annaNext) = try await Self.drain(store, user: anna.id, after: annaHead)
            #expect(annaNext.content == annaHead.content && annaNext.state == annaHead.state + 2)
            #expect(annas.flatMap(\.readStates).count == 1 && annas.flatMap(\.unfollowedTopics).count == 1)
            let (bobs, bobNext) = try await Self.drain(store, user: bob.id, after: bobHead)
            #expect(bobs.allSatisfy(\.isEmpty) && bobNext == bobHead, "another user's writes are not on bob's sequence")
        }
    }

    @Test(arguments: Kind.available) func aPageStopsAtItsByteBudgetButCarriesOneItem(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            for index in 1...3 {
                _ = try await store.publish(try Self.brief("b-\(index)"), now: Int64(index))
            }
            let page = try await store.changes(for: anna.id, after: nil, window: nil, limit: 100, maxBytes: 1)
            #expect(page.published.count == 1 && page.hasMore)
        }
    }

    @Test(arguments: Kind.available) func retractionsReachDevicesThatHeldTheBrief(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            _ = try await store.publish(try Self.brief("b-1"), now: 1)
            _ = try await store.publish(try Self.brief("b-2"), now: 1)
            let (_, head) = try await Self.drain(store, user: anna.id)
            _ = try await store.retract(BriefID(rawValue: "b-1")!, now: 2)
            let delta = try await store.changes(for: anna.id, after: head, window: nil, limit: 100, maxBytes: 1 << 20)
            #expect(delta.retractions.map(\.id.rawValue) == ["b-1"] && delta.published.isEmpty)
            // a device starting from nothing gets no tombstones
            let fresh = try await Self.drain(store, user: anna.id).pages
            #expect(fresh.allSatisfy(\.retractions.isEmpty) && Self.ids(fresh) == ["b-2"])
        }
    }

    @Test(arguments: Kind.available) func startingOverKeepsASavedBriefThatWasRetracted(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            _ = try await store.publish(try Self.brief("b-1", date: "2026-07-01"), now: 1)
            _ = try await store.publish(try Self.brief("b-2", date: "2026-07-09"), now: 1)
            _ = try await store.push(Self.push([(1, "b-1", .save)]), for: anna.id, applier: PushApplier(), now: 2)
            _ = try await store.retract(BriefID(rawValue: "b-1")!, now: 3)
            // with every date, and with a window that leaves the brief's date out
            for window in [nil, CalendarDate(iso: "2026-07-05")] {
                let (pages, _) = try await Self.drain(store, user: anna.id, window: window)
                #expect(Self.ids(pages) == ["b-2"])
                #expect(pages.flatMap(\.retractions).map(\.id.rawValue) == ["b-1"], "a tombstone with its state")
                #expect(pages.flatMap(\.readStates).map { "\($0.briefID.rawValue):\($0.isSaved)" } == ["b-1:true"])
            }
        }
    }

    @Test(arguments: Kind.available) func purgingTombstonesMovesTheExpiryHorizon(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            _ = try await store.publish(try Self.brief("b-1"), now: 1)
            _ = try await store.retract(BriefID(rawValue: "b-1")!, now: 100)
            let before = try await store.feedState()
            #expect(before.purgedThrough == 0 && before.epoch != 0)
            #expect(try await store.purgeTombstones(retractedBefore: 50) == 0)
            #expect(try await store.purgeTombstones(retractedBefore: 200) == 1)
            let after = try await store.feedState()
            #expect(after.purgedThrough == 2 && after.epoch == before.epoch)
        }
    }

    @Test(arguments: Kind.available) func pushesApplyOnceAndNameUnknownBriefs(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            _ = try await store.publish(try Self.brief("b-1"), now: 1)
            let batch = Self.push([(1, "b-1", .markRead), (2, "b-1", .save)])
            let first = try await store.push(batch, for: anna.id, applier: PushApplier(), now: 10)
            #expect(first.appliedCount == 2 && first.lastAppliedID == 2)
            let (_, head) = try await Self.drain(store, user: anna.id)
            let retry = try await store.push(batch, for: anna.id, applier: PushApplier(), now: 11)
            #expect(retry.appliedCount == 0 && retry.states == first.states)
            // a retry changes nothing, so it feeds nothing
            #expect(
                try await store.changes(for: anna.id, after: head, window: nil, limit: 10, maxBytes: 1 << 20).isEmpty
            )

            await #expect(throws: StoreError.unknownBriefs([.init(index: 1, briefID: BriefID(rawValue: "b-x")!)])) {
                try await store.push(
                    Self.push([(3, "b-1", .markUnread), (4, "b-x", .save)]),
                    for: anna.id,
                    applier: PushApplier(),
                    now: 12
                )
            }
            // nothing of the refused batch was applied
            let again = try await store.push(
                Self.push([(3, "b-1", .save)]),
                for: anna.id,
                applier: PushApplier(),
                now: 13
            )
            #expect(again.appliedCount == 1 && again.states[0].isRead)
        }
    }

    /// Eight devices of one user push at once, eight pushes each, every one moving the progress
    /// of one shared brief and marking a brief of its own read. Every mutation is applied once
    /// and none is lost: the shared brief ends at the furthest progress pushed, every brief of
    /// its own is read, and each device's cursor stands at its last push. (On PostgreSQL, pushes
    /// read without the user's lock and write only if no other push came between: a write on a
    /// stale read would lose a progress or a mark here.)
    @Test(arguments: Kind.available) func aUsersDevicesPushingAtOnceLoseNothing(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            let (devices, pushes) = (8, 8)
            _ = try await store.publish(try Self.brief("shared"), now: 1)
            for device in 0..<devices {
                for push in 1...pushes {
                    _ = try await store.publish(try Self.brief("b-\(device)-\(push)"), now: 1)
                }
            }
            let (_, start) = try await Self.drain(store, user: anna.id)
            func batch(_ device: Int, _ push: Int) -> PushRequestV1 {
                Self.push(
                    [
                        (UInt64(2 * push - 1), "b-\(device)-\(push)", .markRead),
                        (UInt64(2 * push), "shared", .progress(Double(push * devices + device) / 100)),
                    ],
                    device: DeviceID(rawValue: "device-\(device)")!
                )
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for device in 0..<devices {
                    group.addTask {
                        for push in 1...pushes {
                            let outcome = try await store.push(batch(device, push), for: anna.id, applier: PushApplier(), now: 10)
                            #expect(outcome.appliedCount == 2)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let (pages, _) = try await Self.drain(store, user: anna.id, after: start, limit: 7)
            var latest: [String: ReadState] = [:]
            for state in pages.flatMap(\.readStates) {
                latest[state.briefID.rawValue] = state
            }
            #expect(latest["shared"]?.progressValue == Double(pushes * devices + devices - 1) / 100)
            let own = latest.filter { $0.key != "shared" }
            #expect(own.count == devices * pushes && own.values.allSatisfy(\.isRead))
            for device in 0..<devices {
                let retry = try await store.push(batch(device, pushes), for: anna.id, applier: PushApplier(), now: 11)
                #expect(retry.appliedCount == 0 && retry.lastAppliedID == UInt64(2 * pushes))
            }
        }
    }

    /// A store reads an edition in the one encoding a fetch takes: the gzip kept at publish, or
    /// the canonical JSON whose SHA-256 is the digest.
    @Test(arguments: Kind.available) func contentIsReadInTheEncodingAFetchTakes(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let digest = try #require(try await store.publish(try Self.brief("b-1"), now: 1).digest)
            let bytes = try #require(ContentDigest.parse(Substring(digest)))
            guard case .gzip(let gzip)? = try await store.content(digest: bytes, gzip: true) else {
                Issue.record("a fetch taking gzip did not get the gzip kept at publish")
                return
            }
            #expect(gzip.starts(with: [0x1f, 0x8b]), "gzip's magic number")
            guard case .document(let document)? = try await store.content(digest: bytes, gzip: false) else {
                Issue.record("a fetch taking no gzip did not get the document")
                return
            }
            #expect(ContentDigest.hex(Array(SHA256.hash(data: Data(document.utf8)))) == digest)
            #expect(try await store.content(digest: [UInt8](repeating: 0, count: 32), gzip: true) == nil)
        }
    }

    @Test(arguments: Kind.available) func eachIncarnationHasACursorAndACopysReuseIsRefused(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            _ = try await store.publish(try Self.brief("b-1"), now: 1)
            _ = try await store.publish(try Self.brief("b-2"), now: 1)
            let original = Self.push([(1, "b-1", .markRead), (2, "b-1", .save)], incarnation: "i-a")
            #expect(try await store.push(original, for: anna.id, applier: PushApplier(), now: 10).appliedCount == 2)
            // the exact retry, and one that overlaps it with a new tail
            #expect(try await store.push(original, for: anna.id, applier: PushApplier(), now: 11).appliedCount == 0)
            let tail = Self.push([(2, "b-1", .save), (3, "b-2", .markRead)], incarnation: "i-a")
            #expect(try await store.push(tail, for: anna.id, applier: PushApplier(), now: 12).appliedCount == 1)

            // A copy of the store reuses id 3 for another mutation: refused, nothing applied
            let copys = Self.push([(3, "b-2", .save)], incarnation: "i-a")
            await #expect(throws: StoreError.incarnationConflict(.init(index: 0, mutationID: 3, lastAppliedID: 3))) {
                try await store.push(copys, for: anna.id, applier: PushApplier(), now: 13)
            }
            // Under its own incarnation, the same mutation is applied
            let renewed = Self.push([(3, "b-2", .save)], incarnation: "i-b")
            let outcome = try await store.push(renewed, for: anna.id, applier: PushApplier(), now: 14)
            #expect(outcome.appliedCount == 1 && outcome.lastAppliedID == 3)
            #expect(outcome.states.map(\.isSaved) == [true] && outcome.states.map(\.isRead) == [true])
            // and the original's cursor is untouched by it
            let next = Self.push([(4, "b-2", .markUnread)], incarnation: "i-a")
            #expect(try await store.push(next, for: anna.id, applier: PushApplier(), now: 15).lastAppliedID == 4)
        }
    }

    /// A stamp pulled back by the clock-skew bound is stored with the time it was admitted at, so
    /// that a copy of the store pushing it again under a new incarnation, later, gets the same
    /// stamp; another user's or device's push of the same wall time is admitted afresh.
    @Test(arguments: Kind.available) func aClampedStampIsAdmittedOnce(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            let bob = try await store.createUser(username: "bob", passwordHash: "h", now: 1)
            _ = try await store.publish(try Self.brief("b-1"), now: 1)
            let applier = PushApplier(skew: ClockSkewPolicy(maxAhead: 100))
            let fast = Self.push([(1, "b-1", .markRead), (2, "b-1", .save)], incarnation: "i-a")
            let first = try await store.push(fast, for: anna.id, applier: applier, now: 500)
            #expect(first.states[0].read.setAt?.wall == 600 && first.states[0].saved.setAt?.wall == 600)
            let copy = Self.push([(1, "b-1", .markRead), (2, "b-1", .save)], incarnation: "i-b")
            let again = try await store.push(copy, for: anna.id, applier: applier, now: 900)
            #expect(again.appliedCount == 2)
            #expect(again.states == first.states)
            let bobs = try await store.push(copy, for: bob.id, applier: applier, now: 900)
            #expect(bobs.states[0].read.setAt?.wall == 1_000)
        }
    }

    /// A device that starts over while a brief is retracted gets neither the brief nor the
    /// user's state of it, and its cursor starts past that state on the state plane. When the
    /// brief is corrected (back on the content log), its edition must bring the state along:
    /// without it the device would show the brief as never read (the simulator found this).
    @Test(arguments: Kind.available) func aBriefBackFromRetractionBringsTheUsersState(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            let bob = try await store.createUser(username: "bob", passwordHash: "h", now: 1)
            let brief = try Self.brief("b-1")
            _ = try await store.publish(brief, now: 1)
            _ = try await store.push(Self.push([(1, "b-1", .markRead)]), for: anna.id, applier: PushApplier(), now: 10)
            _ = try await store.retract(brief.id, now: 20)
            let (fresh, cursor) = try await Self.drain(store, user: anna.id)
            #expect(fresh.flatMap(\.readStates).isEmpty, "a retracted brief not saved is not caught up")
            let (_, bobsCursor) = try await Self.drain(store, user: bob.id)
            var corrected = brief
            corrected.title += " (corrected)"
            _ = try await store.publish(corrected, now: 30)
            let after = try await Self.drain(store, user: anna.id, after: cursor).pages
            #expect(after.flatMap(\.briefs).map(\.id.rawValue) == ["b-1"])
            #expect(after.flatMap(\.readStates).map(\.isRead) == [true])
            // and only the user's own: bob, who never read it, gets the brief without a state
            let bobs = try await Self.drain(store, user: bob.id, after: bobsCursor).pages
            #expect(bobs.flatMap(\.briefs).map(\.id.rawValue) == ["b-1"])
            #expect(bobs.flatMap(\.readStates).isEmpty)
        }
    }

    @Test(arguments: Kind.available) func readStatesStayWithTheirUser(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            let bob = try await store.createUser(username: "bob", passwordHash: "h", now: 1)
            _ = try await store.publish(try Self.brief("b-1"), now: 1)
            _ = try await store.push(Self.push([(1, "b-1", .save)]), for: anna.id, applier: PushApplier(), now: 10)
            let bobs = try await Self.drain(store, user: bob.id).pages.flatMap(\.readStates)
            #expect(bobs.isEmpty)
            let annas = try await Self.drain(store, user: anna.id).pages.flatMap(\.readStates)
            #expect(annas.map(\.isSaved) == [true])
        }
    }

    /// A topic's count of live briefs follows every way of writing a brief: publishing, a
    /// correction that moves a brief to another topic, a retraction, a return, and the purge of
    /// a tombstone (the count is kept by the schema's triggers, not counted at each request).
    @Test(arguments: Kind.available) func topicsCountTheirLiveBriefsThroughEveryChange(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            func counts() async throws -> String {
                try await store.topics(for: anna.id).map { "\($0.id.rawValue):\($0.briefCount)" }.joined(separator: " ")
            }
            for id in ["c-1", "c-2", "c-3"] {
                _ = try await store.publish(try Self.brief(id, topic: "climate"), now: 1)
            }
            _ = try await store.publish(try Self.brief("c-1", topic: "climate"), now: 2)  // the same again
            #expect(try await counts() == "climate:3")
            _ = try await store.publish(try Self.brief("c-2", topic: "tech", title: "Moved"), now: 3)
            #expect(try await counts() == "climate:2 tech:1")
            _ = try await store.retract(BriefID(rawValue: "c-3")!, now: 4)
            _ = try await store.retract(BriefID(rawValue: "c-3")!, now: 5)  // again: no change
            #expect(try await counts() == "climate:1 tech:1")
            _ = try await store.publish(try Self.brief("c-3", topic: "climate", title: "Back"), now: 6)
            #expect(try await counts() == "climate:2 tech:1")
            _ = try await store.retract(BriefID(rawValue: "c-2")!, now: 7)
            #expect(try await store.purgeTombstones(retractedBefore: 100) == 1)
            #expect(try await counts() == "climate:2 tech:0")
            #expect(try await store.setFollowing(TopicID(rawValue: "climate")!, false, for: anna.id)?.briefCount == 2)
        }
    }

    @Test(arguments: Kind.available) func followingAgainCatchesUpUnfollowingTellsDevices(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            _ = try await store.publish(try Self.brief("c-1", topic: "climate"), now: 1)
            _ = try await store.publish(try Self.brief("t-1", topic: "tech", date: "2026-07-01"), now: 1)
            let topics = try await store.topics(for: anna.id)
            #expect(
                topics.map { "\($0.id.rawValue):\($0.followed):\($0.briefCount)" } == ["climate:true:1", "tech:true:1"]
            )
            let (_, head) = try await Self.drain(store, user: anna.id)

            let tech = TopicID(rawValue: "tech")!
            #expect(try await store.setFollowing(tech, false, for: anna.id)?.followed == false)
            let dropped = try await store.changes(for: anna.id, after: head, window: nil, limit: 100, maxBytes: 1 << 20)
            #expect(dropped.unfollowedTopics == [tech])
            _ = try await store.publish(try Self.brief("t-2", topic: "tech", date: "2026-07-02"), now: 2)
            _ = try await store.publish(try Self.brief("t-3", topic: "tech", date: "2026-07-03"), now: 2)
            let (quiet, afterUnfollow) = try await Self.drain(store, user: anna.id, after: dropped.next)
            #expect(quiet.allSatisfy { $0.isEmpty })

            _ = try await store.setFollowing(tech, true, for: anna.id)
            _ = try await store.publish(try Self.brief("t-4", topic: "tech", date: "2026-07-04"), now: 3)
            let (back, _) = try await Self.drain(store, user: anna.id, after: afterUnfollow, limit: 2)
            #expect(back.flatMap(\.followedTopics) == [tech])
            // the topic's briefs behind the cursor newest first, then the log onwards
            #expect(Self.ids(back) == ["t-3", "t-2", "t-1", "t-4"])
            #expect(try await store.setFollowing(TopicID(rawValue: "nope")!, true, for: anna.id) == nil)
        }
    }

    @Test(arguments: Kind.available) func followingATopicCostsTheSameWhateverItsHistory(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            for index in 1...50 {
                _ = try await store.publish(try Self.brief("t-\(index)", topic: "tech"), now: 1)
            }
            let tech = TopicID(rawValue: "tech")!
            let (_, before) = try await Self.drain(store, user: anna.id)
            _ = try await store.setFollowing(tech, false, for: anna.id)
            _ = try await store.setFollowing(tech, true, for: anna.id)
            // one position on anna's sequence per follow change, not one per brief of the topic
            let (pages, after) = try await Self.drain(store, user: anna.id, after: before)
            #expect(after.state == before.state + 2)
            #expect(Set(Self.ids(pages)).count == 50)
        }
    }

    @Test(arguments: Kind.available) func theSharedSecretIsCreatedOnce(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let first = try await store.sharedSecret(named: "k") { Array(repeating: 1, count: 32) }
            let second = try await store.sharedSecret(named: "k") { Array(repeating: 2, count: 32) }
            #expect(first == Array(repeating: 1, count: 32) && second == first)
            try await store.ping()
        }
    }
}
