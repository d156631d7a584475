import BriefModel
import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import BriefServer

/// The two things an up-to-date poll is answered from memory with: the session cache and the
/// kept up-to-date answer (`UpToDateCache`). What must hold: a poll with nothing new does not
/// reach the store, anything that changes for the user is served on the next poll, nothing is
/// ever skipped, and a logout takes effect at once on the instance it went through.
@Suite struct AnswerCacheTests {
    @Test func anUpToDatePollIsAnsweredFromMemoryUntilSomethingChangesForTheUser() async throws {
        let store = CountingStore(try openStore(.sqliteInMemory))
        try await TestServer(store: store).test { client in
            let token = try await client.register("anna")
            let other = try await client.register("bob")
            try await client.publish(try TestServer.brief("b-1"))
            let first = try await client.changes(token).decode(ChangesPageV2.self)
            #expect(first.published.map(\.id.rawValue) == ["b-1"])
            // the first empty answer is computed and kept
            let empty = try await client.changes(token, since: first.nextToken)
            let since = try empty.decode(ChangesPageV2.self).nextToken
            let reads = (store.calls("changes"), store.calls("session"), store.calls("feedState"))

            // Given nothing new: answered without the store, the same bytes each time
            for _ in 0..<3 {
                let again = try await client.changes(token, since: since)
                #expect(again.status == .ok && again.body == empty.body)
                #expect(again.headers[.eTag] == empty.headers[.eTag])
            }
            let notModified = try await client.send(
                .get,
                "/v1/changes?since=\(since)",
                token: token,
                headers: [.ifNoneMatch: empty.headers[.eTag] ?? ""]
            )
            #expect(notModified.status == .notModified)
            #expect(store.calls("changes") == reads.0 && store.calls("session") == reads.1)
            #expect(store.calls("feedState") == reads.2)

            // A change of another user's read-state does not concern anna: still from memory
            #expect(try await client.push(other, [mutation(1, "b-1", .markRead, wall: 1)]).status == .ok)
            #expect(try await client.changes(token, since: since).body == empty.body)
            #expect(store.calls("changes") == reads.0)

            // Her own read-state from another device reaches her on the next poll
            let tablet = try await client.login("anna", device: "tablet").decode(SessionV1.self).token
            #expect(
                try await client.push(tablet, device: "tablet", [mutation(1, "b-1", .save, wall: 2, device: "tablet")])
                    .status == .ok
            )
            let saved = try await client.changes(token, since: since).decode(ChangesPageV2.self)
            #expect(saved.readStates.map(\.briefID.rawValue) == ["b-1"])
            #expect(saved.readStates.first?.isSaved == true)

            // A publish reaches everyone on the next poll
            let upToDate = try await client.changes(token, since: saved.nextToken).decode(ChangesPageV2.self)
            try await client.publish(try TestServer.brief("b-2"))
            let published = try await client.changes(token, since: upToDate.nextToken).decode(ChangesPageV2.self)
            #expect(published.published.map(\.id.rawValue) == ["b-2"])
        }
    }

    @Test func aKeptAnswerIsLateAtWorstNeverSkipsAChange() async throws {
        let store = CountingStore(try openStore(.sqliteInMemory))
        try await TestServer(store: store).test { client in
            let token = try await client.register("anna")
            try await client.publish(try TestServer.brief("b-1"))
            let first = try await client.changes(token).decode(ChangesPageV2.self)
            let kept = try await client.changes(token, since: first.nextToken).decode(ChangesPageV2.self)

            // Given a change committed that the notifier has not heard of yet (the moment between
            // a commit and its notification, or another instance's NOTIFY still on its way)
            var brief = try WireCoding.decoder().decode(Brief.self, from: JSONEncoder().encode(TestServer.brief("b-2")))
            brief.title = "Committed, not yet announced"
            _ = try await store.base.publish(brief, now: 1)

            // Then the kept answer is served, and its token does not move past the change
            let late = try await client.changes(token, since: kept.nextToken).decode(ChangesPageV2.self)
            #expect(late.published.isEmpty)
            #expect(late.nextToken == kept.nextToken)

            // And once any change for anna is announced, the poll from that token brings it
            try await client.publish(try TestServer.brief("b-3"))
            let caught = try await client.changes(token, since: late.nextToken).decode(ChangesPageV2.self)
            #expect(caught.published.map(\.id.rawValue) == ["b-2", "b-3"])
        }
    }

    @Test func onASharedDatabaseAnswersAreKeptOnlyWhileTheRelayListens() async throws {
        let store = CountingStore(try openStore(.sqliteInMemory), shared: true)
        try await TestServer(store: store).test { client in
            let token = try await client.register("anna")
            try await client.publish(try TestServer.brief("b-1"))
            let since = try await client.changes(token).decode(ChangesPageV2.self).nextToken

            // Not listening yet: other instances' changes would go unheard, so every poll queries
            var before = store.calls("changes")
            for _ in 0..<2 {
                _ = try await client.changes(token, since: since)
            }
            #expect(store.calls("changes") == before + 2)

            // Listening: kept
            store.relay(.subscribed)
            try await waitUntil { try await pollIsKept(client, token, since, store) }

            // An instance's change relayed here reaches the next poll
            var brief = try WireCoding.decoder().decode(Brief.self, from: JSONEncoder().encode(TestServer.brief("b-2")))
            brief.title = "From another instance"
            _ = try await store.base.publish(brief, now: 1)
            store.relay(.everyone)
            try await waitUntil {
                try await client.changes(token, since: since).decode(ChangesPageV2.self).published.count == 1
            }

            // The relay lost: back to querying every poll
            store.relay(.unsubscribed)
            try await waitUntil { !(try await pollIsKept(client, token, since, store)) }
            before = store.calls("changes")
            _ = try await client.changes(token, since: since)
            _ = try await client.changes(token, since: since)
            #expect(store.calls("changes") == before + 2)
        }
    }

    @Test func aLogoutTakesEffectAtOnceAndARevocationElsewhereWithinTheCacheLifetime() async throws {
        let store = CountingStore(try openStore(.sqliteInMemory))
        let server = try TestServer(store: store) { $0.sessionCacheLifetime = 5_000 }
        try await server.test { client in
            let phone = try await client.register("anna")
            let tablet = try await client.login("anna", device: "tablet").decode(SessionV1.self).token
            #expect(try await client.changes(phone).status == .ok)
            #expect(try await client.changes(tablet).status == .ok)
            let lookups = store.calls("session")
            #expect(try await client.changes(phone).status == .ok)
            #expect(store.calls("session") == lookups)  // from the cache

            // A logout through this instance: refused at once
            #expect(try await client.send(.delete, "/v1/sessions/current", token: phone).status == .noContent)
            #expect(try await client.changes(phone).status == .unauthorized)

            // Revoked in the database by another instance: believed until the entry expires, not after
            try await store.base.revokeSession(tokenHash: SessionTokens.hash(tablet), now: 0)
            #expect(try await client.changes(tablet).status == .ok)
            server.clock.advance(by: 5_001)
            #expect(try await client.changes(tablet).status == .unauthorized)
        }
    }

    @Test func withTheCacheOffEveryRequestLooksTheSessionUp() async throws {
        let store = CountingStore(try openStore(.sqliteInMemory))
        try await TestServer(store: store) { $0.sessionCacheLifetime = 0 }.test { client in
            let phone = try await client.register("anna")
            let lookups = store.calls("session")
            _ = try await client.changes(phone)
            _ = try await client.changes(phone)
            #expect(store.calls("session") == lookups + 2)
            try await store.base.revokeSession(tokenHash: SessionTokens.hash(phone), now: 0)
            #expect(try await client.changes(phone).status == .unauthorized)
        }
    }

    @Test func keptAnswersHoldOnlyForTheirTokensGenerationAndEpoch() throws {
        let cache = UpToDateCache(capacity: 2)
        let generation = ChangeNotifier.Generation(global: 3, user: 1)
        let answer = UpToDateCache.Answer(body: .init(), etag: "\"e\"", nextToken: "next")
        cache.remember(
            answer,
            for: 7,
            epoch: 9,
            since: FeedCursor(content: 10, state: 5),
            next: FeedCursor(content: 20, state: 6),
            generation: generation
        )

        #expect(
            cache.answer(
                for: 7,
                token: ChangeToken(epoch: 9, cursor: FeedCursor(content: 10, state: 5)),
                generation: generation
            ) != nil
        )
        #expect(
            cache.answer(
                for: 7,
                token: ChangeToken(epoch: 9, cursor: FeedCursor(content: 20, state: 5)),
                generation: generation
            ) != nil
        )
        #expect(
            cache.answer(
                for: 7,
                token: ChangeToken(epoch: 9, cursor: FeedCursor(content: 9, state: 5)),
                generation: generation
            ) == nil
        )
        #expect(
            cache.answer(
                for: 7,
                token: ChangeToken(epoch: 9, cursor: FeedCursor(content: 21, state: 5)),
                generation: generation
            ) == nil
        )
        #expect(
            cache.answer(
                for: 7,
                token: ChangeToken(epoch: 8, cursor: FeedCursor(content: 15, state: 5)),
                generation: generation
            ) == nil
        )
        #expect(
            cache.answer(
                for: 8,
                token: ChangeToken(epoch: 9, cursor: FeedCursor(content: 15, state: 5)),
                generation: generation
            ) == nil
        )
        let states = [4, 5, 6, 7].map { ChangeToken(epoch: 9, cursor: FeedCursor(content: 15, state: $0)) }
        #expect(
            states.map { cache.answer(for: 7, token: $0, generation: generation) != nil } == [false, true, true, false]
        )
        let catchingUp = FeedCursor(content: 15, state: 5, catchUp: CatchUp(topic: nil, through: 15, window: nil))
        #expect(cache.answer(for: 7, token: ChangeToken(epoch: 9, cursor: catchingUp), generation: generation) == nil)
        let moved = ChangeNotifier.Generation(global: 4, user: 1)
        #expect(
            cache.answer(
                for: 7,
                token: ChangeToken(epoch: 9, cursor: FeedCursor(content: 15, state: 5)),
                generation: moved
            ) == nil
        )
        #expect(cache.answer(for: 7, tokenText: "next", generation: generation) != nil)
        #expect(cache.answer(for: 7, tokenText: "other", generation: generation) == nil)
        #expect(cache.answer(for: 7, tokenText: "next", generation: moved) == nil)

        // full: starts over rather than growing
        cache.remember(
            answer,
            for: 8,
            epoch: 9,
            since: FeedCursor(content: 10, state: 5),
            next: FeedCursor(content: 20, state: 6),
            generation: generation
        )
        cache.remember(
            answer,
            for: 9,
            epoch: 9,
            since: FeedCursor(content: 10, state: 5),
            next: FeedCursor(content: 20, state: 6),
            generation: generation
        )
        #expect(cache.answer(for: 7, tokenText: "next", generation: generation) == nil)
        #expect(cache.answer(for: 9, tokenText: "next", generation: generation) != nil)
    }

    @Test func theRelaysStateDecidesWhetherAnswersMayBeKept() {
        let alone = ChangeNotifier()
        #expect(alone.answersCanBeCached)
        let shared = ChangeNotifier(relayed: true)
        #expect(!shared.answersCanBeCached)
        let before = shared.generation(for: 1)
        shared.relayListening(true)
        #expect(shared.answersCanBeCached)
        let listening = shared.generation(for: 1)
        #expect(listening != before)  // whatever was kept before is outdated
        shared.relayListening(false)
        #expect(!shared.answersCanBeCached)
        #expect(shared.generation(for: 1) != listening)
    }
}

/// Whether a poll with `since` is answered without reaching the store.
private func pollIsKept(_ client: TestClient, _ token: String, _ since: String, _ store: CountingStore) async throws
    -> Bool
{
    _ = try await client.changes(token, since: since)
    let before = store.calls("changes")
    _ = try await client.changes(token, since: since)
    return store.calls("changes") == before
}
