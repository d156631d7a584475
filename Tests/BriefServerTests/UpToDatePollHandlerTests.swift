import BriefModel
import BriefToken
import Foundation
import HTTPTypes
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Prometheus
import Testing

@testable import BriefServer

/// `UpToDatePollHandler`: the polls of clients already up to date, answered on the event loop
/// before Hummingbird, and their long-polls parked in the notifier's table. What must hold: it
/// answers exactly what the route would answer and nothing else; everything it cannot answer
/// reaches Hummingbird unchanged and in order; a parked long-poll ends at its deadline, on a
/// change, at shutdown or when its connection closes, and never stays held.
@Suite struct UpToDatePollHandlerTests {
    @Test func anUpToDatePollIsAnsweredWithTheKeptAnswerAndCountedAsTheRouteCountsIt() async throws {
        let fixture = try await PollFixture()
        let channel = try await fixture.channel()

        try await channel.send(PollFixture.poll(headers: [EdgeMiddleware.requestIDHeader: "client-id-1"]))
        let answer = try #require(try await channel.answer())
        #expect(answer.head.status == .ok)
        #expect(answer.body == PollFixture.kept.body)
        let fields = answer.head.headerFields
        #expect(
            fields.map(\.name.canonicalName) == [
                "etag", "content-type", "content-length", "x-request-id", "briefsync-protocol", "cache-control", "date",
                "server",
            ]
        )
        #expect(fields[.eTag] == PollFixture.kept.etag)
        #expect(fields[.contentLength] == String(PollFixture.kept.body.readableBytes))
        #expect(fields[EdgeMiddleware.requestIDHeader] == "client-id-1")
        #expect(fields[.cacheControl] == "private, no-store")
        #expect(fields[.server] == "brief-server")
        #expect(try await channel.forwarded().isEmpty)

        // If-None-Match naming the answer: 304 without a body; a generated request id; the
        // Connection: keep-alive most clients send
        try await channel.send(
            PollFixture.poll(headers: [.ifNoneMatch: PollFixture.kept.etag, .connection: "Keep-Alive"])
        )
        let notModified = try #require(try await channel.answer())
        #expect(notModified.head.status == .notModified && notModified.body == nil)
        #expect(notModified.head.headerFields[.contentLength] == "0")
        #expect(notModified.head.headerFields[EdgeMiddleware.requestIDHeader]?.utf8.count ?? 0 >= 16)

        let metrics = fixture.metricsText()
        #expect(metrics.contains(#"briefsync_http_requests_total{route="/v1/changes",method="GET",status="200"} 1"#))
        #expect(metrics.contains(#"briefsync_http_requests_total{route="/v1/changes",method="GET",status="304"} 1"#))
        #expect(metrics.contains("briefsync_polls_answered_on_event_loop_total 2"))
    }

    @Test(arguments: PassThroughCase.all)
    func whatItCannotAnswerExactlyReachesHummingbirdUnchanged(_ passing: PassThroughCase) async throws {
        let fixture = try await PollFixture()
        let channel = try await fixture.channel()
        if passing.name == "the user's generation moved" {
            fixture.environment.notifier.notify(user: PollFixture.user)
        }
        if passing.name == "a session the cache does not hold" {
            fixture.environment.sessions.forget(tokenHash: SessionTokens.hash(PollFixture.token))
        }

        try await channel.send(passing.request, body: passing.body)
        let forwarded = try await channel.forwarded()
        var expected: [HTTPRequestPart] = [.head(try HTTPRequest.asHummingbirdReadsIt(passing.request))]
        if let body = passing.body {
            expected.append(.body(body))
        }
        expected.append(.end(nil))
        #expect(forwarded == expected, "\(passing.name)")
        #expect(try await channel.answer() == nil, "\(passing.name)")
    }

    @Test func itReadsHTTP1FieldsAsTheRoutesDoOrLeavesTheRequestToThem() async throws {
        let fixture = try await PollFixture()
        let channel = try await fixture.channel()
        let poll = try HTTPRequestHead(PollFixture.poll())

        // names in any case are the same names
        var shouting = poll
        shouting.headers = HTTPHeaders(poll.headers.map { ($0.name.uppercased(), $0.value) })
        try await channel.send(head: shouting)
        #expect(try await channel.answer()?.head.status == .ok)

        // what the routes would read otherwise than it would be read here goes to them
        var http10 = poll
        http10.version = .http1_0
        var unsupported = poll
        unsupported.headers.add(name: "BRIEFSYNC-PROTOCOL", value: "99")
        var padded = poll
        padded.headers.replaceOrAdd(name: "authorization", value: "Bearer \(PollFixture.token) ")
        var control = poll
        control.headers.add(name: "If-None-Match", value: "\(PollFixture.kept.etag)\u{7F}")
        for (name, head) in [("HTTP/1.0", http10), ("protocol", unsupported), ("padded", padded), ("control", control)]
        {
            try await channel.send(head: head)
            #expect(try await channel.forwarded().count == 2, "\(name)")
            #expect(try await channel.answer() == nil, "\(name)")
            try await channel.hummingbirdAnswers()
        }
    }

    @Test func aRepeatedPollIsStillCheckedForItsSessionAndItsToken() async throws {
        let fixture = try await PollFixture()
        let channel = try await fixture.channel()
        try await channel.send(PollFixture.poll())
        #expect(try await channel.answer()?.head.status == .ok)

        // The same request again on the connection, with the publisher key: handed on
        var publisher = PollFixture.poll()
        publisher.headerFields[.authorization] = "Bearer \(PollFixture.publisherKey)"
        try await channel.send(publisher)
        #expect(try await channel.forwarded().count == 2)
        try await channel.hummingbirdAnswers()

        // The same request as the first, once its session is logged out here: handed on
        fixture.environment.sessions.forget(tokenHash: SessionTokens.hash(PollFixture.token))
        try await channel.send(PollFixture.poll())
        #expect(try await channel.forwarded().count == 2)
        #expect(try await channel.answer() == nil)
    }

    @Test func aPollBehindARequestStillWithHummingbirdWaitsItsTurn() async throws {
        let fixture = try await PollFixture()
        let channel = try await fixture.channel()

        // Given a request Hummingbird has not answered yet, a pipelined poll goes to it too
        let topics = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/v1/topics")
        try await channel.send(topics)
        try await channel.send(PollFixture.poll())
        #expect(try await channel.forwarded().count == 4)
        #expect(try await channel.answer() == nil)

        // Once both are answered to their end, the next poll is answered here again
        try await channel.hummingbirdAnswers()
        try await channel.hummingbirdAnswers()
        try await channel.send(PollFixture.poll())
        #expect(try await channel.answer()?.head.status == .ok)
        #expect(try await channel.forwarded().isEmpty)
    }

    @Test(.timeLimit(.minutes(1))) func aParkedLongPollGetsTheKeptAnswerAtItsDeadline() async throws {
        let fixture = try await PollFixture()
        let channel = try await fixture.channel()
        let notifier = fixture.environment.notifier

        try await channel.send(PollFixture.poll(wait: 1))
        #expect(try await channel.answer() == nil)
        #expect(notifier.heldCount == 1)
        #expect(try await channel.forwarded().isEmpty)

        // not before its deadline
        try await waitUntil { fixture.clock.sleepers == 1 }
        fixture.clock.advance(by: .milliseconds(900))
        try await waitUntil { fixture.clock.sleepers == 1 }
        await channel.testingEventLoop.run()
        #expect(try await channel.answer() == nil)
        #expect(notifier.heldCount == 1)

        fixture.clock.advance(by: .milliseconds(100))
        let answer = try await channel.waitForAnswer()
        #expect(answer.head.status == .ok && answer.body == PollFixture.kept.body)
        #expect(notifier.heldCount == 0)
    }

    @Test func aChangeSendsAParkedLongPollOnWithWhatIsLeftOfItsWait() async throws {
        let fixture = try await PollFixture()
        let channel = try await fixture.channel()
        let notifier = fixture.environment.notifier

        try await channel.send(PollFixture.poll(wait: 30))
        #expect(notifier.heldCount == 1)
        // Another user's change does not concern it
        notifier.notify(user: PollFixture.user + 1)
        await channel.testingEventLoop.run()
        #expect(notifier.heldCount == 1)
        #expect(try await channel.forwarded().isEmpty)

        // 1.5 s later, the user's own change: the poll goes on with the 28 whole seconds left
        fixture.clock.advance(by: .milliseconds(1500))
        notifier.notify(user: PollFixture.user)
        await channel.testingEventLoop.run()
        let forwarded = try await channel.forwarded()
        #expect(notifier.heldCount == 0)
        #expect(try await channel.answer() == nil)
        guard forwarded.count == 2, case .head(let head) = forwarded[0], case .end(nil) = forwarded[1] else {
            Issue.record("expected the poll handed on whole, got \(forwarded)")
            return
        }
        #expect(head.path == "/v1/changes?since=\(PollFixture.since)&wait=28")
        #expect(head.headerFields == PollFixture.poll(wait: 30).headerFields)
    }

    @Test func aPollBeyondTheUsersCapGoesToTheRouteThatRefusesIt() async throws {
        let fixture = try await PollFixture(maxLongPollsPerUser: 1)
        let first = try await fixture.channel()
        try await first.send(PollFixture.poll(wait: 30))
        #expect(fixture.environment.notifier.heldCount == 1)
        #expect(try await first.forwarded().isEmpty)

        // the second is neither answered nor parked here: the route answers 429, as without this handler
        let second = try await fixture.channel()
        try await second.send(PollFixture.poll(wait: 30))
        #expect(fixture.environment.notifier.heldCount == 1)
        #expect(try await second.answer() == nil)
        let forwarded = try await second.forwarded()
        guard forwarded.count == 2, case .head(let head) = forwarded[0] else {
            Issue.record("expected the poll handed on whole, got \(forwarded)")
            return
        }
        #expect(head.path == "/v1/changes?since=\(PollFixture.since)&wait=30")
    }

    @Test func aParkedLongPollIsAnsweredWhenTheServerShutsDown() async throws {
        // Through the notifier (its releaseAll at shutdown)…
        let fixture = try await PollFixture()
        let channel = try await fixture.channel()
        try await channel.send(PollFixture.poll(wait: 30))
        fixture.environment.notifier.releaseAll()
        await channel.testingEventLoop.run()
        #expect(try await channel.answer()?.body == PollFixture.kept.body)

        // …and through Hummingbird's quiesce event, which reaches the next handler only after the answer
        let second = try await PollFixture()
        let recorder = EventRecorder()
        let quiescing = try await second.channel(then: recorder)
        try await quiescing.send(PollFixture.poll(wait: 30))
        quiescing.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        await quiescing.testingEventLoop.run()
        #expect(try await quiescing.answer()?.body == PollFixture.kept.body)
        #expect(recorder.events == ["ChannelShouldQuiesceEvent"])
        #expect(second.environment.notifier.heldCount == 0)
        #expect(second.metricsText().contains("briefsync_longpolls_held 0"))
    }

    @Test func aClosedConnectionLeavesNothingParked() async throws {
        let fixture = try await PollFixture()
        let channel = try await fixture.channel()
        try await channel.send(PollFixture.poll(wait: 30))
        #expect(fixture.environment.notifier.heldCount == 1)
        #expect(fixture.metricsText().contains("briefsync_longpolls_held 1"))
        try await channel.close()
        #expect(fixture.metricsText().contains("briefsync_longpolls_held 0"))
        #expect(fixture.environment.notifier.heldCount == 0)
        // a change afterwards wakes nothing
        fixture.environment.notifier.notify(user: PollFixture.user)
        await channel.testingEventLoop.run()
        #expect(try await channel.forwarded().isEmpty)
    }

    @Test func moreFromTheClientSendsTheParkedPollOnFirst() async throws {
        let fixture = try await PollFixture()
        let channel = try await fixture.channel()
        try await channel.send(PollFixture.poll(wait: 30))
        let topics = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/v1/topics")
        try await channel.send(topics)

        let forwarded = try await channel.forwarded()
        #expect(fixture.environment.notifier.heldCount == 0)
        // the gauge follows: the parked poll is no longer held here
        #expect(fixture.metricsText().contains("briefsync_longpolls_held 0"))
        guard forwarded.count == 4, case .head(let first) = forwarded[0], case .head(let second) = forwarded[2] else {
            Issue.record("expected two requests handed on, got \(forwarded)")
            return
        }
        #expect(first.path?.hasPrefix("/v1/changes?since=\(PollFixture.since)") == true)
        #expect(second == (try HTTPRequest.asHummingbirdReadsIt(topics)))
        #expect(try await channel.answer() == nil)
    }

    @Test func withTheSessionCacheOffNoPollIsAnsweredHere() async throws {
        let sessions = SessionCache(lifetime: 0, clock: ManualWallClock())
        let record = PollFixture.session
        #expect(try await sessions.session(tokenHash: record.tokenHash) { record } == record)
        // --session-cache 0s: the handler never finds a session, so every poll goes to the routes
        #expect(sessions.cached(tokenHash: record.tokenHash) == nil)
    }

    @Test func theWaitOfAPollHandedOnIsRewrittenInPlace() {
        #expect(
            UpToDatePollHandler.path("/v1/changes?since=a&wait=25&limit=5", wait: 3)
                == "/v1/changes?since=a&limit=5&wait=3"
        )
        #expect(UpToDatePollHandler.path("/v1/changes?wait=1&wait=2&since=b", wait: 0) == "/v1/changes?since=b&wait=0")
        #expect(UpToDatePollHandler.path("/v1/changes", wait: 4) == "/v1/changes?wait=4")
    }

    @Test func theDateHeaderIsAnIMFFixdate() {
        var parts = tm()
        parts.tm_wday = 0
        parts.tm_mday = 6
        parts.tm_mon = 10
        parts.tm_year = 126
        parts.tm_hour = 8
        parts.tm_min = 49
        parts.tm_sec = 37
        #expect(HTTPDateCache.format(parts) == "Sun, 06 Nov 2026 08:49:37 GMT")
        #expect(HTTPDateCache().now().hasSuffix(" GMT"))
    }
}

/// A request the handler must hand on as it came.
struct PassThroughCase: Sendable, CustomTestStringConvertible {
    let name: String
    let request: HTTPRequest
    var body: ByteBuffer? = nil

    var testDescription: String { name }

    static var all: [PassThroughCase] {
        let poll = PollFixture.poll()
        func with(_ name: HTTPField.Name, _ value: String) -> HTTPRequest {
            var request = poll
            request.headerFields[name] = value
            return request
        }
        func path(_ path: String) -> HTTPRequest {
            var request = poll
            request.path = path
            return request
        }
        var post = poll
        post.method = .post
        var anonymous = poll
        anonymous.headerFields[.authorization] = nil
        func twice(_ name: HTTPField.Name) -> HTTPRequest {
            var request = poll
            request.headerFields[values: name] = [poll.headerFields[name] ?? "x", poll.headerFields[name] ?? "x"]
            return request
        }
        return [
            PassThroughCase(name: "another token than the kept answer's", request: path("/v1/changes?since=other")),
            PassThroughCase(name: "no token", request: path("/v1/changes")),
            PassThroughCase(name: "the user's generation moved", request: poll),
            PassThroughCase(name: "a session the cache does not hold", request: poll),
            PassThroughCase(name: "no session", request: anonymous),
            PassThroughCase(
                name: "the publisher key",
                request: with(.authorization, "Bearer \(PollFixture.publisherKey)")
            ),
            PassThroughCase(name: "another method", request: post),
            PassThroughCase(name: "another path", request: path("/v1/changes/?since=\(PollFixture.since)")),
            PassThroughCase(name: "an unsupported protocol", request: with(EdgeMiddleware.protocolHeader, "99")),
            PassThroughCase(
                name: "a wait out of range",
                request: path("/v1/changes?since=\(PollFixture.since)&wait=9999")
            ),
            PassThroughCase(name: "a bad limit", request: path("/v1/changes?since=\(PollFixture.since)&limit=0")),
            PassThroughCase(
                name: "a percent-encoded query",
                request: path("/v1/changes?since=\(PollFixture.since)%41")
            ),
            PassThroughCase(name: "Connection: close", request: with(.connection, "close")),
            PassThroughCase(name: "Connection: upgrade", request: with(.connection, "keep-alive, upgrade")),
            PassThroughCase(name: "a body", request: poll, body: ByteBuffer(string: "{}")),
            // the routes would read the two values joined
            PassThroughCase(name: "Authorization twice", request: twice(.authorization)),
            PassThroughCase(name: "If-None-Match twice", request: twice(.ifNoneMatch)),
        ]
    }
}

/// A handler with a session in the cache and a kept answer for its user, on a testing channel.
struct PollFixture {
    static let token = "bs1_anna-phone-session-token"
    static let publisherKey = "publisher-key-0123456789012345"
    static let since = "kept-next-token"
    static let user: UserID = 7
    static let session = SessionRecord(
        tokenHash: SessionTokens.hash(token),
        id: "s-0000000000000007",
        userID: user,
        username: "anna",
        deviceID: DeviceID(rawValue: "phone")!,
        deviceName: nil,
        createdAt: ManualWallClock().now()
    )
    static let kept = UpToDateCache.Answer(
        body: ByteBuffer(string: #"{"briefs":[],"hasMore":false,"nextToken":"kept-next-token"}"#),
        etag: "\"0123456789abcdef\"",
        nextToken: since
    )

    let registry = PrometheusCollectorRegistry()
    let environment: ServerEnvironment

    /// The time long-polls are held by, moved by the tests.
    let clock = ManualWaitClock()

    init(maxLongPollsPerUser: Int? = nil) async throws {
        var configuration = ServerConfiguration()
        configuration.publisherKey = Self.publisherKey
        let clock = ManualWallClock()
        let metrics = ServerMetrics(factory: PrometheusMetricsFactory(registry: registry))
        environment = ServerEnvironment(
            configuration: configuration,
            store: try openStore(.sqliteInMemory),
            clock: clock,
            tokens: try ChangeTokenCodec(secret: Array(repeating: 7, count: 32)),
            notifier: ChangeNotifier(
                maxHeldPerUser: maxLongPollsPerUser,
                clock: self.clock,
                heldCountChanged: { metrics.longPollsHeld($0) }
            ),
            sessions: SessionCache(lifetime: 60_000, clock: clock),
            upToDate: UpToDateCache(),
            limiter: LoginRateLimiter(),
            metrics: metrics,
            applier: PushApplier(),
            publisherKeyHash: SessionTokens.hash(Self.publisherKey),
            decoyPasswordHash: "$2b$04$" + String(repeating: "a", count: 53)
        )
        let session = Self.session
        _ = try await environment.sessions.session(tokenHash: session.tokenHash) { session }
        environment.upToDate.remember(
            Self.kept,
            for: Self.user,
            epoch: 1,
            since: FeedCursor(content: 0, state: 0),
            next: FeedCursor(content: 10, state: 0),
            generation: environment.notifier.generation(for: Self.user)
        )
    }

    static func poll(wait: Int? = nil, headers: HTTPFields = [:]) -> HTTPRequest {
        var fields = headers
        fields[.authorization] = "Bearer \(token)"
        let query = "since=\(since)" + (wait.map { "&wait=\($0)" } ?? "")
        return HTTPRequest(
            method: .get,
            scheme: nil,
            authority: nil,
            path: "/v1/changes?\(query)",
            headerFields: fields
        )
    }

    func channel(then next: EventRecorder? = nil) async throws -> NIOAsyncTestingChannel {
        let polls = UpToDatePolls(environment: environment, logger: .init(label: "test"), serverName: "brief-server")
        return try await NIOAsyncTestingChannel { channel in
            // as BriefHTTP1Channel places it: before the codec to swift-http-types
            try channel.pipeline.syncOperations.addHandler(polls.makeHandler())
            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            if let next {
                try channel.pipeline.syncOperations.addHandler(next)
            }
        }
    }

    func metricsText() -> String {
        registry.exposition
    }
}

/// Records the user events that pass it.
final class EventRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPRequestPart
    private let recorded = NIOLockedValueBox<[String]>([])

    var events: [String] { recorded.withLockedValue { $0 } }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        recorded.withLockedValue { $0.append(String(describing: type(of: event))) }
    }
}

extension NIOAsyncTestingChannel {
    func send(_ request: HTTPRequest, body: ByteBuffer? = nil) async throws {
        try await writeInbound(HTTPServerRequestPart.head(try HTTPRequestHead(request)))
        if let body {
            try await writeInbound(HTTPServerRequestPart.body(body))
        }
        try await writeInbound(HTTPServerRequestPart.end(nil))
    }

    func send(head: HTTPRequestHead) async throws {
        try await writeInbound(HTTPServerRequestPart.head(head))
        try await writeInbound(HTTPServerRequestPart.end(nil))
    }

    /// What reached the handlers after the poll handler (Hummingbird's side).
    func forwarded() async throws -> [HTTPRequestPart] {
        var parts: [HTTPRequestPart] = []
        while let part = try await readInbound(as: HTTPRequestPart.self) {
            parts.append(part)
        }
        return parts
    }

    struct Answer: Equatable {
        var head: HTTPResponse
        var body: ByteBuffer?
    }

    /// The answer written to the client, if one was.
    func answer() async throws -> Answer? {
        guard case .head(let head)? = try await readOutbound(as: HTTPServerResponsePart.self) else {
            return nil
        }
        var answer = Answer(head: try HTTPResponse(head), body: nil)
        while let part = try await readOutbound(as: HTTPServerResponsePart.self) {
            switch part {
            case .body(.byteBuffer(let body)): answer.body = body
            case .body: Issue.record("a body that is not a buffer")
            case .end: return answer
            case .head: Issue.record("a second head before the end")
            }
        }
        Issue.record("an answer without its end")
        return answer
    }

    /// The answer, once the event loop has one (the notifier wakes parked polls from its sweeper).
    func waitForAnswer() async throws -> Answer {
        while true {
            await testingEventLoop.run()
            if let answer = try await answer() {
                return answer
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Hummingbird writing an answer to its end.
    func hummingbirdAnswers() async throws {
        try await writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try await writeOutbound(HTTPResponsePart.end(nil))
        _ = try await readOutbound(as: HTTPServerResponsePart.self)
        _ = try await readOutbound(as: HTTPServerResponsePart.self)
    }
}

extension HTTPRequest {
    /// `request` as Hummingbird reads it after it went over HTTP/1 and through the codec.
    static func asHummingbirdReadsIt(_ request: HTTPRequest) throws -> HTTPRequest {
        try HTTPRequest(HTTPRequestHead(request), secure: false, splitCookie: false)
    }
}
