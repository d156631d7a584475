import BriefModel
import Foundation
import HTTPTypes
import Testing

@testable import BriefServer

/// `GET /v1/topics/{id}/feed.json` and `feed.atom`: a topic's live briefs, newest first by their
/// date, behind a session unless content is public, with an ETag that names the bytes; a
/// correction or a retraction is in the next answer, never a kept one.
@Suite struct FeedTests {
    /// Three briefs of `climate` published out of date order, and one of another topic.
    static func publishClimate(_ client: TestClient) async throws {
        for (id, date) in [("climate-b", "2026-06-28"), ("climate-c", "2026-06-29"), ("climate-a", "2026-06-27")] {
            let published = try await client.publish(
                try TestServer.brief(id, title: "Brief \(id)").setting("date", .string(date))
            )
            #expect(
                published.status == .ok || published.status == .created,
                "\(String(decoding: published.body, as: UTF8.self))"
            )
        }
        try await client.publish(try TestServer.example())
    }

    static func items(_ answer: TestClient.Answer) throws -> [JSONValue] {
        guard case .array(let items)? = answer.json?["items"] else {
            Issue.record("no items in \(String(decoding: answer.body, as: UTF8.self))")
            return []
        }
        return items
    }

    static func ids(_ answer: TestClient.Answer) throws -> [String] {
        try items(answer).compactMap { if case .string(let id)? = $0["id"] { id } else { nil } }
    }

    @Test func aTopicsFeedListsItsLiveBriefsNewestFirst() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            try await Self.publishClimate(client)
            let feed = try await client.send(.get, "/v1/topics/climate/feed.json", token: token)
            #expect(feed.status == .ok)
            #expect(feed.headers[.contentType] == "application/feed+json; charset=utf-8")
            #expect(feed.headers[.cacheControl] == "private, no-cache")
            #expect(try Self.ids(feed) == ["climate-c", "climate-b", "climate-a"])
            let first = try #require(try Self.items(feed).first)
            #expect(first["title"] == .string("Brief climate-c"))
            #expect(first["date_published"] == .string("2026-06-29T00:00:00Z"))
            #expect(feed.json?["feed_url"] == .string("http://localhost/v1/topics/climate/feed.json"))

            // the limit, and a retraction gone from the next answer
            let two = try await client.send(.get, "/v1/topics/climate/feed.json?limit=2", token: token)
            #expect(try Self.ids(two) == ["climate-c", "climate-b"])
            _ = try await client.send(.delete, "/v1/briefs/climate-c", token: TestServer.publisherKey)
            let after = try await client.send(.get, "/v1/topics/climate/feed.json", token: token)
            #expect(try Self.ids(after) == ["climate-b", "climate-a"])

            let atom = try await client.send(.get, "/v1/topics/climate/feed.atom", token: token)
            #expect(atom.status == .ok)
            #expect(atom.headers[.contentType] == "application/atom+xml; charset=utf-8")
            let text = String(decoding: atom.body, as: UTF8.self)
            let entries = text.components(separatedBy: "<id>urn:briefsync:brief:").dropFirst().map { $0.prefix(9) }
            #expect(entries == ["climate-b", "climate-a"])
        }
    }

    @Test func anETagNamesTheBytesAndACorrectionIsNeverServedStale() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            try await Self.publishClimate(client)
            let feed = try await client.send(.get, "/v1/topics/climate/feed.json", token: token)
            let etag = try #require(feed.headers[.eTag])
            let same = try await client.send(
                .get,
                "/v1/topics/climate/feed.json",
                token: token,
                headers: [.ifNoneMatch: etag]
            )
            #expect(same.status == .notModified && same.body.isEmpty)

            // a correction: a new ETag and the corrected title, though the feed was kept
            try await client.publish(
                try TestServer.brief("climate-b", title: "Corrected").setting("date", .string("2026-06-28"))
            )
            let corrected = try await client.send(
                .get,
                "/v1/topics/climate/feed.json",
                token: token,
                headers: [.ifNoneMatch: etag]
            )
            #expect(corrected.status == .ok)
            #expect(corrected.headers[.eTag] != etag)
            let item = try Self.items(corrected).first { $0["id"] == .string("climate-b") }
            #expect(item?["title"] == .string("Corrected"))
            #expect(item?["_briefsync"]?["version"] == .integer(2))
        }
    }

    @Test func theFeedsFollowTheContentAccess() async throws {
        try await TestServer().test { client in
            try await Self.publishClimate(client)
            for path in ["/v1/topics/climate/feed.json", "/v1/topics/climate/feed.atom"] {
                #expect(try await client.send(.get, path).status == .unauthorized)
                #expect(try await client.send(.get, path, token: "forged").status == .unauthorized)
                #expect(try await client.send(.get, path, token: TestServer.publisherKey).status == .forbidden)
            }
        }
        try await TestServer { $0.contentAccess = .public }.test { client in
            try await Self.publishClimate(client)
            let feed = try await client.send(.get, "/v1/topics/climate/feed.atom")
            #expect(feed.status == .ok)
            #expect(feed.headers[.cacheControl] == "public, no-cache")
        }
    }

    @Test func aFeedKeyReadsTheFeedsOnlyAndIsRevokedLikeASession() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            try await Self.publishClimate(client)
            let created = try await client.send(.post, "/v1/feed-keys", token: token)
            #expect(created.status == .created)
            let feedKey = try created.decode(FeedKeyV1.self)

            // in the address, for readers that cannot send headers, or as a bearer token
            for path in [
                "/v1/topics/climate/feed.json?key=\(feedKey.key)", "/v1/topics/climate/feed.atom?key=\(feedKey.key)",
            ] {
                #expect(try await client.send(.get, path).status == .ok, "\(path)")
            }
            #expect(try await client.send(.get, "/v1/topics/climate/feed.json", token: feedKey.key).status == .ok)
            // nothing else: not the changes, the session check nginx asks, content, nor more keys
            for (method, path) in [
                (HTTPRequest.Method.get, "/v1/changes"), (.get, "/v1/sessions/current"), (.get, "/v1/topics"),
                (.post, "/v1/feed-keys"), (.get, "/v1/sessions"),
            ] {
                let refused = try await client.send(method, path, token: feedKey.key)
                #expect(refused.status == .forbidden, "\(method) \(path)")
            }
            // a device's session is not taken from an address, and a forged key is unknown
            #expect(try await client.send(.get, "/v1/topics/climate/feed.json?key=\(token)").status == .forbidden)
            #expect(try await client.send(.get, "/v1/topics/climate/feed.json?key=bs1_forged").status == .unauthorized)

            // listed as its own device, and revoked like any session
            let listed = try await client.send(.get, "/v1/sessions", token: token).decode(SessionListV1.self)
            let entry = try #require(listed.sessions.first { $0.id == feedKey.id })
            #expect(entry.deviceId.rawValue == "feed-reader" && entry.deviceName == "Feed reader")
            #expect(try await client.send(.delete, "/v1/sessions/\(feedKey.id)", token: token).status == .noContent)
            let revoked = try await client.send(.get, "/v1/topics/climate/feed.json?key=\(feedKey.key)")
            #expect(revoked.status == .unauthorized)
        }
    }

    @Test func anAccountHoldsTwentyFeedKeysAtMost() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            for _ in 0..<SessionRoutes.maxFeedKeys {
                #expect(try await client.send(.post, "/v1/feed-keys", token: token).status == .created)
            }
            let refused = try await client.send(.post, "/v1/feed-keys", token: token)
            #expect(refused.status == .tooManyRequests && refused.error?.code == .rateLimited)
        }
    }

    @Test func badRequestsGetClearAnswers() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            try await Self.publishClimate(client)
            let unknown = try await client.send(.get, "/v1/topics/nothing/feed.json", token: token)
            #expect(unknown.status == .notFound && unknown.error?.code == .notFound)
            for limit in ["0", "201", "many"] {
                let bad = try await client.send(.get, "/v1/topics/climate/feed.json?limit=\(limit)", token: token)
                #expect(bad.status == .badRequest && bad.error?.details?.first?.path == "limit", "\(limit)")
            }
            // a topic that has no live brief is an empty feed, not an error
            _ = try await client.send(.delete, "/v1/briefs/ai-tech-2026-06-26", token: TestServer.publisherKey)
            let empty = try await client.send(.get, "/v1/topics/ai-tech/feed.json", token: token)
            #expect(empty.status == .ok)
            #expect(try Self.ids(empty).isEmpty)
            let atom = try await client.send(.get, "/v1/topics/ai-tech/feed.atom", token: token)
            #expect(String(decoding: atom.body, as: UTF8.self).contains("<updated>1970-01-01T00:00:00Z</updated>"))
        }
    }
}
