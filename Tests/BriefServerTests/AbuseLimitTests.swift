import BriefModel
import BriefServer
import Foundation
import HTTPTypes
import Testing

/// What stops guessing and flooding: logins reserved before bcrypt, registrations per address,
/// wrong publisher keys per address.
@Suite struct AbuseLimitTests {
    @Test func guessesSentAtOnceAreCheckedNoMoreThanTheLimit() async throws {
        let server = try TestServer()
        try await server.test { client in
            try await client.register("anna")
            // When 60 wrong passwords for one user arrive at once
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<60 {
                    group.addTask { try await client.login("anna", device: "d", password: "wrong password!").status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            // Then only the per-username limit of them was checked; the rest waited their turn
            #expect(statuses.filter { $0 == .unauthorized }.count == 5)
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 55)
        }
    }

    @Test func guessesAtManyUsersFromOneAddressAreCheckedNoMoreThanItsLimit() async throws {
        let server = try TestServer { $0.loginLimits.perAddress = 7 }
        try await server.test { client in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<30 {
                    group.addTask {
                        try await client.login("user\(index)", device: "d", password: "wrong password!").status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count == 7)
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 23)
        }
    }

    @Test func aSuccessfulLoginDoesNotCountAgainstTheLimit() async throws {
        let server = try TestServer { $0.loginLimits.perUsername = 2 }
        try await server.test { client in
            try await client.register("anna")
            for _ in 0..<5 {
                #expect(try await client.login("anna", device: "d").status == .created)
            }
            #expect(try await client.login("anna", device: "d", password: "wrong password!").status == .unauthorized)
            #expect(try await client.login("anna", device: "d").status == .created)
        }
    }

    @Test func registrationsAreLimitedPerAddress() async throws {
        let server = try TestServer { $0.loginLimits.registrationsPerAddress = 3 }
        try await server.test { client in
            for index in 0..<3 {
                try await client.register("user\(index)")
            }
            let refused = try await client.send(
                .post,
                "/v1/accounts",
                json: .object([
                    "username": "user9", "password": .string(TestServer.password), "deviceId": "phone",
                ])
            )
            #expect(refused.status == .tooManyRequests)
            #expect(refused.error?.code == .rateLimited && refused.headers[.retryAfter] != nil)
            server.clock.advance(by: 15 * 60 * 1000 + 1)
            try await client.register("user9")
        }
    }

    @Test func wrongPublisherKeysAreLimitedPerAddress() async throws {
        let server = try TestServer { $0.loginLimits.publisherFailuresPerAddress = 3 }
        try await server.test { client in
            for _ in 0..<3 {
                #expect(
                    try await client.send(.delete, "/v1/briefs/b-1", token: "a-guessed-publisher-key").status
                        == .unauthorized
                )
            }
            // The fourth guess is not checked, and neither is the right key from that address until the window ends
            let limited = try await client.send(.delete, "/v1/briefs/b-1", token: "another-guessed-key")
            #expect(limited.status == .tooManyRequests && limited.error?.code == .rateLimited)
            #expect(
                try await client.send(.delete, "/v1/briefs/b-1", token: TestServer.publisherKey).status
                    == .tooManyRequests
            )
            server.clock.advance(by: 15 * 60 * 1000 + 1)
            #expect(
                try await client.send(.delete, "/v1/briefs/b-1", token: TestServer.publisherKey).status == .notFound
            )
        }
    }

    @Test func wrongPublisherKeysSentAtOnceAreCheckedNoMoreThanTheLimit() async throws {
        let server = try TestServer { $0.loginLimits.publisherFailuresPerAddress = 3 }
        try await server.test { client in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await client.send(.delete, "/v1/briefs/b-1", token: "a-guessed-publisher-key-\(index)")
                            .status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count == 3)
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 17)
        }
    }

    @Test func unknownUsersAreCheckedAtTheConfiguredCost() async throws {
        // The decoy hash that an unknown username is checked against has the real cost, so the
        // answer takes as long as a wrong password's
        #expect(try await decoyPasswordHash(cost: 5).hasPrefix("$2b$05$"))
        #expect(try await decoyPasswordHash(cost: 12).hasPrefix("$2b$12$"))
    }
}
