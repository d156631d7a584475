import BriefModel
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import BriefServer

@Suite struct AccountTests {
    @Test func registerLoginAndLogout() async throws {
        try await TestServer().test { client in
            // Given a registered user
            let first = try await client.register("anna")
            #expect(first.hasPrefix("bs1_") && first.count >= 47)

            // When they log in on a second device
            let login = try await client.login("Anna", device: "tablet")
            #expect(login.status == .created)
            let second = try login.decode(SessionV1.self)
            #expect(second.deviceId.rawValue == "tablet" && second.token != first)

            // Then both sessions work (the session check nginx asks says so), and logging one out
            // leaves the other
            #expect(try await client.changes(first).status == .ok)
            #expect(try await client.send(.get, "/v1/sessions/current", token: first).status == .noContent)
            #expect(try await client.send(.delete, "/v1/sessions/current", token: first).status == .noContent)
            #expect(try await client.send(.get, "/v1/sessions/current", token: first).status == .unauthorized)
            #expect(try await client.send(.get, "/v1/sessions/current").status == .unauthorized)
            let revoked = try await client.changes(first)
            #expect(revoked.status == .unauthorized)
            #expect(revoked.error?.code == .unauthorized)
            #expect(try await client.changes(second.token).status == .ok)
        }
    }

    @Test func tokensAreStoredOnlyAsHashes() async throws {
        let server = try TestServer()
        try await server.test { client in
            let token = try await client.register("anna")
            let stored = try await server.store.session(tokenHash: SessionTokens.hash(token))
            #expect(stored?.username == "anna")
            #expect(stored?.tokenHash != Array(token.utf8))
        }
    }

    @Test func duplicateUsernamesAreRefusedWhateverTheCase() async throws {
        try await TestServer().test { client in
            try await client.register("anna")
            let again = try await client.send(
                .post,
                "/v1/accounts",
                json: .object(["username": "ANNA", "password": .string(TestServer.password), "deviceId": "x"])
            )
            #expect(again.status == .conflict)
            #expect(again.error?.code == .conflict)
        }
    }

    @Test func badCredentialsAreReportedByField() async throws {
        try await TestServer().test { client in
            let answer = try await client.send(
                .post,
                "/v1/accounts",
                json: .object(["username": "a/", "password": "short", "deviceId": "..", "extra": true])
            )
            #expect(answer.status == .unprocessableContent)
            #expect(Set(answer.error?.details?.map(\.path) ?? []) == ["username", "password", "deviceId", "extra"])
        }
    }

    @Test func wrongPasswordsAreRateLimitedPerUsername() async throws {
        let server = try TestServer()
        try await server.test { client in
            try await client.register("anna")
            for _ in 0..<5 {
                #expect(
                    try await client.login("anna", device: "d", password: "wrong password!").status == .unauthorized
                )
            }
            // The sixth attempt is refused before checking, even with the right password
            let limited = try await client.login("anna", device: "d")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            #expect(limited.error?.retryAfterSeconds ?? 0 > 0)
            // Another user is not affected; after the window, anna may try again
            try await client.register("bob")
            #expect(try await client.login("bob", device: "d").status == .created)
            server.clock.advance(by: 15 * 60 * 1000 + 1)
            #expect(try await client.login("anna", device: "d").status == .created)
        }
    }

    @Test func unknownUsersGetTheSameAnswerAsWrongPasswords() async throws {
        try await TestServer().test { client in
            try await client.register("anna")
            let unknown = try await client.login("nobody", device: "d")
            let wrong = try await client.login("anna", device: "d", password: "not the password")
            #expect(unknown.status == .unauthorized && wrong.status == .unauthorized)
            #expect(unknown.error?.message == wrong.error?.message)
        }
    }

    @Test func failedLoginsAreCountedPerClientAddressBehindATrustedProxy() async throws {
        let server = try TestServer {
            $0.trustedProxies = [AddressRange("127.0.0.1")!, AddressRange("::1")!]
            $0.loginLimits.perAddress = 2
            $0.loginLimits.perUsername = 100
        }
        try await server.test(.live) { client in
            try await client.register("anna")
            let forwardedFor = HTTPField.Name("X-Forwarded-For")!
            func attempt(from address: String) async throws -> HTTPResponse.Status {
                try await client.send(
                    .post,
                    "/v1/sessions",
                    headers: [forwardedFor: address],
                    body: try JSONEncoder().encode(
                        JSONValue.object(["username": "anna", "password": "wrong password!", "deviceId": "d"])
                    )
                ).status
            }
            #expect(try await attempt(from: "203.0.113.9") == .unauthorized)
            #expect(try await attempt(from: "203.0.113.9") == .unauthorized)
            // The third failure from that client is refused; another client behind the same proxy is not
            #expect(try await attempt(from: "203.0.113.9") == .tooManyRequests)
            #expect(try await attempt(from: "198.51.100.7") == .unauthorized)
            // A forged hop in front of the real client does not help: the right-most untrusted one counts
            #expect(try await attempt(from: "198.51.100.99, 203.0.113.9") == .tooManyRequests)
        }
    }

    @Test func forwardedForIsIgnoredFromPeersThatAreNotTrusted() async throws {
        let server = try TestServer {
            $0.loginLimits.perAddress = 2
            $0.loginLimits.perUsername = 100
        }
        try await server.test(.live) { client in
            try await client.register("anna")
            var statuses: [HTTPResponse.Status] = []
            for address in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
                statuses.append(
                    try await client.send(
                        .post,
                        "/v1/sessions",
                        headers: [HTTPField.Name("X-Forwarded-For")!: address],
                        body: try JSONEncoder().encode(
                            JSONValue.object(["username": "anna", "password": "wrong password!", "deviceId": "d"])
                        )
                    ).status
                )
            }
            // All three come from the same peer, whatever they claim
            #expect(statuses == [.unauthorized, .unauthorized, .tooManyRequests])
        }
    }
}
