import BriefModel
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Answers the polls of clients that are already up to date on the connection's event loop,
/// before Hummingbird hands the request to a task, and parks their long-polls as an entry in the
/// ``ChangeNotifier``'s table instead of a suspended request.
///
/// Most polls find nothing new, and for those the server already keeps the answer
/// (``UpToDateCache``). Handing such a poll to Swift concurrency and back cost more than the
/// rest of it (about half of the samples under load, BENCHMARKS.md), and a held long-poll kept
/// a task with the frames of the middleware chain alive for its whole wait.
///
/// It answers only what it can answer exactly as the routes would: the same status, headers and
/// body, the same metrics and log line. Anything else goes on to Hummingbird untouched:
/// - only an HTTP/1.1 `GET /v1/changes` without a body and with no `Connection` but `keep-alive`,
///   with a query of plain characters that ``ChangesRoutes/Query`` accepts and a `since` token;
/// - each field it reads sent once, with a value swift-http-types keeps as it is (so that the
///   routes would read the same);
/// - a supported `BriefSync-Protocol`, and a bearer token whose session the ``SessionCache``
///   holds fresh (never the publisher key): the store is never waited for here;
/// - a `since` that is byte for byte the user's kept answer's `nextToken`, at the user's
///   current generation, while answers can be cached;
/// - and no earlier request of the connection still with Hummingbird, so that pipelined answers
///   keep their order.
///
/// What it answers, and how long it holds a poll, is decided by the ``UpToDatePollResponder``
/// the route asks too. A long-poll (`wait` > 0) that has a kept answer is parked with
/// ``UpToDatePollResponder/park(_:after:until:wake:)``. At its deadline, or when the server shuts
/// down, it gets the kept answer. When something changed for the user, or the user already has as
/// many long-polls held as allowed, it goes on to Hummingbird with what is left of its wait, and
/// the route reads the feed (or refuses) as for any poll. If the client
/// sends anything more on the connection meanwhile, the parked request goes on to Hummingbird
/// first, for the same reason.
final class UpToDatePollHandler: ChannelDuplexHandler, RemovableChannelHandler {
    // why HTTP/1 parts: it sits before the codec to swift-http-types (BriefHTTP1Channel), so
    // that an answered poll is not converted to and from those types (10% of its time, perf)
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// A poll this handler may answer: everything is checked but the kept answer.
    struct Poll {
        let head: HTTPRequestHead
        let session: SessionRecord
        let since: String
        let wait: Int
        /// The client's own `X-Request-Id`, when it is safe to keep.
        let requestID: String?
        let ifNoneMatch: String?
        let started: ContinuousClock.Instant
    }

    private enum State {
        case idle
        /// A poll's head was read; its end decides.
        case reading(Poll)
        case parked(Poll, ChangeNotifier.Parking, ticket: UInt64, deadline: ContinuousClock.Instant)
    }

    private let polls: UpToDatePolls
    private var state = State.idle
    /// Requests passed on to Hummingbird whose answer has not been written to its end.
    private var forwarded = 0
    /// Numbers each parking, so that a late wake-up of an earlier one is ignored.
    private var tickets: UInt64 = 0
    private var context: ChannelHandlerContext?

    init(_ polls: UpToDatePolls) {
        self.polls = polls
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        takeBackParked()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        takeBackParked()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch state {
        case .idle:
            if case .head(let head) = part {
                if forwarded == 0, let poll = poll(head) {
                    state = .reading(poll)
                } else {
                    forward(head, context: context)
                }
            } else {
                context.fireChannelRead(data)
            }
        case .reading(let poll):
            state = .idle
            if case .end(nil) = part {
                answer(poll, context: context)
            } else {
                forward(poll.head, context: context)
                context.fireChannelRead(data)
            }
        case .parked(let poll, _, _, let deadline):
            // The client sent more (pipelining): the parked request goes first, to keep the order.
            takeBackParked()
            forward(poll, waitingUntil: deadline, context: context)
            channelRead(context: context, data: data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            forwarded = max(0, forwarded - 1)
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // The server is shutting down: Hummingbird closes the connections it sees idle, so a
        // request it does not know of is answered, or handed to it, first.
        switch state {
        case .idle:
            context.fireUserInboundEventTriggered(event)
        case .reading(let poll):
            state = .idle
            forward(poll.head, context: context)
            context.fireUserInboundEventTriggered(event)
        case .parked(let poll, _, _, _):
            takeBackParked()
            let written = context.eventLoop.makePromise(of: Void.self)
            finish(poll, waitingUntil: nil, context: context, written: written)
            written.futureResult.assumeIsolated().whenComplete { _ in
                context.fireUserInboundEventTriggered(event)
            }
        }
    }

    // MARK: - Deciding

    /// The poll `head` asks for, if this handler may answer it.
    private func poll(_ head: HTTPRequestHead) -> Poll? {
        let path = head.uri
        guard head.method == .GET, head.version == .http1_1, path.hasPrefix(UpToDatePolls.pathPrefix),
            let fields = Fields(head.headers),
            fields.connection.map(Self.isKeepAlive) ?? true,
            case .success = WireProtocol.negotiate(fields.protocolVersion),
            let authorization = fields.authorization
        else {
            return nil
        }
        let accepted: AcceptedPoll
        if let last = lastAccepted, last.path == path, last.authorization == authorization {
            // a client polling on a kept-alive connection sends the same request again and again
            accepted = last
        } else {
            guard let parsed = accept(path: path, authorization: authorization) else {
                return nil
            }
            accepted = parsed
            lastAccepted = parsed
        }
        // why used recently: a session due for renewal (or expired) is the routes' to judge and renew
        guard
            let session = polls.sessions.cached(
                tokenHash: accepted.tokenHash,
                usedWithin: ServerEnvironment.touchInterval
            ),
            // a feed key is the routes' to refuse
            session.scope == .device
        else {
            return nil
        }
        return Poll(
            head: head,
            session: session,
            since: accepted.since,
            wait: accepted.wait,
            requestID: fields.requestID.flatMap(EdgeMiddleware.safeRequestID),
            ifNoneMatch: fields.ifNoneMatch,
            started: .now
        )
    }

    /// Whether a `Connection` value asks only to keep the connection (most HTTP clients send it);
    /// anything else, such as `close`, is left to Hummingbird.
    static func isKeepAlive(_ connection: String) -> Bool {
        ASCII.equalsIgnoringCase(connection.utf8, "keep-alive".utf8)
    }

    /// A path and `Authorization` this handler accepted, parsed.
    private struct AcceptedPoll {
        let path: String
        let authorization: String
        let tokenHash: [UInt8]
        let since: String
        let wait: Int
    }

    /// The last poll the connection sent that could be answered here, so that its repeats are
    /// not parsed again.
    private var lastAccepted: AcceptedPoll?

    /// Parses a poll's path and bearer token as the routes would; `nil` when not a poll to answer here.
    private func accept(path: String, authorization: String) -> AcceptedPoll? {
        // why: then the raw query is the decoded one, and the wait can be rewritten in place
        guard !path.utf8.contains(UInt8(ascii: "%")), !path.utf8.contains(UInt8(ascii: "+")),
            let token = HTTPFields.bearerToken(authorization)
        else {
            return nil
        }
        let hash = SessionTokens.hash(token)
        if let key = polls.publisherKeyHash, SessionTokens.constantTimeEquals(hash, key) {
            return nil
        }
        guard let query = try? ChangesRoutes.Query(URI(path).queryParameters, configuration: polls.configuration),
            let since = query.since
        else {
            return nil
        }
        return AcceptedPoll(path: path, authorization: authorization, tokenHash: hash, since: since, wait: query.wait)
    }

    /// Answers a poll from memory, parks it, or hands it on.
    private func answer(_ poll: Poll, context: ChannelHandlerContext) {
        let responder = polls.responder
        let user = poll.session.userID
        // why before anything else: as in the route, a change after this read outdates the answer
        let moment = responder.moment(for: user)
        guard let kept = responder.keptAnswer(for: user, since: poll.since, at: moment) else {
            forward(poll.head, context: context)
            context.fireChannelRead(wrapInboundOut(.end(nil)))
            return
        }
        let deadline = responder.deadline(waiting: poll.wait)
        guard responder.isBefore(deadline) else {
            respond(kept, to: poll, context: context, written: nil)
            return
        }
        tickets += 1
        let ticket = tickets
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        switch responder.park(
            user,
            after: moment,
            until: deadline,
            wake: { loop.execute { handler.value.woken(ticket) } }
        )
        {
        case .parked(let parking):
            state = .parked(poll, parking, ticket: ticket, deadline: deadline)
        case .passed:
            // it changed since the read above, or the server is shutting down
            finish(poll, waitingUntil: deadline, context: context, written: nil)
        case .refused:
            // the route answers that, as it answers any poll beyond the cap
            forward(poll, waitingUntil: deadline, context: context)
        }
    }

    /// The notifier called back a parked poll: a change, its deadline, or shutdown.
    private func woken(_ ticket: UInt64) {
        guard case .parked(let poll, _, let parked, let deadline) = state, parked == ticket, let context else {
            return
        }
        state = .idle
        finish(poll, waitingUntil: deadline, context: context, written: nil)
    }

    /// Ends a parked poll: with the kept answer while it holds, otherwise on to Hummingbird with
    /// what is left of its wait (none when `deadline` is `nil`).
    private func finish(
        _ poll: Poll,
        waitingUntil deadline: ContinuousClock.Instant?,
        context: ChannelHandlerContext,
        written: EventLoopPromise<Void>?
    ) {
        let responder = polls.responder
        let user = poll.session.userID
        if let kept = responder.keptAnswer(for: user, since: poll.since, at: responder.moment(for: user)) {
            respond(kept, to: poll, context: context, written: written)
        } else {
            forward(poll, waitingUntil: deadline, context: context)
            // why: Hummingbird's channel hands reads to its task only at the end of a read
            context.fireChannelReadComplete()
            written?.succeed()
        }
    }

    /// Takes a parked poll back from the notifier, if one is parked, without its wake-up; the
    /// caller ends it (or its connection is gone).
    private func takeBackParked() {
        if case .parked(_, let parking, _, _) = state {
            polls.responder.unpark(parking)
        }
        state = .idle
    }

    // MARK: - Handing on

    private func forward(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        forwarded += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// Hands a parked poll on, whole, with its `wait` cut to what is left of it.
    private func forward(_ poll: Poll, waitingUntil deadline: ContinuousClock.Instant?, context: ChannelHandlerContext)
    {
        var head = poll.head
        let left = deadline.map(polls.responder.secondsLeft(until:)) ?? 0
        head.uri = Self.path(head.uri, wait: left)
        forward(head, context: context)
        context.fireChannelRead(wrapInboundOut(.end(nil)))
    }

    /// `path` with every `wait` parameter replaced by one of `seconds`.
    static func path(_ path: String, wait seconds: Int) -> String {
        guard let mark = path.firstIndex(of: "?") else {
            return path + "?wait=\(seconds)"
        }
        var items = path[path.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false)
            .filter { $0.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first != "wait" }
        items.append("wait=\(seconds)")
        return path[..<mark] + "?" + items.joined(separator: "&")
    }

    // MARK: - Answering

    /// Writes the kept answer as the routes write it, counted and logged as they do.
    private func respond(
        _ kept: UpToDateCache.Answer,
        to poll: Poll,
        context: ChannelHandlerContext,
        written: EventLoopPromise<Void>?
    ) {
        let (status, fields, body) = kept.http1Response(ifNoneMatch: poll.ifNoneMatch)
        let requestID = poll.requestID ?? RequestID().description
        let headers = polls.headers(fields, requestID: requestID)
        let seconds = (ContinuousClock.now - poll.started) / .seconds(1)
        polls.count(status, seconds: seconds)
        if polls.logger.logLevel <= .info {
            var logger = polls.logger
            logger[metadataKey: "hb.request.id"] = .string(requestID)
            EdgeMiddleware.logAnswer(
                logger,
                method: .get,
                route: UpToDatePolls.route,
                status: Int(status.code),
                seconds: seconds,
                clientAddress: EdgeMiddleware.clientAddress(
                    peer: context.channel.remoteAddress?.ipAddress,
                    forwardedFor: poll.head.headers[EdgeMiddleware.forwardedForHeader.rawName],
                    trustedProxies: polls.configuration.trustedProxies
                )
            )
        }
        // why counted first: as with the routes, whoever reads the answer may read the metrics next
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        if let body {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
    }
}
