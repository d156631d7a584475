import BriefModel
import HTTPTypes
import Hummingbird
import Logging

/// Requires a live device session. The publisher key is refused here with 403: it may publish,
/// but it reads no one's read-state.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = BriefRequestContext
    let environment: ServerEnvironment

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let isFeed = Self.feedPaths(request.uri.path)
        // a feed reader that cannot send headers sends its feed key in the address instead
        let key: String? = isFeed && request.bearerToken == nil ? request.uri.queryParameters.get("key") : nil
        guard let token = request.bearerToken ?? key else {
            throw APIError.unauthorized("This request needs a session: log in and send Authorization: Bearer <token>.")
        }
        let hash = SessionTokens.hash(token)
        if let key = environment.publisherKeyHash, SessionTokens.constantTimeEquals(hash, key) {
            throw APIError(.forbidden, .forbidden, "The publisher key cannot read or change anyone's read-state.")
        }
        guard let session = try await environment.liveSession(tokenHash: hash) else {
            throw APIError.unauthorized("The session is unknown, expired or logged out: log in again.")
        }
        guard session.scope == .device || isFeed && session.scope == .feeds else {
            throw APIError(
                .forbidden,
                .forbidden,
                "A feed key reads the topic feeds only; this request needs a device's session (POST /v1/sessions)."
            )
        }
        // why: a device's token in an address ends up in logs and histories; only feed keys go there
        guard key == nil || session.scope == .feeds else {
            throw APIError(
                .forbidden,
                .forbidden,
                "?key= takes a feed key (POST /v1/feed-keys); send a device's session as Authorization: Bearer."
            )
        }
        var context = context
        context.session = session
        // why only when something will be logged: setting metadata re-renders all of it (StreamLogHandler)
        if context.logger.logLevel <= .info {
            context.logger[metadataKey: "sync.device"] = .string(session.deviceID.rawValue)
        }
        return try await next(request, context)
    }
}

extension SessionMiddleware {
    /// Whether a path is a topic's feed, which a feed key may read.
    static func feedPaths(_ path: String) -> Bool {
        path.hasPrefix("/v1/topics/") && (path.hasSuffix("/feed.json") || path.hasSuffix("/feed.atom"))
    }
}

/// Requires the publisher key. A device session gets 403: users cannot publish.
struct PublisherMiddleware: RouterMiddleware {
    typealias Context = BriefRequestContext
    let environment: ServerEnvironment

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let key = environment.publisherKeyHash else {
            throw APIError(.forbidden, .forbidden, "Publishing is off: start the server with --publisher-key.")
        }
        guard let token = request.bearerToken else {
            throw APIError.unauthorized("Publishing needs Authorization: Bearer <publisher key>.")
        }
        // why reserved before checking, as a login is: wrong keys sent at once must not all pass
        // a count that none of them has joined yet
        let attempt: LoginRateLimiter.Attempt
        switch environment.limiter.reservePublisherCheck(address: context.clientAddress, now: environment.clock.now()) {
        case .success(let reserved): attempt = reserved
        case .failure(let wait):
            throw APIError.rateLimited(
                retryAfter: wait.seconds,
                "Too many wrong publisher keys. Try again in \(wait.seconds) seconds."
            )
        }
        let hash = SessionTokens.hash(token)
        guard SessionTokens.constantTimeEquals(hash, key) else {
            let isSession: Bool
            do {
                isSession = try await environment.store.session(tokenHash: hash) != nil
            } catch {
                environment.limiter.settle(attempt, succeeded: true)  // not a guess that failed: the store did
                throw error
            }
            // a device session is not a guess at the key; anything else is
            environment.limiter.settle(attempt, succeeded: isSession)
            if isSession {
                throw APIError(.forbidden, .forbidden, "A device session cannot publish.")
            }
            throw APIError.unauthorized("The publisher key is wrong.")
        }
        environment.limiter.settle(attempt, succeeded: true)
        return try await next(request, context)
    }
}

extension Request {
    /// The token of `Authorization: Bearer <token>`, if well formed.
    var bearerToken: String? { headers.bearerToken }
}

extension HTTPFields {
    /// The token of `Authorization: Bearer <token>`, if well formed.
    var bearerToken: String? {
        self[.authorization].flatMap(Self.bearerToken)
    }

    /// The token of an `Authorization` value `Bearer <token>`, if well formed.
    static func bearerToken(_ authorization: String) -> String? {
        token(authorization, scheme: bearerScheme)
    }

    /// What follows `scheme` (lowercase, compared in any case) in an `Authorization` value of
    /// at most `maxLength` bytes; `nil` when the value is longer, names another scheme, or has
    /// nothing after it.
    static func token(_ authorization: String, scheme: [UInt8], maxLength: Int = 512) -> String? {
        var value = authorization
        guard value.utf8.count <= maxLength else {
            return nil
        }
        // the scheme is case-insensitive (RFC 9110): compare it with ASCII letters lowercased
        return value.withUTF8 { bytes -> String? in
            guard bytes.count > scheme.count, ASCII.equalsIgnoringCase(bytes.prefix(scheme.count), scheme) else {
                return nil
            }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[scheme.count...]), as: UTF8.self)
        }
    }

    private static let bearerScheme = Array("bearer ".utf8)
}
