import BriefModel
import Foundation
import HTTPTypes
import Testing

@testable import BriefServer

/// Sessions a user can see and end: listed without tokens, revoked one by one, expired when idle,
/// all others revoked by a new password, all of them gone with the account.
@Suite struct SessionTests {
    static let day: Int64 = 24 * 60 * 60 * 1000

    @Test func sessionsAreListedWithoutTokensAndRevokedOneByOne() async throws {
        let server = try TestServer()
        try await server.test { client in
            let phone = try await client.register("anna", device: "phone")
            let tablet = try await client.login("anna", device: "tablet").decode(SessionV1.self).token
            let bob = try await client.register("bob", device: "bobs-phone")

            let listed = try await client.send(.get, "/v1/sessions", token: phone)
            #expect(listed.status == .ok)
            let sessions = try listed.decode(SessionListV1.self).sessions
            #expect(Set(sessions.map(\.deviceId.rawValue)) == ["phone", "tablet"])
            #expect(sessions.filter(\.current).map(\.deviceId.rawValue) == ["phone"])
            let body = String(decoding: listed.body, as: UTF8.self)
            #expect(!body.contains(phone) && !body.contains(tablet) && !body.contains("token"))

            // Bob cannot revoke Anna's sessions; Anna revokes her tablet's, which stops at once
            let tabletID = try #require(sessions.first { $0.deviceId.rawValue == "tablet" }?.id)
            #expect(try await client.send(.delete, "/v1/sessions/\(tabletID)", token: bob).status == .notFound)
            #expect(try await client.send(.get, "/v1/topics", token: tablet).status == .ok)
            #expect(try await client.send(.delete, "/v1/sessions/\(tabletID)", token: phone).status == .noContent)
            #expect(try await client.send(.get, "/v1/topics", token: tablet).status == .unauthorized)
            #expect(try await client.send(.delete, "/v1/sessions/\(tabletID)", token: phone).status == .notFound)
            #expect(
                try await client.send(.get, "/v1/sessions", token: phone).decode(SessionListV1.self).sessions.count == 1
            )
        }
    }

    @Test func anIdleSessionExpiresAndEachUseRenewsIt() async throws {
        let server = try TestServer { $0.sessionIdleLifetime = 10 * Self.day }
        try await server.test { client in
            let used = try await client.register("anna", device: "phone")
            let idle = try await client.login("anna", device: "tablet").decode(SessionV1.self).token
            for _ in 0..<3 {
                server.clock.advance(by: 6 * Self.day)
                #expect(try await client.send(.get, "/v1/topics", token: used).status == .ok)
            }
            // 18 days on: the session used every 6 days lives, the other expired after 10
            #expect(try await client.send(.get, "/v1/topics", token: idle).status == .unauthorized)
            let sessions = try await client.send(.get, "/v1/sessions", token: used).decode(SessionListV1.self).sessions
            #expect(sessions.map(\.deviceId.rawValue) == ["phone"])
            #expect(sessions.first?.lastUsedAt == server.clock.now())
        }
    }

    @Test func aNewPasswordRevokesEveryOtherSession() async throws {
        let server = try TestServer()
        try await server.test { client in
            let phone = try await client.register("anna", device: "phone")
            let tablet = try await client.login("anna", device: "tablet").decode(SessionV1.self).token
            let change = { (current: String) in
                try await client.send(
                    .put,
                    "/v1/accounts/current/password",
                    token: phone,
                    json: .object(["currentPassword": .string(current), "newPassword": "a new passphrase here"])
                )
            }
            #expect(try await change("not the password").status == .forbidden)
            #expect(try await client.send(.get, "/v1/topics", token: tablet).status == .ok)
            #expect(try await change(TestServer.password).status == .noContent)
            #expect(try await client.send(.get, "/v1/topics", token: tablet).status == .unauthorized)
            #expect(try await client.send(.get, "/v1/topics", token: phone).status == .ok)
            #expect(try await client.login("anna", device: "d").status == .unauthorized)
            #expect(try await client.login("anna", device: "d", password: "a new passphrase here").status == .created)
        }
    }

    @Test func deletingTheAccountTakesItsStateAndEndsEverySession() async throws {
        let server = try TestServer()
        try await server.test { client in
            try #require(try await client.publish(try TestServer.brief("b-1")).status == .ok)
            let phone = try await client.register("anna", device: "phone")
            let tablet = try await client.login("anna", device: "tablet").decode(SessionV1.self).token
            _ = try await client.push(phone, [mutation(1, "b-1", .save, wall: 5)])
            let delete = { (password: String) in
                try await client.send(
                    .delete,
                    "/v1/accounts/current",
                    token: phone,
                    json: .object(["password": .string(password)])
                )
            }
            #expect(try await delete("not the password").status == .forbidden)
            #expect(try await client.send(.delete, "/v1/accounts/current", token: phone).status == .badRequest)
            #expect(try await delete(TestServer.password).status == .noContent)
            for token in [phone, tablet] {
                #expect(try await client.send(.get, "/v1/topics", token: token).status == .unauthorized)
            }
            #expect(try await client.login("anna", device: "d").status == .unauthorized)
            // The name is free again, for an account with none of the old one's state
            let again = try await client.register("anna", device: "phone")
            let page = try await client.changes(again).decode(ChangesPageV2.self)
            #expect(page.readStates.isEmpty)
        }
    }

    @Test func aRevocationTakesEffectElsewhereWithinTheSessionCacheLifetime() async throws {
        let first = try TestServer()
        let second = try TestServer(store: first.store)
        try await first.test { a in
            try await second.test { b in
                let phone = try await a.register("anna", device: "phone")
                let tablet = try await a.login("anna", device: "tablet").decode(SessionV1.self).token
                #expect(try await b.send(.get, "/v1/topics", token: tablet).status == .ok)  // now cached on b
                let id = try #require(
                    try await a.send(.get, "/v1/sessions", token: phone).decode(SessionListV1.self).sessions
                        .first { !$0.current }?.id
                )
                #expect(try await a.send(.delete, "/v1/sessions/\(id)", token: phone).status == .noContent)
                #expect(try await a.send(.get, "/v1/topics", token: tablet).status == .unauthorized)  // at once here
                #expect(try await b.send(.get, "/v1/topics", token: tablet).status == .ok)  // b still believes it
                second.clock.advance(by: first.configuration.sessionCacheLifetime + 1)
                #expect(try await b.send(.get, "/v1/topics", token: tablet).status == .unauthorized)
            }
        }
    }

    @Test func aRevocationHereBeatsALookupAlreadyUnderWay() async throws {
        let clock = ManualWallClock()
        let cache = SessionCache(lifetime: 60_000, clock: clock)
        let session = SessionRecord(
            tokenHash: [1, 2, 3],
            id: "s-0000000000000001",
            userID: 1,
            username: "anna",
            deviceID: DeviceID(rawValue: "phone")!,
            deviceName: nil,
            createdAt: clock.now()
        )
        let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
        let (release, releaseContinuation) = AsyncStream.makeStream(of: Void.self)
        // Given a lookup that read the session as live and has not returned yet
        let lookup = Task {
            try await cache.session(tokenHash: session.tokenHash) {
                startedContinuation.yield()
                for await _ in release { break }
                return session
            }
        }
        for await _ in started { break }
        // When the session is revoked here meanwhile
        cache.forget(tokenHash: session.tokenHash)
        releaseContinuation.yield()
        // Then the lookup's answer is neither believed nor kept
        #expect(try await lookup.value == nil)
        #expect(cache.cached(tokenHash: session.tokenHash) == nil)
    }
}
