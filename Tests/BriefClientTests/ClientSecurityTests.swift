import BriefClient
import BriefHTTP
import BriefHTTPNIO
import BriefModel
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing

/// What the client refuses of a server: redirects (which could carry the session elsewhere),
/// plain HTTP to another machine, and waits longer than it will keep.
@Suite struct ClientSecurityTests {
    /// A server that counts the requests it gets with an `Authorization` header.
    final class Witness: Sendable {
        let seen = NIOLockedValueBox(0)
    }

    /// Runs `body` with a server that redirects `/v1/topics` to another origin (the witness's
    /// server on another port) and answers `/v1/sessions/current` with 503 and a huge Retry-After.
    static func withRedirectingServer(_ body: @escaping @Sendable (URL, Witness) async throws -> Void) async throws {
        let witness = Witness()
        let elsewhere = Router()
        elsewhere.get("/v1/topics") { request, _ -> Response in
            if request.headers[.authorization] != nil {
                witness.seen.withLockedValue { $0 += 1 }
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"topics":[]}"#)))
        }
        try await Application(router: elsewhere, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            .test(.live) { other in
                let target = "http://127.0.0.1:\(try #require(other.port))/v1/topics"
                let router = Router()
                router.get("/v1/topics") { _, _ -> Response in
                    Response(status: .found, headers: [.location: target])
                }
                router.delete("/v1/sessions/current") { _, _ -> Response in
                    Response(status: .serviceUnavailable, headers: [.retryAfter: "99999999"])
                }
                try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
                    .test(.live) { client in
                        try await body(URL(string: "http://127.0.0.1:\(try #require(client.port))")!, witness)
                    }
            }
    }

    @Test func neitherStackFollowsARedirectToAnotherOrigin() async throws {
        try await Self.withRedirectingServer { server, witness in
            let nio = try NIOHTTPRequester(additionalCAFile: nil)
            defer { Task { try? await nio.shutdown() } }
            for requester in [URLSessionRequester(), nio] as [any HTTPRequester] {
                let client = BriefServiceClient(baseURL: server, requester: requester)
                do {
                    _ = try await client.topics(token: "bs1_the-session-token")
                    Issue.record("\(type(of: requester)) followed the redirect")
                } catch let error as TransportError {
                    #expect(error.kind == .status(302))
                    #expect(error.message.contains("redirects to http://127.0.0.1:"))
                }
            }
            #expect(witness.seen.withLockedValue { $0 } == 0)  // the token never reached the other origin
        }
    }

    @Test func aRetryAfterIsKeptWithinAnHour() async throws {
        try await Self.withRedirectingServer { server, _ in
            do {
                try await BriefServiceClient(baseURL: server).logout(token: "bs1_the-session-token")
                Issue.record("a 503 was taken for success")
            } catch let error as TransportError {
                #expect(error.retryAfter == .seconds(3_600))
            }
        }
    }

    @Test func plainHTTPToAnotherMachineIsRefusedUnlessAllowed() async throws {
        let elsewhere = URL(string: "http://192.0.2.10:8080")!  // TEST-NET-1: nothing answers there
        let transport = HTTPSyncTransport(baseURL: elsewhere, sessionToken: "bs1_the-session-token", timeout: 2)
        do {
            _ = try await transport.changes(ChangesRequest(since: nil, limit: 10))
            Issue.record("plain HTTP to another machine was sent")
        } catch let error as TransportError {
            #expect(error.kind == .untrustedServer)
            #expect(error.message.contains("--allow-insecure-http"))
        }
        // Allowed, the request is made (and, there being nothing there, fails otherwise)
        let allowed = HTTPSyncTransport(
            baseURL: elsewhere,
            sessionToken: "bs1_the-session-token",
            timeout: 1,
            allowInsecureHTTP: true
        )
        do {
            _ = try await allowed.changes(ChangesRequest(since: nil, limit: 10))
        } catch let error as TransportError {
            #expect(error.kind != .untrustedServer)
        }
        #expect(
            LoopbackHost.contains("127.0.0.1") && LoopbackHost.contains("[::1]") && LoopbackHost.contains("localhost")
        )
        #expect(!LoopbackHost.contains("192.0.2.10") && !LoopbackHost.contains("localhost.example.com"))
    }

    @Test func briefDeviceRefusesPlainHTTPToAnotherMachine() async throws {
        let home = try TemporaryHome()
        let login = try await BriefDeviceProcess.run(
            ["--home", home.path, "login", "--server", "http://192.0.2.10:8080", "--user", "anna"],
            environment: ["BRIEFSYNC_PASSWORD": "correct horse battery"]
        )
        #expect(login.code == 1)
        #expect(
            login.stderr.contains("plain HTTP to another machine") && login.stderr.contains("--allow-insecure-http")
        )
    }
}
