import BriefModel
import Foundation
import HTTPTypes
import Testing

@testable import BriefServer

/// Every bad request gets the error shape and a 4xx, never a 500, and writes nothing.
@Suite struct BadInputTests {
    @Test func malformedBodies() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            let cases: [(String, HTTPResponse.Status, ErrorCode)] = [
                ("{\"protocol\": 1, \"deviceId\": ", .badRequest, .malformedRequest),  // truncated
                ("not json at all", .badRequest, .malformedRequest),
                ("", .badRequest, .malformedRequest),
                ("[1, 2, 3]", .unprocessableContent, .validationFailed),
                (
                    "{\"protocol\": \"one\", \"deviceId\": 7, \"mutations\": {}}", .unprocessableContent,
                    .validationFailed
                ),
                (
                    "{\"protocol\": 1, \"deviceId\": \"phone\", \"mutations\": [{\"id\": 1}]}", .unprocessableContent,
                    .validationFailed
                ),
            ]
            for (body, status, code) in cases {
                let answer = try await client.send(.post, "/v1/read-states", token: token, body: Data(body.utf8))
                #expect(answer.status == status, "\(body)")
                #expect(answer.error?.code == code, "\(body)")
            }
            #expect(try await client.allPages(token).flatMap(\.readStates).isEmpty)
        }
    }

    @Test func oversizedBodiesAre413() async throws {
        try await TestServer { $0.maxBodyBytes = 1_000 }.test { client in
            let big = try TestServer.example()
            let answer = try await client.publish(big)
            #expect(answer.status == .contentTooLarge)
            #expect(answer.error?.code == .payloadTooLarge)
        }
    }

    @Test func badQueryParameters() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            for query in ["limit=-1", "limit=1000000000", "limit=abc", "wait=-5", "wait=61", "limit=0"] {
                let answer = try await client.send(.get, "/v1/changes?\(query)", token: token)
                #expect(answer.status == .badRequest, "\(query)")
                #expect(answer.error?.code == .malformedRequest, "\(query)")
                #expect(answer.error?.details?.isEmpty == false, "\(query)")
            }
        }
    }

    @Test func unknownPathsAndMethods() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            let missing = try await client.send(.get, "/v1/nothing-here", token: token)
            #expect(missing.status == .notFound && missing.error?.code == .notFound)
            let wrongMethod = try await client.send(.post, "/v1/changes", token: token)
            #expect(wrongMethod.status == .methodNotAllowed && wrongMethod.error?.code == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET")
        }
    }

    @Test(arguments: ["..", "a..b", "-x", "a%2Fb", "quote%22d", "ctl%01", String(repeating: "x", count: 101)])
    func badBriefIdsInPaths(id: String) async throws {
        try await TestServer().test { client in
            let answer = try await client.send(.delete, "/v1/briefs/\(id)", token: TestServer.publisherKey)
            #expect((400..<500).contains(answer.status.code), "\(id): \(answer.status)")
            #expect(answer.error != nil)
        }
    }

    @Test func theBearerSchemeIsReadWhateverItsCase() {
        func token(_ value: String) -> String? {
            HTTPFields([HTTPField(name: .authorization, value: value)]).bearerToken
        }
        #expect(token("Bearer abc") == "abc")
        #expect(token("bEaReR abc") == "abc")
        #expect(token("Bearer  abc") == " abc")
        #expect(token("Bearer ") == nil)
        #expect(token("Bearer") == nil)
        #expect(token("Bearer_abc") == nil)
        #expect(token("Basic abc") == nil)
        #expect(token("Bearer " + String(repeating: "x", count: 600)) == nil)
    }

    @Test func missingAndMalformedAuthorization() async throws {
        try await TestServer().test { client in
            for header in [
                "", "Bearer", "Basic abc", "Bearer " + String(repeating: "x", count: 600), "Bearer bs1_forged",
            ] {
                let answer = try await client.send(
                    .get,
                    "/v1/changes",
                    headers: header.isEmpty ? [:] : [.authorization: header]
                )
                #expect(answer.status == .unauthorized, "\(header.prefix(20))")
                #expect(answer.error?.code == .unauthorized)
            }
        }
    }

    @Test func unsupportedProtocolVersion() async throws {
        try await TestServer().test { client in
            let answer = try await client.send(.get, "/healthz", headers: [HTTPField.Name("BriefSync-Protocol")!: "3"])
            #expect(answer.status == .badRequest)
            #expect(answer.error?.code == .unsupportedProtocol)
        }
    }

    @Test func aVersionOneClientGetsTheTypedVersionAnswer() async throws {
        // Protocol 1 sent documents inside pages; it is retired. Its client is told so, typed,
        // with the version to update to, and no page is served.
        try await TestServer().test { client in
            let token = try await client.register("anna")
            try await client.publish(try TestServer.example())
            let answer = try await client.send(
                .get,
                "/v1/changes",
                token: token,
                headers: [HTTPField.Name("BriefSync-Protocol")!: "1"]
            )
            #expect(answer.status == .badRequest)
            #expect(answer.error?.code == .unsupportedProtocol)
            #expect(answer.error?.message.contains("protocol 2") == true)
        }
    }
}
