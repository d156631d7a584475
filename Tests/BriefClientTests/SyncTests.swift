import BriefClient
import BriefModel
import BriefServer
import BriefStore
import Foundation
import GRDB
import Testing

@Suite struct SyncTests {
    let b1 = BriefID(rawValue: "b-1")!
    let b2 = BriefID(rawValue: "b-2")!

    @Test func theSeedBriefArrivesOnTheDeviceUnchanged() async throws {
        try await InProcessServer().run { server in
            let seed = try Briefs.seed()
            try await server.publish(seed)
            let (phone, _) = try await server.device("phone")
            try await phone.sync()
            let stored = try #require(try await phone.brief(seed.id))
            #expect(stored.brief == seed)
            #expect(stored.version == 1)
            #expect(BriefTextRenderer().render(stored.brief) == BriefTextRenderer().render(seed))
        }
    }

    @Test func twoDevicesEditOfflineInOppositeOrdersAndConverge() async throws {
        try await InProcessServer().run { server in
            try await server.publish(try Briefs.small("b-1"))
            try await server.publish(try Briefs.small("b-2"))
            let (phone, _) = try await server.device("phone")
            let (tablet, _) = try await server.device("tablet")
            try await phone.sync()
            try await tablet.sync()

            // Given both devices edit the same briefs offline, in opposite orders
            server.server.clock.advance(by: 1_000)
            try await phone.markRead(b1)
            try await phone.save(b2)
            try await phone.setProgress(b1, 0.7)
            server.server.clock.advance(by: 1_000)
            try await tablet.setProgress(b1, 0.4)
            try await tablet.unsave(b2)
            try await tablet.markUnread(b1)

            // When both sync (twice, so each sees the other's)
            for library in [phone, tablet, phone] {
                try await library.sync()
            }

            // Then both show the same state: the latest explicit action per field, furthest progress
            let phoneView = try await phone.briefs()
            let tabletView = try await tablet.briefs()
            #expect(phoneView == tabletView)
            let first = try #require(phoneView.first { $0.id == b1 })
            #expect(!first.isRead && first.progress == 0.7)
            #expect(phoneView.first { $0.id == b2 }?.isSaved == false)
            #expect(try await phone.status().pendingMutations == 0)
        }
    }

    /// A page that confirms what the device already holds (here a start over sends the state
    /// again) changes neither state, only when the server last confirmed it; a newer state from
    /// another device is still merged.
    @Test func aStateConfirmedAgainOnlyMovesWhenItWasConfirmed() async throws {
        try await InProcessServer().run { server in
            try await server.publish(try Briefs.small("b-1"))
            let (phone, _) = try await server.device("phone")
            let (tablet, _) = try await server.device("tablet")
            try await phone.sync()
            try await phone.markRead(b1)
            try await phone.sync()
            let first = try await phone.explain(b1)
            let confirmedAt = try #require(first.confirmedAt)
            #expect(first.confirmed?.isRead == true && first.pending.isEmpty)

            server.server.clock.advance(by: 60_000)
            try await phone.store.beginFullResync()
            try await phone.sync()
            let again = try await phone.explain(b1)
            #expect(again.confirmed == first.confirmed)
            #expect(again.confirmedAt == confirmedAt + 60_000)

            try await tablet.sync()
            try await tablet.save(b1)
            try await tablet.sync()
            try await phone.sync()
            let state = try #require(try await phone.brief(b1)?.readState)
            #expect(state.isRead && state.isSaved)
        }
    }

    @Test func aNewDeviceIsSentItsWindowAndSavedBriefsNotWhatItWouldEvict() async throws {
        try await InProcessServer().run { server in
            // the server's clock says 2026-06-26; a 30-day budget keeps briefs from 2026-05-27 on
            for (id, date) in [
                ("old-saved", "2026-04-01"), ("old", "2026-05-01"), ("recent", "2026-06-20"), ("today", "2026-06-25"),
            ] {
                try await server.publish(try Briefs.small(id, date: date))
            }
            let (tablet, _) = try await server.device("tablet")
            try await tablet.sync()
            try await tablet.save(BriefID(rawValue: "old-saved")!)
            try await tablet.sync()

            let (phone, _) = try await server.device("phone") { $0.keepDays = 30 }
            let report = try await phone.sync()
            #expect(Set(try await phone.briefs().map(\.id.rawValue)) == ["today", "recent", "old-saved"])
            // the server sent the window, not everything for the device to evict after
            #expect(report.received == 3)
        }
    }

    @Test func aFreshDeviceGetsTheNewestBriefsFirstInASmallPage() async throws {
        try await InProcessServer().run { server in
            // published oldest first, as a history grows
            for day in 1...30 {
                try await server.publish(try Briefs.small("d-\(day)", date: String(format: "2026-07-%02d", day)))
            }
            let (phone, transport) = try await server.device("phone")
            let recording = RecordingTransport(base: transport)
            try await phone.connect(recording)
            try await phone.sync()

            // the first page is small and holds the newest briefs, newest first; the rest follows
            let pages = recording.pages
            #expect(pages.first?.briefs.count == 20)
            #expect(pages.first?.briefs.map(\.id.rawValue) == (11...30).reversed().map { "d-\($0)" })
            #expect(pages.flatMap(\.briefs).count == 30 && pages.count == 2)
            #expect(try await phone.briefs().count == 30)
        }
    }

    @Test func aFailedPageTransactionLosesNothing() async throws {
        try await InProcessServer().run { server in
            try await server.publishSmall(5)
            let (phone, _) = try await server.device("phone") { $0.sync.pageSize = 2 }
            let database = try phone.store.databaseForTesting()
            // Given the device's database fails to write brief b-1 (a crash mid-page, as far as the
            // store can tell); a fresh device gets the newest first: b-4 b-3 | b-2 b-1 | b-0
            try await database.write { db in
                try db.execute(
                    sql: """
                        CREATE TRIGGER fail_b1 BEFORE INSERT ON briefs WHEN NEW.id = 'b-1'
                        BEGIN SELECT RAISE(ABORT, 'simulated crash'); END
                        """
                )
            }
            await #expect(throws: (any Error).self) { try await phone.sync() }

            // Then the pages before it are stored with their token, and nothing of the failed page
            let held = try await phone.briefs().map(\.id.rawValue).sorted()
            #expect(held == ["b-3", "b-4"])

            // When the device comes back, it resumes from the last token and gets everything
            try await database.write { db in try db.execute(sql: "DROP TRIGGER fail_b1") }
            try await phone.sync()
            #expect(try await phone.briefs().map(\.id.rawValue).sorted() == ["b-0", "b-1", "b-2", "b-3", "b-4"])
        }
    }

    @Test func lostAndDuplicatedPushesApplyOnce() async throws {
        try await InProcessServer().run { server in
            try await server.publish(try Briefs.small("b-1"))
            let (phone, transport) = try await server.device("phone")
            try await phone.sync()
            try await phone.setProgress(b1, 0.3)
            try await phone.setProgress(b1, 0.6)

            // The first push is applied but its answer lost; the next is delivered twice, and late
            let flaky = FlakyTransport(transport, faults: [.loseResponse, .duplicate, .delay(.milliseconds(300))])
            try await phone.connect(flaky)
            await #expect(throws: SyncError.self) { try await phone.sync() }
            #expect(try await phone.status().pendingMutations == 2)
            try await phone.sync()
            #expect(try await phone.status().pendingMutations == 0)

            // Another device sees the result of applying each mutation exactly once
            let (tablet, _) = try await server.device("tablet")
            try await tablet.sync()
            let state = try #require(try await tablet.brief(b1)?.readState)
            #expect(state.progressValue == 0.6)
            #expect(state.progress.marks.count == 1)
        }
    }

    @Test func tokenExpiryWithPendingMutations() async throws {
        try await InProcessServer { $0.tombstoneRetention = 1_000 }.run { server in
            try await server.publish(try Briefs.small("b-1"))
            try await server.publish(try Briefs.small("b-2"))
            let (phone, _) = try await server.device("phone")
            try await phone.sync()
            // Given the device edits offline while the publisher retracts b-2 and the tombstone is purged
            try await phone.save(b1)
            try await server.retract("b-2")
            try await server.publish(try Briefs.small("b-3"))
            server.server.clock.advance(by: 5_000)
            _ = try await server.server.store.purgeTombstones(retractedBefore: server.server.clock.now() - 1_000)

            // When it syncs with its old token
            let report = try await phone.sync()

            // Then it started over, kept and pushed its change, re-fetched only what it lacked, and dropped b-2
            #expect(report.fullResync)
            #expect(report.pushed == 1)
            #expect(report.received == 1)  // b-3; b-1 was held at the same version
            #expect(try await phone.briefs().map(\.id.rawValue).sorted() == ["b-1", "b-3"])
            #expect(try await phone.brief(b1)?.readState.isSaved == true)
            #expect(try await phone.status().fullResyncInProgress == false)
        }
    }

    @Test func startingOverDownloadsOnlyWhatDiffers() async throws {
        try await InProcessServer { $0.tombstoneRetention = 1_000 }.run { server in
            try await server.publishSmall(6)
            let (phone, transport) = try await server.device("phone") { $0.sync.pageSize = 2 }
            let counting = FlakyTransport(transport, faults: [])
            try await phone.connect(counting)
            #expect(try await phone.sync().contentFetched == 6)
            #expect(counting.contentFetches == 6)

            // Given a correction, a new brief and a purged retraction while the phone is away
            try await server.publish(try Briefs.small("b-1", title: "Corrected"))
            try await server.publish(try Briefs.small("b-6"))
            try await server.retract("b-2")
            server.server.clock.advance(by: 5_000)
            _ = try await server.server.store.purgeTombstones(retractedBefore: server.server.clock.now() - 1_000)

            // When it starts over with its expired token
            let report = try await phone.sync()

            // Then it fetched the two editions it did not hold, and nothing it held
            #expect(report.fullResync)
            #expect(counting.contentFetches == 8 && report.contentFetched == 2)
            #expect(try await phone.briefs().map(\.id.rawValue).sorted() == ["b-0", "b-1", "b-3", "b-4", "b-5", "b-6"])
            #expect(try await phone.brief(BriefID(rawValue: "b-1")!)?.brief.title == "Corrected")
        }
    }

    @Test func aContentFetchLostOnTheWayIsTriedAgainAtOnce() async throws {
        try await InProcessServer().run { server in
            try await server.publishSmall(6)
            let (phone, transport) = try await server.device("phone") { $0.sync.contentFetches = 1 }
            // Given a network that loses the second content request, and the answer to the fourth
            let flaky = FlakyTransport(transport, faults: [], contentFaults: [2: .dropRequest, 4: .loseResponse])
            try await phone.connect(flaky)

            // When the phone syncs
            let report = try await phone.sync()

            // Then each lost fetch was asked again in the same round, and the round got everything
            #expect(report.complete && report.contentFetched == 6)
            #expect(flaky.contentFetches == 6, "the answers that arrived: each edition once")
            #expect(try await phone.briefs().count == 6)
        }
    }

    @Test func editionsFetchedByAFailedRoundAreNotFetchedAgain() async throws {
        try await InProcessServer().run { server in
            try await server.publishSmall(8)
            let (phone, transport) = try await server.device("phone") { $0.sync.contentFetches = 1 }
            // Given a network that loses the fourth content request and its retry
            let flaky = FlakyTransport(transport, faults: [], contentFaults: [4: .dropRequest, 5: .dropRequest])
            try await phone.connect(flaky)

            // When a round fails on it
            await #expect {
                try await phone.sync()
            } throws: { error in
                (error as? SyncError)?.kind == .offline
            }

            // Then nothing of its page is shown: the three editions it fetched are only kept
            #expect(flaky.contentFetches == 3)
            #expect(try await phone.briefs().isEmpty)
            #expect(try await phone.store.changeToken() == nil)

            // And the next round fetches only the five it lacks
            let report = try await phone.sync()
            #expect(report.complete && report.received == 8 && report.contentFetched == 8)
            #expect(flaky.contentFetches == 8)
            #expect(try await phone.briefs().count == 8)
        }
    }

    @Test func aBudgetedSyncEndsOnACommittedPageAndTheNextGoesOn() async throws {
        try await InProcessServer().run { server in
            try await server.publishSmall(12)
            let (phone, transport) = try await server.device("phone") { $0.sync.pageSize = 1 }
            // Given a network on which the third page never arrives
            try await phone.connect(StallingTransport(base: transport, stallingAt: 3))

            // When a round's budget runs out once it has committed the second page, while it waits
            // for the third (fetched ahead, while the second was written)
            let budget = AlarmClock()
            let partial = try await phone.sync(budget: .seconds(25), clock: budget) { report in
                if report.pages == 2 {
                    budget.ring()
                }
            }

            // Then it ended when the budget ran out, on the last page committed: each page it
            // counts is stored whole with its token, and nothing of the page it was waiting for
            #expect(!partial.complete)
            #expect(partial.pages == 2 && partial.received == 2)
            #expect(try await phone.briefs().count == 2)
            #expect(try await phone.store.changeToken() != nil)
            #expect(try await phone.status().lastError == nil, "running out of budget is not a failure")

            // And the next round goes on from there to the end
            try await phone.connect(transport)
            let rest = try await phone.sync()
            #expect(rest.complete && rest.received == 10)
            #expect(try await phone.briefs().count == 12)
        }
    }

    @Test func contentThatIsNotTheEditionNamedIsRefusedWithNothingStored() async throws {
        try await InProcessServer().run { server in
            try await server.publish(try Briefs.small("b-1"))
            try await server.publish(try Briefs.small("b-2"))
            let (phone, transport) = try await server.device("phone")
            // Given a cache on the way that serves other bytes for one digest
            try await phone.connect(TamperingTransport(base: transport))

            // Then the page is refused, nothing of it is stored, and the token did not move
            await #expect(throws: DeviceStoreError.self) { try await phone.sync() }
            #expect(try await phone.briefs().isEmpty)
            #expect(try await phone.store.changeToken() == nil)

            // And with honest content the same sync succeeds
            try await phone.connect(transport)
            #expect(try await phone.sync().received == 2)
        }
    }

    @Test func retractedSavedBriefStaysMarked() async throws {
        try await InProcessServer().run { server in
            try await server.publish(try Briefs.seed())
            try await server.publish(try Briefs.small("b-2"))
            let (phone, _) = try await server.device("phone")
            try await phone.sync()
            let seedID = BriefID(rawValue: "ai-tech-2026-06-26")!
            try await phone.save(seedID)
            try await server.retract("ai-tech-2026-06-26")
            try await server.retract("b-2")
            try await phone.sync()

            let held = try await phone.briefs()
            #expect(held.map(\.id) == [seedID])
            #expect(held.first?.isRetracted == true)
            #expect(try await phone.search("Alibaba").map(\.summary.id) == [seedID])
            #expect(try await phone.search("title").isEmpty)  // b-2's entries are gone
        }
    }

    @Test func unauthorizedAndUnavailableKeepTheOutbox() async throws {
        try await InProcessServer().run { server in
            try await server.publish(try Briefs.small("b-1"))
            let (phone, transport) = try await server.device("phone")
            try await phone.sync()
            try await phone.markRead(b1)

            try await phone.connect(FlakyTransport(transport, faults: [.unavailable]))
            let offline = await #expect(throws: SyncError.self) { try await phone.sync() }
            #expect(offline?.kind == .offline)
            #expect(offline?.retryAfter == .seconds(7))

            try await phone.connect(RouterTransport(handle: server, token: "bs1_revoked-or-unknown"))
            let refused = await #expect(throws: SyncError.self) { try await phone.sync() }
            #expect(refused?.kind == .loginRequired)
            let status = try await phone.status()
            #expect(status.pendingMutations == 1)
            #expect(status.lastError?.contains("log in again") == true)
            #expect(try await phone.brief(b1)?.readState.isRead == true)
        }
    }

    @Test func mutationsForBriefsGoneFromTheServerAreDroppedNotStuck() async throws {
        try await InProcessServer { $0.tombstoneRetention = 1 }.run { server in
            try await server.publish(try Briefs.small("b-1"))
            try await server.publish(try Briefs.small("b-2"))
            let (phone, _) = try await server.device("phone")
            try await phone.sync()
            try await phone.markRead(b1)
            try await phone.markRead(b2)
            try await server.retract("b-1")
            server.server.clock.advance(by: 10)
            _ = try await server.server.store.purgeTombstones(retractedBefore: server.server.clock.now())

            let report = try await phone.sync()
            #expect(report.dropped == 1 && report.pushed == 1)
            let status = try await phone.status()
            #expect(status.pendingMutations == 0)
            // The drop is recorded, with what it was and why
            let dropped = try #require(status.droppedMutations.first)
            #expect(status.droppedMutations.count == 1)
            #expect(dropped.briefId == "b-1" && dropped.action == "read" && dropped.reason.contains("no brief b-1"))
        }
    }

    /// A status lists the last 100 drops, for a reader; the store keeps every one, for an app
    /// (or the simulator's verdict) that must account for each edit.
    @Test func everyDroppedMutationIsKeptBeyondTheOnesAStatusLists() async throws {
        try await InProcessServer { $0.tombstoneRetention = 1 }.run { server in
            try await server.publish(try Briefs.small("b-1"))
            let (phone, _) = try await server.device("phone")
            try await phone.sync()
            for step in 1...120 {
                try await phone.setProgress(b1, Double(step) / 120)
            }
            try await server.retract("b-1")
            server.server.clock.advance(by: 10)
            _ = try await server.server.store.purgeTombstones(retractedBefore: server.server.clock.now())

            let report = try await phone.sync()
            #expect(report.dropped == 120)
            #expect(try await phone.status().droppedMutations.count == SyncStatus.droppedShown)
            let all = try await phone.store.droppedMutations()
            #expect(all.count == 120 && Set(all.map(\.mutationId)).count == 120)
            #expect(all.allSatisfy { $0.briefId == "b-1" && $0.action == "progress" })
        }
    }

    @Test func aRefusalOfAnotherKindKeepsTheEditQueuedAndSaysWhy() async throws {
        try await InProcessServer().run { server in
            try await server.publish(try Briefs.small("b-1"))
            try await server.publish(try Briefs.small("b-2"))
            let (phone, transport) = try await server.device("phone")
            try await phone.sync()
            try await phone.markRead(b1)
            try await phone.save(b2)

            // Given a server that refuses the second mutation for a reason other than a missing
            // brief (a rule this client does not know), next to a moot first one
            try await phone.connect(RefusingTransport(base: transport, gone: [b1]))
            do {
                try await phone.sync()
                Issue.record("the sync should have failed")
            } catch let error as SyncError {
                #expect(error.kind == .rejected)  // brief-device exits 5
                #expect(error.message.contains("saving is closed"))
            }

            // Then only the moot mutation is dropped; the refused one stays queued, and status says why
            let status = try await phone.status()
            #expect(status.pendingMutations == 1)
            #expect(status.droppedMutations.map(\.briefId) == ["b-1"])
            #expect(status.lastError?.contains("saving is closed") == true)
            #expect(try await phone.brief(b2)?.readState.isSaved == true)
        }
    }

    @Test func evictionKeepsSavedAndPendingBriefs() async throws {
        try await InProcessServer().run { server in
            for (id, date) in [
                ("old-1", "2026-05-01"), ("old-2", "2026-05-02"), ("old-3", "2026-05-03"), ("new", "2026-06-25"),
            ] {
                try await server.publish(try Briefs.small(id, date: date))
            }
            let (phone, _) = try await server.device("phone") { $0.keepDays = 30 }
            try await phone.sync()  // the first sync already keeps the budget…
            #expect(try await phone.briefs().count == 1)

            let (tablet, _) = try await server.device("tablet") { $0.keepDays = nil }
            try await tablet.sync()
            try await tablet.save(BriefID(rawValue: "old-1")!)
            try await tablet.markRead(BriefID(rawValue: "old-2")!)  // pending, not yet pushed
            let evicted = try await tablet.store.evict(datedBefore: CalendarDate(iso: "2026-05-27")!)
            #expect(evicted == 1)
            #expect(try await tablet.briefs().map(\.id.rawValue).sorted() == ["new", "old-1", "old-2"])
            #expect(try await tablet.search("Micron").map(\.summary.id.rawValue).sorted() == ["new", "old-1", "old-2"])
        }
    }

    @Test func observationFiresOnSync() async throws {
        try await InProcessServer().run { server in
            let (phone, _) = try await server.device("phone")
            var updates = phone.observeBriefs().makeAsyncIterator()
            #expect(try await updates.next()?.isEmpty == true)
            try await server.publish(try Briefs.small("b-1"))
            try await phone.sync()
            var latest = try await updates.next()
            while latest?.isEmpty == true {
                latest = try await updates.next()
            }
            #expect(latest?.map(\.id.rawValue) == ["b-1"])
            try await phone.markRead(b1)
            #expect(try await updates.next()?.first?.isRead == true)
        }
    }

    @Test func liveModeWakesOnNewsAndStopsWhenCancelled() async throws {
        try await InProcessServer().run { server in
            let (phone, _) = try await server.device("phone")
            try await phone.sync()
            let live = Task { try await phone.runLive() }
            try await Task.sleep(for: .milliseconds(200))
            try await server.publish(try Briefs.small("b-1"))
            var waited = 0
            while try await phone.briefs().isEmpty, waited < 400 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            #expect(try await phone.briefs().map(\.id) == [b1])
            // A local edit is pushed without waiting for the long-poll
            try await phone.markRead(b1)
            waited = 0
            while try await phone.status().pendingMutations > 0, waited < 400 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            #expect(try await phone.status().pendingMutations == 0)
            live.cancel()
            let started = ContinuousClock.now
            _ = try? await live.value
            #expect(ContinuousClock.now - started < .seconds(30))  // cancelled, not a 25 s hold
        }
    }
}

@Suite struct SearchTests {
    @Test func findsWordsFromEveryPartOfTheSeedBrief() async throws {
        let library = try BriefLibrary.inMemory()
        _ = try await library.store.apply(briefs: [try Briefs.seed()], token: "t", now: 0)
        let probes = [
            "Anthropic warns",  // headline
            "low-margin utilities",  // takeaway
            "replication",  // body
            "industrial-scale harvesting",  // quote
            "Whittemore",  // quote speaker
            "Josh Elman",  // episode title
            "Casey Newton",  // host
            "KPMG Quarterly Pulse",  // highlight
            "Regulation",  // category name
            "Hock Tan",  // category item
            "jalap",  // prefix, with the accent folded
        ]
        for probe in probes {
            let hits = try await library.search(probe)
            #expect(hits.map(\.summary.id.rawValue) == ["ai-tech-2026-06-26"], "\(probe)")
        }
        let hit = try #require(try await library.search("distillation").first)
        #expect(hit.snippet.contains("[distillation]"))
        #expect(try await library.search("\"unbalanced AND (").isEmpty)
    }
}

@Suite struct BackoffTests {
    @Test func delaysGrowAreCappedAndHonourRetryAfter() {
        var generator = SystemRandomNumberGenerator()
        let backoff = Backoff(base: .seconds(1), cap: .seconds(60))
        for failures in 0..<30 {
            let delay = backoff.delay(afterFailures: failures, retryAfter: nil, using: &generator)
            #expect(delay <= min(.seconds(60), .seconds(1 << min(failures, 20))))
        }
        #expect(backoff.delay(afterFailures: 0, retryAfter: .seconds(30), using: &generator) >= .seconds(30))
    }
}

/// Serves the first edition asked for with one byte changed: what a broken or hostile cache does.
final class TamperingTransport: SyncTransport, @unchecked Sendable {
    let base: any SyncTransport
    private let lock = NSLock()
    private var tampered = false

    init(base: any SyncTransport) {
        self.base = base
    }

    func push(_ request: PushRequestV1) async throws -> PushResultV1 { try await base.push(request) }

    func changes(_ request: ChangesRequest) async throws -> ChangesPageV2 { try await base.changes(request) }

    func content(_ digest: String) async throws -> Data {
        var bytes = try await base.content(digest)
        let first = lock.withLock { () -> Bool in
            defer { tampered = true }
            return !tampered
        }
        if first {
            let index = try #require(bytes.firstIndex(of: UInt8(ascii: "A")))
            bytes[index] = UInt8(ascii: "B")
        }
        return bytes
    }
}

/// Keeps every page the server sent.
final class RecordingTransport: SyncTransport, @unchecked Sendable {
    let base: any SyncTransport
    private let lock = NSLock()
    private var received: [ChangesPageV2] = []

    init(base: any SyncTransport) {
        self.base = base
    }

    var pages: [ChangesPageV2] { lock.withLock { received } }

    func push(_ request: PushRequestV1) async throws -> PushResultV1 { try await base.push(request) }

    func changes(_ request: ChangesRequest) async throws -> ChangesPageV2 {
        let page = try await base.changes(request)
        lock.withLock { received.append(page) }
        return page
    }

    func content(_ digest: String) async throws -> Data { try await base.content(digest) }
}

/// Passes every call through, except the `stallingAt`-th page, which never comes (until cancelled).
final class StallingTransport: SyncTransport, @unchecked Sendable {
    let base: any SyncTransport
    let stallingAt: Int
    private let lock = NSLock()
    private var calls = 0

    init(base: any SyncTransport, stallingAt: Int) {
        self.base = base
        self.stallingAt = stallingAt
    }

    func push(_ request: PushRequestV1) async throws -> PushResultV1 { try await base.push(request) }

    func changes(_ request: ChangesRequest) async throws -> ChangesPageV2 {
        let call = lock.withLock { () -> Int in
            calls += 1
            return calls
        }
        if call == stallingAt {
            try await Task.sleep(for: .seconds(3_600))
        }
        return try await base.changes(request)
    }

    func content(_ digest: String) async throws -> Data { try await base.content(digest) }
}

/// A clock on which every sleep lasts until ``ring()``, whatever its deadline: a budget that runs
/// out at the moment a test chooses, however slow the machine. Its `now` is the continuous clock's.
final class AlarmClock: Clock, @unchecked Sendable {
    typealias Instant = ContinuousClock.Instant
    private let lock = NSLock()
    private var rang = false

    var now: Instant { .now }
    var minimumResolution: Duration { .zero }

    @Sendable func ring() { lock.withLock { rang = true } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        // why polling: it is cancelled with its task as Task.sleep is, and a test's waits are short
        while !lock.withLock({ rang }) {
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}
