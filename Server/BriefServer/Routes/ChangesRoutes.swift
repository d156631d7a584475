import BriefModel
import BriefToken
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `GET /v1/changes`: a page of what changed for this user since their token.
struct ChangesRoutes {
    let environment: ServerEnvironment

    func get(_ request: Request, context: BriefRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let user = session.userID
        let query = try Query(request.uri.queryParameters, configuration: environment.configuration)
        let polls = environment.polls
        let deadline = polls.deadline(waiting: query.wait)

        // The moment is read before the feed: a change that commits after it wakes the hold and
        // outdates the answer kept for this user.
        var moment = polls.moment(for: user)
        var token: ChangeToken?
        var kept = polls.keptAnswer(for: user, since: query.since, at: moment)
        if kept == nil {
            token = try decodeToken(query.since, user: user)
            kept = token.flatMap { polls.keptAnswer(for: user, token: $0, at: moment) }
        }
        if let kept {
            guard polls.isBefore(deadline) else {
                return Self.response(kept, to: request)
            }
            try await polls.hold(user, after: moment, until: deadline)
            // as the event loop answers a parked poll: the kept answer while it still holds
            moment = polls.moment(for: user)
            if let still = polls.keptAnswer(for: user, since: query.since, at: moment)
                ?? token.flatMap({ polls.keptAnswer(for: user, token: $0, at: moment) })
            {
                return Self.response(still, to: request)
            }
            token = try token ?? decodeToken(query.since, user: user)
        }

        let feed = try await environment.store.feedState()
        let cursor = try startCursor(token, feed: feed)
        var batch = try await changes(for: user, after: cursor, query: query)
        var answer: UpToDateCache.Answer?
        if batch.isEmpty, !batch.hasMore {
            let empty = try self.answer(batch, epoch: feed.epoch, user: user)
            polls.remember(empty, for: user, epoch: feed.epoch, since: cursor, next: batch.next, at: moment)
            answer = empty
        }
        if batch.isEmpty, polls.isBefore(deadline) {
            try await polls.hold(user, after: moment, until: deadline)
            batch = try await changes(for: user, after: cursor, query: query)
            answer = nil
        }
        environment.metrics.changesServed(batch.count)
        context.logger.debug(
            "Served changes",
            metadata: [
                "sync.since": "\(cursor.map { "\($0.content)/\($0.state)" } ?? "start")",
                "sync.next": "\(batch.next.content)/\(batch.next.state)", "sync.more": "\(batch.hasMore)",
            ]
        )
        return Self.response(try answer ?? self.answer(batch, epoch: feed.epoch, user: user), to: request)
    }

    /// A page's body and ETag.
    private func answer(_ batch: ChangeBatch, epoch: UInt32, user: UserID) throws -> UpToDateCache.Answer {
        let nextToken = environment.tokens.encode(
            ChangeToken(epoch: epoch, cursor: batch.next),
            for: Self.scope(user)
        )
        let page = ChangesPageV2(
            briefs: batch.briefs,
            readStates: batch.readStates,
            followedTopics: batch.followedTopics,
            unfollowedTopics: batch.unfollowedTopics,
            nextToken: nextToken,
            hasMore: batch.hasMore,
            contentPass: contentPass(for: batch.briefs)
        )
        let body = try WireCoding.encoder().encode(page)
        return UpToDateCache.Answer(body: ByteBuffer(bytes: body), etag: Self.etag(of: body), nextToken: nextToken)
    }

    /// The content pass of a page naming these editions (``ContentPass``); none when the server
    /// signs none, or the page names no content to fetch.
    private func contentPass(for briefs: [BriefRefV2]) -> String? {
        let configuration = environment.configuration
        guard let secret = configuration.contentPassSecret, configuration.contentAccess == .session,
            briefs.contains(where: { $0.digest != nil })
        else {
            return nil
        }
        return ContentPass.query(
            now: environment.clock.now(),
            lifetime: configuration.contentPassLifetime,
            secret: secret
        )
    }

    /// 200 with the page, or 304 when the client already has it (`If-None-Match`).
    private static func response(_ answer: UpToDateCache.Answer, to request: Request) -> Response {
        let (status, fields, body) = answer.response(ifNoneMatch: request.headers[.ifNoneMatch])
        return Response(
            status: status,
            headers: HTTPFields(fields),
            body: body.map { .init(byteBuffer: $0) } ?? .init()
        )
    }

    /// The scope a token is bound to: the user it was issued to.
    static func scope(_ user: UserID) -> String { "user:\(user)" }

    /// A quoted hex of the first 16 bytes of the body's SHA-256.
    // why by hand: String(format:) per byte was 6% of an up-to-date poll (perf, BENCHMARKS.md)
    static func etag(of body: Data) -> String {
        "\"" + ContentDigest.hex(Array(SHA256.hash(data: body).prefix(16))) + "\""
    }

    private func changes(for user: UserID, after cursor: FeedCursor?, query: Query) async throws -> ChangeBatch {
        try await environment.store.changes(
            for: user,
            after: cursor,
            window: query.window,
            limit: query.limit,
            maxBytes: environment.configuration.maxPageBytes
        )
    }

    /// The token, after checking it is this server's and this user's (its signature only).
    private func decodeToken(_ since: String?, user: UserID) throws -> ChangeToken? {
        guard let since else {
            return nil
        }
        do {
            return try environment.tokens.decode(since, for: Self.scope(user))
        } catch {
            throw APIError(
                .badRequest,
                .invalidToken,
                "The change token was not issued to this user by this server. Sync again without a token."
            )
        }
    }

    /// The cursor a token stands for (`nil`: from nothing), after checking it is of this feed and
    /// not older than the tombstones kept.
    private func startCursor(_ token: ChangeToken?, feed: FeedState) throws -> FeedCursor? {
        guard let token else {
            return nil
        }
        guard token.epoch == feed.epoch, token.cursor.content >= feed.purgedThrough else {
            let days = environment.configuration.tombstoneRetention / 86_400_000
            throw APIError(
                .gone,
                .tokenExpired,
                "The change token is older than the \(days) days this server keeps retractions for. "
                    + "Sync again from the beginning, without a token."
            )
        }
        return token.cursor
    }

    /// The query parameters, each checked.
    struct Query {
        var since: String?
        var limit: Int
        var wait: Int
        /// The first date the device keeps (`window=YYYY-MM-DD`), for a catch-up that starts now.
        var window: CalendarDate?

        init(_ parameters: Parameters, configuration: ServerConfiguration) throws {
            var issues: [ValidationIssue] = []
            since = parameters.get("since")
            if let since, since.isEmpty || since.utf8.count > ChangeTokenCodec.maximumTextLength {
                throw APIError(.badRequest, .invalidToken, "The change token is malformed. Sync again without a token.")
            }
            limit = configuration.defaultPageSize
            if let text = parameters.get("limit") {
                if let value = Int(text), (1...configuration.maxPageSize).contains(value) {
                    limit = value
                } else {
                    issues.append(
                        ValidationIssue(
                            path: "limit",
                            reason: "must be a whole number from 1 to \(configuration.maxPageSize)"
                        )
                    )
                }
            }
            wait = 0
            if let text = parameters.get("wait") {
                if let value = Int(text), (0...configuration.maxWaitSeconds).contains(value) {
                    wait = value
                } else {
                    issues.append(
                        ValidationIssue(
                            path: "wait",
                            reason: "must be a whole number of seconds from 0 to \(configuration.maxWaitSeconds)"
                        )
                    )
                }
            }
            if let text = parameters.get("window") {
                if let date = CalendarDate(iso: text) {
                    window = date
                } else {
                    issues.append(ValidationIssue(path: "window", reason: "must be a date as YYYY-MM-DD"))
                }
            }
            guard issues.isEmpty else {
                throw APIError.badQuery(issues)
            }
        }
    }
}
