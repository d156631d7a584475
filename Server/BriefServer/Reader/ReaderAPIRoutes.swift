import BriefModel
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The Google Reader API at `/greader`, as feed-reader apps call it (NetNewsWire, Reeder,
/// ReadKit, FeedMe; the servers FreshRSS and Miniflux document it): sign-in, the user, and the
/// subscriptions, which are the topics the user follows.
///
/// A sign-in (`accounts/ClientLogin`) is a login: rate-limited as one, and it makes a session of
/// scope ``SessionScope/reader`` that is listed and revoked like any other and shown as its own
/// device (`reader-…`). That session works here only; the rest of the API refuses it.
///
/// Refusals are what those clients expect: 401 for bad credentials, 400 with a short text for a
/// malformed parameter, as `text/plain`.
struct ReaderAPIRoutes {
    let environment: ServerEnvironment
    let accounts: AccountRoutes

    /// `POST /greader/accounts/ClientLogin` with the form `Email`, `Passwd`: `SID=`, `LSID=` and
    /// `Auth=` lines, each the new session's token.
    func clientLogin(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await answering {
            var request = request
            let form = try await Self.form(&request)
            guard let email = form.first("Email"), let password = form.first("Passwd"), !email.isEmpty else {
                throw ReaderError(.badRequest, "Error=BadAuthentication")
            }
            let user: UserRecord?
            do {
                user = try await accounts.verifiedUser(email, password: password, context: context)
            } catch let error as APIError where error.status == .tooManyRequests {
                throw ReaderError(.tooManyRequests, "Error=TooManyAttempts", retryAfter: error.headers[.retryAfter])
            }
            guard let user else {
                throw ReaderError(.unauthorized, "Error=BadAuthentication")
            }
            let client = (form.first("client") ?? request.headers[.userAgent]).map { String($0.prefix(64)) }
            // the app is listed as the device of its session: reader- and the session id's digits
            let id = SessionTokens.makeID()
            let (token, _) = try await environment.startSession(
                id: id,
                userID: user.id,
                username: user.username,
                device: DeviceID(rawValue: "reader-" + id.dropFirst(2))!,
                deviceName: client.map { "Reader app (\($0))" } ?? "Reader app",
                scope: .reader
            )
            context.logger.info("Reader API sign-in", metadata: ["session.id": "\(id)"])
            return Self.text("SID=\(token)\nLSID=\(token)\nAuth=\(token)\n")
        }
    }

    /// `GET /greader/check/compatibility`: `PASS` when an `Authorization` header reaches the
    /// server (some proxies strip it), `FAIL` otherwise.
    func compatibility(_ request: Request, context: BriefRequestContext) async throws -> Response {
        Self.text(request.headers[.authorization] == nil ? "FAIL" : "PASS")
    }

    /// `GET|POST /greader/reader/api/0/token`: the write token (`T`) the writes send back.
    func token(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await answering {
            let session = try await reader(request)
            return Self.text(Self.writeToken(for: session))
        }
    }

    /// `GET /greader/reader/api/0/user-info`.
    func userInfo(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await answering {
            let session = try await reader(request)
            let id = String(session.userID)
            return try jsonResponse(
                ReaderUserInfo(userId: id, userName: session.username, userProfileId: id, userEmail: "")
            )
        }
    }

    /// `GET /greader/reader/api/0/subscription/list`: the topics the user follows, as feeds
    /// `feed/<topic>`.
    func subscriptions(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await answering {
            let session = try await reader(request)
            let base = FeedRoutes.baseURL(request)
            let topics = try await environment.store.topics(for: session.userID).filter(\.followed)
            return try jsonResponse(
                ReaderSubscriptionList(
                    subscriptions: topics.map {
                        .init(
                            id: "feed/\($0.id.rawValue)",
                            title: $0.name,
                            categories: [],
                            url: "\(base)/v1/topics/\($0.id.rawValue)/feed.atom",
                            htmlUrl: "\(base)/v1/topics/\($0.id.rawValue)/feed.atom",
                            iconUrl: ""
                        )
                    }
                )
            )
        }
    }

    /// `POST /greader/reader/api/0/subscription/edit` with `ac=subscribe|unsubscribe` on
    /// `s=feed/<topic>` (several `s` at once) and the write token `T`: follows or unfollows.
    func editSubscription(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await answering {
            var request = request
            let session = try await reader(request)
            let form = try await Self.form(&request)
            try Self.checkWriteToken(form, session: session)
            let follow: Bool
            switch form.first("ac") {
            case "subscribe": follow = true
            case "unsubscribe": follow = false
            case "edit": return Self.text("OK")  // titles and folders are the publisher's
            default: throw ReaderError(.badRequest, "ac must be subscribe, unsubscribe or edit")
            }
            let streams = form.all("s")
            guard !streams.isEmpty else {
                throw ReaderError(.badRequest, "s is missing")
            }
            for stream in streams {
                guard let topic = Self.topic(ofStream: stream) else {
                    throw ReaderError(.badRequest, "s must be feed/<topic>")
                }
                guard try await environment.store.setFollowing(topic, follow, for: session.userID) != nil else {
                    throw ReaderError(.notFound, "no such feed")
                }
            }
            environment.notifier.notify(user: session.userID)
            return Self.text("OK")
        }
    }

    /// `GET /greader/reader/api/0/tag/list`: the states a brief can be in (read, starred);
    /// topics are feeds, not folders.
    func tags(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await answering {
            _ = try await reader(request)
            return try jsonResponse(
                ReaderTagList(tags: [
                    .init(id: ReaderStreams.starred, type: nil), .init(id: ReaderStreams.read, type: nil),
                    .init(id: ReaderStreams.readingList, type: nil),
                ])
            )
        }
    }

    // MARK: Sessions, forms, answers

    /// The Reader API session of `Authorization: GoogleLogin auth=<token>`.
    func reader(_ request: Request) async throws -> SessionRecord {
        guard let token = request.headers[.authorization].flatMap(Self.googleLoginToken) else {
            throw ReaderError(.unauthorized, "Unauthorized")
        }
        guard let session = try await environment.liveSession(tokenHash: SessionTokens.hash(token)),
            session.scope == .reader
        else {
            throw ReaderError(.unauthorized, "Unauthorized")
        }
        return session
    }

    /// The token of an `Authorization` value `GoogleLogin auth=<token>`.
    static func googleLoginToken(_ value: String) -> String? {
        let token = HTTPFields.token(value, scheme: googleLoginScheme, maxLength: 600)?
            .trimmingCharacters(in: .whitespaces)
        return token?.isEmpty == false ? token : nil
    }

    private static let googleLoginScheme = Array("googlelogin auth=".utf8)

    /// The write token of a session: derived from its token's hash, so it is the same on every
    /// instance and known only to whoever holds the session.
    static func writeToken(for session: SessionRecord) -> String {
        ContentDigest.hex(
            Array(SHA256.hash(data: Data("reader-write-token".utf8) + Data(session.tokenHash)).prefix(20))
        )
    }

    static func checkWriteToken(_ form: Form, session: SessionRecord) throws {
        guard let sent = form.first("T"),
            SessionTokens.constantTimeEquals(Array(sent.utf8), Array(writeToken(for: session).utf8))
        else {
            throw ReaderError(.unauthorized, "Bad write token: GET /greader/reader/api/0/token")
        }
    }

    /// The topic of a stream `feed/<topic>`.
    static func topic(ofStream stream: String) -> TopicID? {
        guard stream.hasPrefix("feed/") else {
            return nil
        }
        return TopicID(rawValue: String(stream.dropFirst("feed/".count)))
    }

    /// A request's form: its body (`application/x-www-form-urlencoded`) and its query, with
    /// repeated names kept in order (clients send many `i` and `s`).
    static func form(_ request: inout Request) async throws -> Form {
        var fields = Form(query: request.uri.query ?? "")
        let body = try await request.collectBody(upTo: 1 << 20)
        fields.append(Form(query: String(buffer: body)))
        return fields
    }

    /// Runs `body`, answering its ``ReaderError`` as text.
    func answering(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as ReaderError {
            var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8"]
            if let retryAfter = error.retryAfter {
                headers[.retryAfter] = retryAfter
            }
            return Response(
                status: error.status,
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: error.text + "\n"))
            )
        }
    }

    static func text(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}

/// A refusal of the Reader API, in the short text its clients show.
struct ReaderError: Error {
    var status: HTTPResponse.Status
    var text: String
    var retryAfter: String?

    init(_ status: HTTPResponse.Status, _ text: String, retryAfter: String? = nil) {
        self.status = status
        self.text = text
        self.retryAfter = retryAfter
    }
}

/// The streams of the Reader API that BriefSync has.
enum ReaderStreams {
    static let readingList = "user/-/state/com.google/reading-list"
    static let read = "user/-/state/com.google/read"
    static let starred = "user/-/state/com.google/starred"
}

/// An `application/x-www-form-urlencoded` text, decoded, with repeated names kept.
struct Form {
    private(set) var fields: [(name: String, value: String)] = []

    init(query: String) {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            fields.append((decode(parts[0]), parts.count > 1 ? decode(parts[1]) : ""))
        }
    }

    mutating func append(_ other: Form) {
        fields += other.fields
    }

    func first(_ name: String) -> String? { fields.first { $0.name == name }?.value }
    func all(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }
}
