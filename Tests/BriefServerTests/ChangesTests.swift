import BriefModel
import Foundation
import HTTPTypes
import Testing

@testable import BriefServer

@Suite struct ChangesTests {
    @Test func pagingAcrossPageBoundariesWhileChangesArrive() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            for index in 0..<7 {
                try await client.publish(try TestServer.brief("b-\(index)"))
            }
            // Given a device half-way through paging two at a time
            var seen: [String] = []
            var since: String?
            for _ in 0..<2 {
                let page = try await client.changes(token, since: since, limit: 2).decode(ChangesPageV2.self)
                #expect(page.hasMore)
                seen += page.published.map(\.id.rawValue)
                since = page.nextToken
            }
            // When new briefs and a correction of one already seen arrive meanwhile
            try await client.publish(try TestServer.brief("b-7"))
            try await client.publish(try TestServer.brief("b-0", title: "Corrected"))
            let rest = try await client.allPages(token, since: since, limit: 2)
            seen += rest.flatMap { $0.published.map(\.id.rawValue) }

            // Then nothing was skipped, and the correction came after everything it followed
            #expect(Set(seen) == Set((0...7).map { "b-\($0)" }))
            #expect(seen.last == "b-0")
            #expect(rest.last?.hasMore == false)
            let final = try await client.changes(token, since: rest.last?.nextToken).decode(ChangesPageV2.self)
            #expect(final.published.isEmpty && !final.hasMore)
        }
    }

    @Test func pagesStopAtTheByteCap() async throws {
        try await TestServer { $0.maxPageBytes = 100 }.test { client in
            let token = try await client.register("anna")
            for index in 0..<3 {
                try await client.publish(try TestServer.brief("b-\(index)"))
            }
            let pages = try await client.allPages(token, limit: 100)
            #expect(pages.map(\.published.count) == [1, 1, 1])
        }
    }

    @Test func foreignForgedAndMalformedTokensAreInvalid() async throws {
        try await TestServer().test { client in
            let anna = try await client.register("anna")
            let bob = try await client.register("bob")
            let annasToken = try await client.changes(anna).decode(ChangesPageV2.self).nextToken

            var altered = Array(annasToken)
            altered[10] = altered[10] == "A" ? "B" : "A"
            for since in [annasToken, String(altered), "garbage", String(repeating: "A", count: 60)] {
                let answer = try await client.changes(bob, since: since)
                #expect(answer.status == .badRequest)
                #expect(answer.error?.code == .invalidToken)
            }
        }
    }

    @Test func tokenOlderThanTheRetentionIsExpiredAndRestartingCannotLoop() async throws {
        let server = try TestServer { $0.tombstoneRetention = 1_000 }
        try await server.test { client in
            let token = try await client.register("anna")
            try await client.publish(try TestServer.brief("b-1"))
            try await client.publish(try TestServer.brief("b-2"))
            let old = try await client.changes(token).decode(ChangesPageV2.self).nextToken
            _ = try await client.send(.delete, "/v1/briefs/b-1", token: TestServer.publisherKey)
            try await client.publish(try TestServer.brief("b-3"))

            // When the tombstone is purged after the retention
            server.clock.advance(by: 2_000)
            #expect(try await server.store.purgeTombstones(retractedBefore: server.clock.now() - 1_000) == 1)

            // Then the old token is expired, with its own code and status
            let expired = try await client.changes(token, since: old)
            #expect(expired.status == .gone)
            #expect(expired.error?.code == .tokenExpired)
            // and starting over without a token works, and its token is not expired
            let restart = try await client.allPages(token)
            #expect(restart.flatMap(\.published).map(\.id.rawValue).sorted() == ["b-2", "b-3"])
            #expect(try await client.changes(token, since: restart.last?.nextToken).status == .ok)
        }
    }

    @Test func upToDateAnswersCarryAnETag() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            let first = try await client.changes(token)
            let since = try first.decode(ChangesPageV2.self).nextToken
            let upToDate = try await client.changes(token, since: since)
            let etag = try #require(upToDate.headers[.eTag])
            #expect(upToDate.headers[.cacheControl] == "private, no-store")
            let again = try await client.send(
                .get,
                "/v1/changes?since=\(since)",
                token: token,
                headers: [.ifNoneMatch: etag]
            )
            #expect(again.status == .notModified)
            // Something new: the ETag no longer matches
            try await client.publish(try TestServer.brief("b-1"))
            let changed = try await client.send(
                .get,
                "/v1/changes?since=\(since)",
                token: token,
                headers: [.ifNoneMatch: etag]
            )
            #expect(changed.status == .ok)
        }
    }

    @Test func longPollWakesWhenSomethingChanges() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            let since = try await client.changes(token).decode(ChangesPageV2.self).nextToken
            let started = ContinuousClock.now
            async let held = client.changes(token, since: since, wait: 60)
            try await Task.sleep(for: .milliseconds(300))
            try await client.publish(try TestServer.brief("b-1"))
            let page = try await held.decode(ChangesPageV2.self)
            #expect(page.published.map(\.id.rawValue) == ["b-1"])
            #expect(ContinuousClock.now - started < .seconds(45))  // woken, not timed out
        }
    }

    @Test func longPollTimesOutWithAnEmptyPage() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            let since = try await client.changes(token).decode(ChangesPageV2.self).nextToken
            let started = ContinuousClock.now
            let page = try await client.changes(token, since: since, wait: 1).decode(ChangesPageV2.self)
            #expect(page.published.isEmpty && page.nextToken == since)
            #expect(ContinuousClock.now - started >= .milliseconds(900))
        }
    }

    @Test func longPollIsNotWokenByAnotherUsersReadState() async throws {
        try await TestServer().test { client in
            let anna = try await client.register("anna")
            let bob = try await client.register("bob")
            try await client.publish(try TestServer.brief("b-1"))
            let since = try await client.changes(anna).decode(ChangesPageV2.self).nextToken
            async let held = client.changes(anna, since: since, wait: 1)
            try await Task.sleep(for: .milliseconds(200))
            _ = try await client.push(bob, [mutation(1, "b-1", .markRead, wall: 1)])
            let page = try await held.decode(ChangesPageV2.self)
            #expect(page.readStates.isEmpty)
        }
    }

    @Test func unfollowDropsATopicAndFollowingAgainBringsItsBriefsBack() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            try await client.publish(try TestServer.brief("c-1", topic: "climate"))
            try await client.publish(try TestServer.brief("s-1", topic: "sports"))
            let start = try await client.changes(token).decode(ChangesPageV2.self)
            #expect(Set(start.published.map(\.id.rawValue)) == ["c-1", "s-1"])

            let unfollow = try await client.send(.delete, "/v1/topics/sports/follow", token: token)
            #expect(try unfollow.decode(TopicStatusV1.self).followed == false)
            try await client.publish(try TestServer.brief("s-2", topic: "sports"))
            let afterUnfollow = try await client.changes(token, since: start.nextToken).decode(ChangesPageV2.self)
            #expect(afterUnfollow.unfollowedTopics.map(\.rawValue) == ["sports"])
            #expect(afterUnfollow.published.isEmpty)

            let topics = try await client.send(.get, "/v1/topics", token: token).decode(TopicListV1.self)
            #expect(
                topics.topics.map { "\($0.id):\($0.followed):\($0.briefCount)" } == [
                    "climate:true:1", "sports:false:2",
                ]
            )

            _ = try await client.send(.put, "/v1/topics/sports/follow", token: token)
            let afterFollow = try await client.changes(token, since: afterUnfollow.nextToken).decode(ChangesPageV2.self)
            #expect(Set(afterFollow.published.map(\.id.rawValue)) == ["s-1", "s-2"])
            #expect(try await client.send(.put, "/v1/topics/nope/follow", token: token).status == .notFound)
        }
    }
}
