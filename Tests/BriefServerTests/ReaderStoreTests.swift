import BriefModel
import BriefServer
import BriefTestSupport
import Testing

/// What every store answers the Reader API (``DeltaStore/readerItems(for:matching:)`` and its
/// siblings), on SQLite and on PostgreSQL: briefs by when the server first received them, the
/// user's read and saved flags as the merge left them, and nothing retracted.
@Suite struct ReaderStoreTests {
    typealias Kind = StoreConformanceTests.Kind

    static func ids(_ refs: [ReaderItemRef]) -> [String] { refs.map(\.briefID.rawValue) }

    /// c-1, c-2 and c-3 of climate and a-1 of ai-tech, received at 1, 2, 3 and 4 seconds, with
    /// dates that are not in that order.
    static func publishFour(_ store: any DeltaStore) async throws {
        for (index, (id, topic, date)) in [
            ("c-1", "climate", "2026-06-26"), ("c-2", "climate", "2026-06-30"), ("c-3", "climate", "2026-06-28"),
            ("a-1", "ai-tech", "2026-06-27"),
        ].enumerated() {
            let brief = try StoreConformanceTests.brief(id, topic: topic, date: date)
            _ = try await store.publish(brief, now: Int64(index + 1) * 1000)
        }
    }

    @Test(arguments: Kind.available) func streamsListBriefsInTheOrderTheServerReceivedThem(kind: Kind) async throws {
        try await StoreConformanceTests.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            try await Self.publishFour(store)
            let everything = try await store.readerItems(
                for: anna.id,
                matching: ReaderItemQuery(scope: .followed, limit: 10)
            )
            #expect(Self.ids(everything) == ["a-1", "c-3", "c-2", "c-1"])
            // the item id is the microsecond of receipt
            #expect(everything.map(\.itemID) == [4_000_000, 3_000_000, 2_000_000, 1_000_000])

            var oldest = ReaderItemQuery(scope: .topic(TopicID(rawValue: "climate")!), limit: 2)
            oldest.oldestFirst = true
            #expect(Self.ids(try await store.readerItems(for: anna.id, matching: oldest)) == ["c-1", "c-2"])
            oldest.lowest = 2_000_001
            #expect(Self.ids(try await store.readerItems(for: anna.id, matching: oldest)) == ["c-3"])
            var range = ReaderItemQuery(scope: .followed, limit: 10)
            range.highest = 3_000_000
            range.lowest = 2_000_000
            #expect(Self.ids(try await store.readerItems(for: anna.id, matching: range)) == ["c-3", "c-2"])
            range.ids = [1_000_000, 3_000_000, 77]
            #expect(Self.ids(try await store.readerItems(for: anna.id, matching: range)) == ["c-3"])

            // a correction keeps its item id and shows its new edition
            _ = try await store.publish(
                try StoreConformanceTests.brief("c-1", title: "Corrected", date: "2026-06-26"),
                now: 9_000
            )
            let shown = try await store.readerContents(for: anna.id, ids: [1_000_000, 4_000_000, 5])
            #expect(shown.map(\.ref.briefID.rawValue) == ["c-1", "a-1"])
            #expect(shown.first?.document.contains("Corrected") == true && shown.first?.publishedAt == 9_000)
            #expect(shown.last?.topicName == "AI-TECH")
            // the next brief received comes after every other, even within one millisecond
            _ = try await store.publish(try StoreConformanceTests.brief("c-4"), now: 1_000)
            let newest = try await store.readerItems(for: anna.id, matching: ReaderItemQuery(scope: .all, limit: 1))
            #expect(Self.ids(newest) == ["c-4"] && newest.first?.itemID == 4_000_001)

            // unfollowing leaves the topic out of the reading list, not out of its own stream
            _ = try await store.setFollowing(TopicID(rawValue: "ai-tech")!, false, for: anna.id)
            let followed = try await store.readerItems(
                for: anna.id,
                matching: ReaderItemQuery(scope: .followed, limit: 10)
            )
            #expect(!Self.ids(followed).contains("a-1"))
            let topic = ReaderItemQuery(scope: .topic(TopicID(rawValue: "ai-tech")!), limit: 10)
            #expect(Self.ids(try await store.readerItems(for: anna.id, matching: topic)) == ["a-1"])
        }
    }

    @Test(arguments: Kind.available) func readAndSavedAreTheMergedStateOfEachUser(kind: Kind) async throws {
        try await StoreConformanceTests.withStore(kind) { store in
            let anna = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
            let bob = try await store.createUser(username: "bob", passwordHash: "h", now: 1)
            try await Self.publishFour(store)
            _ = try await store.push(
                StoreConformanceTests.push([
                    (1, "c-1", .markRead), (2, "c-2", .save), (3, "c-3", .markRead), (4, "c-3", .markUnread),
                ]),
                for: anna.id,
                applier: PushApplier(),
                now: 10_000
            )
            var read = ReaderItemQuery(scope: .all, read: true, limit: 10)
            #expect(Self.ids(try await store.readerItems(for: anna.id, matching: read)) == ["c-1"])
            read.read = false
            #expect(Self.ids(try await store.readerItems(for: anna.id, matching: read)) == ["a-1", "c-3", "c-2"])
            let saved = ReaderItemQuery(scope: .all, saved: true, limit: 10)
            let starred = try await store.readerItems(for: anna.id, matching: saved)
            #expect(Self.ids(starred) == ["c-2"] && starred.first?.saved == true && starred.first?.read == false)
            // bob's are his own
            #expect(try await store.readerItems(for: bob.id, matching: saved).isEmpty)
            #expect(try await store.readerContents(for: bob.id, ids: [1_000_000]).first?.ref.read == false)
            #expect(try await store.readerContents(for: anna.id, ids: [1_000_000]).first?.ref.read == true)

            let counts = try await store.readerUnreadCounts(for: anna.id)
            #expect(
                counts == [
                    ReaderUnreadCount(topic: TopicID(rawValue: "ai-tech")!, count: 1, newestItemID: 4_000_000),
                    ReaderUnreadCount(topic: TopicID(rawValue: "climate")!, count: 2, newestItemID: 3_000_000),
                ]
            )

            // a retracted brief leaves every stream, even the starred one
            _ = try await store.retract(BriefID(rawValue: "c-2")!, now: 11_000)
            #expect(try await store.readerItems(for: anna.id, matching: saved).isEmpty)
            #expect(try await store.readerContents(for: anna.id, ids: [2_000_000]).isEmpty)
            #expect(try await store.readerUnreadCounts(for: anna.id).map(\.count) == [1, 1])
        }
    }
}
