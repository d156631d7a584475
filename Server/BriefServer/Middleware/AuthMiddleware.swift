import BriefModel
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
        guard let token = request.bearerToken else {
            throw APIError.unauthorized("This request needs a session: log in and send Authorization: Bearer <token>.")
        }
        if let key = environment.configuration.publisherKey, SessionTokens.constantTimeEquals(token, key) {
            throw APIError(.forbidden, .forbidden, "The publisher key cannot read or change anyone's read-state.")
        }
        guard let session = try await environment.store.session(tokenHash: SessionTokens.hash(token)) else {
            throw APIError.unauthorized("The session is unknown, expired or logged out: log in again.")
        }
        var context = context
        context.session = session
        context.logger[metadataKey: "sync.device"] = .string(session.deviceID.rawValue)
        return try await next(request, context)
    }
}

/// Requires the publisher key. A device session gets 403: users cannot publish.
struct PublisherMiddleware: RouterMiddleware {
    typealias Context = BriefRequestContext
    let environment: ServerEnvironment

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let key = environment.configuration.publisherKey else {
            throw APIError(.forbidden, .forbidden, "Publishing is off: start the server with --publisher-key.")
        }
        guard let token = request.bearerToken else {
            throw APIError.unauthorized("Publishing needs Authorization: Bearer <publisher key>.")
        }
        guard SessionTokens.constantTimeEquals(token, key) else {
            if try await environment.store.session(tokenHash: SessionTokens.hash(token)) != nil {
                throw APIError(.forbidden, .forbidden, "A device session cannot publish.")
            }
            throw APIError.unauthorized("The publisher key is wrong.")
        }
        return try await next(request, context)
    }
}

extension Request {
    /// The token of `Authorization: Bearer <token>`, if well formed.
    var bearerToken: String? {
        guard let value = headers[.authorization], value.count <= 512 else {
            return nil
        }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            return nil
        }
        return String(parts[1])
    }
}
