import BriefModel
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import Logging
import NIOPosix

/// Registration, login and logout.
struct AccountRoutes {
    let environment: ServerEnvironment

    /// `POST /v1/accounts`: creates the user and logs the device in (201 with a session).
    func register(_ request: Request, context: BriefRequestContext) async throws -> Response {
        var request = request
        let credentials = try Self.credentials(try await request.decodeJSON(limit: 16 << 10))
        if case .failure(let wait) = environment.limiter.reserveRegistration(
            address: context.clientAddress,
            now: environment.clock.now()
        ) {
            throw APIError.rateLimited(
                retryAfter: wait.seconds,
                "Too many registrations from this address. Try again in \(wait.seconds) seconds."
            )
        }
        let cost = environment.configuration.bcryptCost
        let hash = try await NIOThreadPool.singleton.runIfActive {
            Bcrypt.hash(credentials.password, cost: cost)  // why a pool thread: bcrypt is slow on purpose
        }
        let user: UserRecord
        do {
            user = try await environment.store.createUser(
                username: credentials.username,
                passwordHash: hash,
                now: environment.clock.now()
            )
        } catch StoreError.duplicate {
            throw APIError(.conflict, .conflict, "The username \(credentials.username) is taken.")
        }
        context.logger.info("Registered user", metadata: ["user.name": "\(user.username)"])
        return try await startSession(for: user, credentials: credentials)
    }

    /// `POST /v1/sessions`: logs a device in. Failures count towards the rate limits.
    func login(_ request: Request, context: BriefRequestContext) async throws -> Response {
        var request = request
        let credentials = try Self.credentials(try await request.decodeJSON(limit: 16 << 10))
        guard let user = try await verifiedUser(credentials.username, password: credentials.password, context: context)
        else {
            throw APIError.unauthorized("Wrong username or password.")
        }
        return try await startSession(for: user, credentials: credentials)
    }

    /// `DELETE /v1/sessions/current`: the token stops working at once.
    func logout(_ request: Request, context: BriefRequestContext) async throws -> Response {
        let session = try context.requireSession()
        try await environment.store.revokeSession(tokenHash: session.tokenHash, now: environment.clock.now())
        environment.sessions.forget(tokenHash: session.tokenHash)
        return Response(status: .noContent)
    }

    // MARK: Helpers

    /// The user whose password this is, or `nil`; the attempt counts towards the login limits
    /// (reserved before bcrypt, settled after) and is checked at full cost even for a name that
    /// does not exist. - Throws: 429 when the limits are reached.
    func verifiedUser(_ username: String, password: String, context: BriefRequestContext) async throws -> UserRecord? {
        let now = environment.clock.now()
        // why reserved before bcrypt: guesses sent at once must not all pass a check that none
        // of them has failed yet
        let attempt: LoginRateLimiter.Attempt
        switch environment.limiter.reserveLogin(username: username, address: context.clientAddress, now: now) {
        case .success(let reserved): attempt = reserved
        case .failure(let wait):
            throw APIError.rateLimited(
                retryAfter: wait.seconds,
                "Too many failed logins. Try again in \(wait.seconds) seconds."
            )
        }
        let user: UserRecord?
        let matches: Bool
        do {
            user = try await environment.store.user(named: username)
            // why verify even without a user: the answer takes as long whether or not the name
            // exists (the decoy hash has the configured cost)
            let storedHash = user?.passwordHash ?? environment.decoyPasswordHash
            matches = try await NIOThreadPool.singleton.runIfActive {
                Bcrypt.verify(password, hash: storedHash)
            }
        } catch {
            environment.limiter.settle(attempt, succeeded: true)  // not a guess that failed: the server did
            throw error
        }
        environment.limiter.settle(attempt, succeeded: user != nil && matches)
        guard let user, matches else {
            context.logger.info("Refused password", metadata: ["user.name": "\(username)"])
            return nil
        }
        return user
    }

    private func startSession(for user: UserRecord, credentials: CredentialsV1) async throws -> Response {
        guard let device = credentials.deviceId else {
            throw APIError.validation(
                DocumentValidationError(issues: [ValidationIssue(path: "deviceId", reason: "missing")])
            )
        }
        let (token, _) = try await environment.startSession(
            userID: user.id,
            username: user.username,
            device: device,
            deviceName: credentials.deviceName,
            scope: .device
        )
        return try jsonResponse(SessionV1(token: token, username: user.username, deviceId: device), status: .created)
    }

    private static func credentials(_ document: JSONValue) throws -> CredentialsV1 {
        do {
            return try CredentialsV1.validate(document)
        } catch {
            throw APIError.validation(error)
        }
    }
}

/// Encodes a wire value as the JSON response body.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws
    -> Response
{
    var fields = headers
    fields[.contentType] = "application/json; charset=utf-8"
    let data = try WireCoding.encoder().encode(value)
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
