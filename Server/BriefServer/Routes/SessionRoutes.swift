import BriefModel
import Hummingbird
import HummingbirdBcrypt
import Logging
import NIOPosix

/// The account's sessions and the account itself: list, revoke, change the password, delete.
/// Each revocation takes effect at once on this instance and within the session cache's
/// lifetime (`--session-cache`) on the others.
struct SessionRoutes {
    let environment: ServerEnvironment
    let accounts: AccountRoutes

    /// `GET /v1/sessions`: the account's live sessions, most recently used first; never a token.
    func list(_ request: Request, context: BriefRequestContext) async throws -> Response {
        let current = try context.requireSession()
        let now = environment.clock.now()
        let sessions = try await environment.store.sessions(of: current.userID)
            .filter { !environment.isIdleTooLong($0, now: now) }
            .map {
                SessionInfoV1(
                    id: $0.id,
                    deviceId: $0.deviceID,
                    deviceName: $0.deviceName,
                    createdAt: $0.createdAt,
                    lastUsedAt: $0.lastUsedAt,
                    current: $0.tokenHash == current.tokenHash
                )
            }
        return try jsonResponse(SessionListV1(sessions: sessions))
    }

    /// The most feed keys one account may hold at once: each reader app needs one.
    static let maxFeedKeys = 20

    /// `POST /v1/feed-keys`: a new feed key for this user (``SessionScope/feeds``), shown once.
    func createFeedKey(_ request: Request, context: BriefRequestContext) async throws -> Response {
        let current = try context.requireSession()
        let held = try await environment.store.sessions(of: current.userID).filter { $0.scope == .feeds }.count
        guard held < Self.maxFeedKeys else {
            throw APIError.rateLimited(
                retryAfter: 60,
                "This account already has \(Self.maxFeedKeys) feed keys: revoke one (DELETE /v1/sessions/{id}) first."
            )
        }
        let (key, id) = try await environment.startSession(
            userID: current.userID,
            username: current.username,
            device: Self.feedReader,
            deviceName: "Feed reader",
            scope: .feeds
        )
        context.logger.info("Created feed key", metadata: ["session.id": "\(id)"])
        return try jsonResponse(FeedKeyV1(key: key, id: id), status: .created)
    }

    /// The device a feed key is listed as.
    static let feedReader = DeviceID(rawValue: "feed-reader")!

    /// `GET /v1/sessions/current`: 204 while the session is live, 401 otherwise; nothing is read
    /// beyond the session check every request makes (its cache). nginx asks it before serving
    /// content from its cache in `session` mode (`auth_request`, `deploy/nginx/briefsync.conf`).
    func check(_ request: Request, context: BriefRequestContext) async throws -> Response {
        _ = try context.requireSession()
        return Response(status: .noContent)
    }

    /// `DELETE /v1/sessions/{id}`: revokes one of the account's sessions (the current one too).
    func revoke(_ request: Request, context: BriefRequestContext) async throws -> Response {
        let current = try context.requireSession()
        let id = try context.parameters.require("id")
        guard
            let hash = try await environment.store.revokeSession(
                id: id,
                of: current.userID,
                now: environment.clock.now()
            )
        else {
            throw APIError.notFound("This account has no session \(id) (it may be revoked already).")
        }
        environment.sessions.forget(tokenHash: hash)
        context.logger.info("Revoked session", metadata: ["session.id": "\(id)"])
        return Response(status: .noContent)
    }

    /// `PUT /v1/accounts/current/password`: with the password now, sets a new one and revokes
    /// every other session of the account. Wrong passwords count towards the login limits.
    func changePassword(_ request: Request, context: BriefRequestContext) async throws -> Response {
        let (current, change, user) = try await confirmed(
            request,
            context: context,
            PasswordChangeV1.validate,
            password: \.currentPassword,
            refusal: "The current password is wrong."
        )
        let cost = environment.configuration.bcryptCost
        let hash = try await NIOThreadPool.singleton.runIfActive {
            Bcrypt.hash(change.newPassword, cost: cost)  // why a pool thread: bcrypt is slow on purpose
        }
        let revoked = try await environment.store.changePassword(
            of: user.id,
            to: hash,
            keeping: current.tokenHash,
            now: environment.clock.now()
        )
        revoked.forEach { environment.sessions.forget(tokenHash: $0) }
        context.logger.info("Changed password", metadata: ["sessions.revoked": "\(revoked.count)"])
        return Response(status: .noContent)
    }

    /// `DELETE /v1/accounts/current`: with the password, deletes the account with its
    /// read-states, follows, sessions and device cursors.
    func deleteAccount(_ request: Request, context: BriefRequestContext) async throws -> Response {
        let (_, _, user) = try await confirmed(
            request,
            context: context,
            AccountDeletionV1.validate,
            password: \.password,
            refusal: "The password is wrong; the account stays."
        )
        let hashes = try await environment.store.deleteUser(user.id)
        hashes.forEach { environment.sessions.forget(tokenHash: $0) }
        environment.notifier.notify(user: user.id)  // why: its held long-polls end now
        context.logger.info("Deleted account", metadata: ["user.name": "\(user.username)"])
        return Response(status: .noContent)
    }

    // MARK: Helpers

    /// The session, the validated body, and its user once the body's password is the account's
    /// (checked as a login is, and counted towards its limits). - Throws: 422 for a body that is
    /// not valid, 403 for a wrong password.
    private func confirmed<Body>(
        _ request: Request,
        context: BriefRequestContext,
        _ validate: (JSONValue) throws(DocumentValidationError) -> Body,
        password: KeyPath<Body, String>,
        refusal: String
    ) async throws -> (SessionRecord, Body, UserRecord) {
        var request = request
        let current = try context.requireSession()
        let body: Body
        do {
            body = try validate(try await request.decodeJSON(limit: 16 << 10))
        } catch let error as DocumentValidationError {
            throw APIError.validation(error)
        }
        guard
            let user = try await accounts.verifiedUser(
                current.username,
                password: body[keyPath: password],
                context: context
            ),
            user.id == current.userID
        else {
            throw APIError(.forbidden, .forbidden, refusal)
        }
        return (current, body, user)
    }
}
