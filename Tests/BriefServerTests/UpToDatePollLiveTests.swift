import BriefModel
import Foundation
import HTTPTypes
import HummingbirdTesting
import InMemoryLogging
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import BriefServer

/// The poll handler in the real server, over real sockets: an up-to-date poll answered on the
/// event loop looks exactly like the route's answer, pipelined answers keep their order, and a
/// parked long-poll is answered when the server shuts down rather than cut off.
@Suite struct UpToDatePollLiveTests {
    @Test func theEventLoopsAnswerIsTheRoutesAnswer() async throws {
        let server = try TestServer()
        try await server.test(.live) { client in
            let port = try #require(client.client.port)
            let token = try await client.register("anna")
            try await client.publish(try TestServer.brief("b-1"))
            let first = try await client.changes(token).decode(ChangesPageV2.self)
            let poll =
                "GET /v1/changes?since=\(first.nextToken) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n"

            // The first up-to-date poll goes through the routes (and keeps its answer), the second not
            // (one after the other: a poll pipelined behind another goes to the routes too)
            let routes = try #require(try await RawHTTP.exchange(port: port, poll, answers: 1).first)
            let eventLoop = try #require(try await RawHTTP.exchange(port: port, poll, answers: 1).first)
            #expect(routes.statusLine == "HTTP/1.1 200 OK")
            RawHTTP.expectSame(eventLoop, routes)
            #expect(!routes.body.isEmpty)
            #expect(server.metricsText().contains("briefsync_polls_answered_on_event_loop_total 1"))

            // The same for a 304: the routes answer it when a field it reads comes twice
            let etag = try #require(routes.headers.first { $0.name.lowercased() == "etag" }?.value)
            let conditional = poll.replacingOccurrences(of: "\r\n\r\n", with: "\r\nIf-None-Match: \(etag)\r\n\r\n")
            let twice = conditional.replacingOccurrences(
                of: "\r\n\r\n",
                with: "\r\nX-Request-Id: a\r\nX-Request-Id: b\r\n\r\n"
            )
            let routes304 = try #require(try await RawHTTP.exchange(port: port, twice, answers: 1).first)
            let eventLoop304 = try #require(try await RawHTTP.exchange(port: port, conditional, answers: 1).first)
            #expect(routes304.statusLine == "HTTP/1.1 304 Not Modified")
            RawHTTP.expectSame(eventLoop304, routes304)
            #expect(server.metricsText().contains("briefsync_polls_answered_on_event_loop_total 2"))
        }
    }

    @Test func theEventLoopsAnswerIsLoggedAsTheRoutesAnswerIs() async throws {
        let server = try TestServer { $0.logLevel = .info }
        var records = InMemoryLogHandler()
        records.logLevel = .trace
        let logger = Logger(label: "test") { [records] _ in records }
        try await server.test(.live, logger: logger) { client in
            let port = try #require(client.client.port)
            let token = try await client.register("anna")
            let first = try await client.changes(token).decode(ChangesPageV2.self)
            let poll =
                "GET /v1/changes?since=\(first.nextToken) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
                + "X-Request-Id: poll-1\r\n\r\n"
            // Connection: close is left to the routes; keep-alive is answered on the event loop
            let close = poll.replacingOccurrences(of: "Host: x\r\n", with: "Host: x\r\nConnection: close\r\n")
            let keepAlive = poll.replacingOccurrences(of: "Host: x\r\n", with: "Host: x\r\nConnection: keep-alive\r\n")
                .replacingOccurrences(of: "poll-1", with: "poll-2")
            #expect(try await RawHTTP.exchange(port: port, close, answers: 1).first?.statusLine == "HTTP/1.1 200 OK")
            #expect(
                try await RawHTTP.exchange(port: port, keepAlive, answers: 1).first?.statusLine == "HTTP/1.1 200 OK"
            )
        }
        #expect(server.metricsText().contains("briefsync_polls_answered_on_event_loop_total 1"))
        let answered = records.entries.filter {
            $0.message == "Answered request" && $0.metadata["hb.request.id"]?.description.hasPrefix("poll-") == true
        }
        #expect(answered.count == 2)
        guard answered.count == 2 else { return }
        let (routes, eventLoop) = (answered[0], answered[1])
        #expect(routes.level == .info && eventLoop.level == .info)
        #expect(Set(routes.metadata.keys) == Set(eventLoop.metadata.keys))
        for key in ["http.method", "http.route", "http.status", "client.address"] {
            #expect(routes.metadata[key] != nil && routes.metadata[key] == eventLoop.metadata[key], "\(key)")
        }
        #expect(eventLoop.metadata["hb.request.id"] == "poll-2")
    }

    @Test func pipelinedAnswersKeepTheirOrder() async throws {
        let server = try TestServer()
        try await server.test(.live) { client in
            let port = try #require(client.client.port)
            let token = try await client.register("anna")
            let first = try await client.changes(token).decode(ChangesPageV2.self)
            _ = try await client.changes(token, since: first.nextToken)  // keeps the up-to-date answer
            let auth = "Host: x\r\nAuthorization: Bearer \(token)\r\n"
            let requests =
                "GET /v1/topics HTTP/1.1\r\n\(auth)\r\n"
                + "GET /v1/changes?since=\(first.nextToken) HTTP/1.1\r\n\(auth)\r\n"
                + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /v1/changes?since=\(first.nextToken)&wait=1 HTTP/1.1\r\n\(auth)\r\n"
                + "GET /v1/topics HTTP/1.1\r\n\(auth)\r\n"

            let answers = try await RawHTTP.exchange(port: port, requests, answers: 5)
            #expect(answers.count == 5)
            let bodies = answers.map { String(decoding: $0.body, as: UTF8.self) }
            #expect(bodies.count == 5)
            guard bodies.count == 5 else { return }
            #expect(bodies[0].contains("\"topics\""))
            #expect(bodies[1].contains("\"nextToken\""))
            #expect(bodies[2].contains("\"status\""))
            #expect(bodies[3].contains("\"nextToken\""))
            #expect(bodies[4].contains("\"topics\""))
        }
    }

    @Test(.timeLimit(.minutes(1))) func aParkedLongPollIsAnsweredWhenTheServerShutsDown() async throws {
        let server = try TestServer()
        let pending = try await server.test(.live) { client in
            let port = try #require(client.client.port)
            let token = try await client.register("anna")
            let first = try await client.changes(token).decode(ChangesPageV2.self)
            _ = try await client.changes(token, since: first.nextToken)
            let poll =
                "GET /v1/changes?since=\(first.nextToken)&wait=25 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n"
            let answer = Task { try await RawHTTP.exchange(port: port, poll, answers: 1) }
            // parked once the notifier holds it
            while server.heldCount() == 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            return (answer, ContinuousClock.now)
        }
        // the test server has shut down gracefully: the parked poll got its answer, not a cut connection
        let answers = try await pending.0.value
        #expect(answers.first?.statusLine == "HTTP/1.1 200 OK")
        let body = answers.first.map { String(decoding: $0.body, as: UTF8.self) } ?? ""
        #expect(body.contains("\"nextToken\""))
        #expect(ContinuousClock.now - pending.1 < .seconds(20))
    }
}

/// HTTP/1.1 over a plain blocking socket, to send exactly these bytes (pipelined requests
/// included) and read the answers as they come.
enum RawHTTP {
    struct Answer: Sendable {
        var statusLine: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]
    }

    /// Checks that two answers are the same bytes but for their `Date` and `X-Request-Id` values:
    /// the status line, the header names as written and in their order, the other values, the body.
    static func expectSame(_ answer: Answer, _ expected: Answer, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer.statusLine == expected.statusLine, sourceLocation: sourceLocation)
        #expect(answer.headers.map(\.name) == expected.headers.map(\.name), sourceLocation: sourceLocation)
        let varying: Set<String> = ["date", "x-request-id"]
        func fixed(_ answer: Answer) -> [String] {
            answer.headers.filter { !varying.contains($0.name.lowercased()) }.map(\.value)
        }
        #expect(fixed(answer) == fixed(expected), sourceLocation: sourceLocation)
        #expect(answer.body == expected.body, sourceLocation: sourceLocation)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends `requests` on one connection and reads `answers` answers (each with a Content-Length).
    /// The socket blocks a thread of its own, never one of the concurrency pool that the server
    /// in this process needs to answer.
    static func exchange(port: Int, _ requests: String, answers count: Int) async throws -> [Answer] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try blockingExchange(port: port, requests, answers: count) })
            }.start()
        }
    }

    private static func blockingExchange(port: Int, _ requests: String, answers count: Int) throws -> [Answer] {
        let socket = try RawSocket(port: port, timeout: 30)
        try socket.send(requests)
        var received: [UInt8] = []
        var answers: [Answer] = []
        while answers.count < count {
            if let (answer, used) = parse(received) {
                answers.append(answer)
                received.removeFirst(used)
                continue
            }
            let chunk = socket.receive()
            guard !chunk.isEmpty else {
                break
            }
            received += chunk
        }
        return answers
    }

    private static func parse(_ bytes: [UInt8]) -> (Answer, Int)? {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
            return nil
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let headers = lines.dropFirst().map { line -> (name: String, value: String) in
            // why not split: a line of only ":" splits into nothing, and subscripting that would
            // crash the whole test process instead of failing this test
            guard let colon = line.firstIndex(of: ":") else {
                return (line, "")
            }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        let bodyStart = end + separator.count
        guard bytes.count >= bodyStart + length else {
            return nil
        }
        return (
            Answer(statusLine: lines[0], headers: headers, body: Array(bytes[bodyStart..<bodyStart + length])),
            bodyStart + length
        )
    }
}
