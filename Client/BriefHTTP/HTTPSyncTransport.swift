import BriefClient
import BriefModel
import BriefStore
import BriefToken
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The production ``SyncTransport``: HTTPS (or HTTP on loopback, or where the app allows it) to a
/// BriefSync server; see `HTTPConnection` for what it refuses.
public struct HTTPSyncTransport: SyncTransport {
    private let connection: HTTPConnection
    /// The content pass of the last manifest page that carried one (``ChangesPageV2/contentPass``).
    private let pass = ContentPassBox()

    /// - Parameters:
    ///   - baseURL: The server, such as `https://briefs.example.com`.
    ///   - sessionToken: The token from logging in.
    ///   - session: The URLSession to use; it must refuse redirects (``URLSessionRequester``).
    ///   - timeout: Seconds to wait for an answer, beyond any long-poll hold.
    ///   - allowInsecureHTTP: Allow `http://` to a host that is not loopback (never in production).
    public init(
        baseURL: URL,
        sessionToken: String,
        session: URLSession = URLSessionRequester.defaultSession,
        timeout: TimeInterval = 30,
        allowInsecureHTTP: Bool = false
    ) {
        self.init(
            baseURL: baseURL,
            sessionToken: sessionToken,
            requester: URLSessionRequester(session: session),
            timeout: timeout,
            allowInsecureHTTP: allowInsecureHTTP
        )
    }

    /// The same, over another HTTP stack (e.g. `BriefHTTPNIO`'s, which can trust a private CA on Linux).
    public init(
        baseURL: URL,
        sessionToken: String,
        requester: any HTTPRequester,
        timeout: TimeInterval = 30,
        allowInsecureHTTP: Bool = false
    ) {
        connection = HTTPConnection(
            baseURL: baseURL,
            token: sessionToken,
            requester: requester,
            timeout: timeout,
            allowInsecureHTTP: allowInsecureHTTP
        )
    }

    public func push(_ request: PushRequestV1) async throws -> PushResultV1 {
        try await connection.send(
            "POST",
            "v1/read-states",
            body: try WireCoding.encoder().encode(request),
            as: PushResultV1.self
        )
    }

    public func changes(_ request: ChangesRequest) async throws -> ChangesPageV2 {
        let page = try await connection.send(
            "GET",
            "v1/changes",
            query: Self.query(request),
            extraTimeout: TimeInterval(request.wait),
            as: ChangesPageV2.self
        )
        if let query = page.contentPass.flatMap(ContentPassBox.items) {
            pass.items = query
        }
        return page
    }

    /// The edition's bytes. Both HTTP stacks ask for gzip and undo it (URLSession on every
    /// platform, `BriefHTTPNIO` through AsyncHTTPClient's decompression), so the bytes cross the
    /// network as the server compressed them at publish.
    public func content(_ digest: String) async throws -> Data {
        guard ContentDigest.parse(Substring(digest)) != nil else {
            // why: the digest goes into the path; a manifest must not be able to steer the request
            throw TransportError(.malformedResponse, message: "The server named content by a malformed digest.")
        }
        // with the page's pass, a proxy that checks passes answers without asking for the session;
        // one that does not (or finds it expired) asks, as without it
        return try await connection.sendRaw("GET", "v1/content/\(digest)", query: pass.items)
    }

    private static func query(_ request: ChangesRequest) -> [URLQueryItem] {
        request.queryItems.map { URLQueryItem(name: $0.name, value: $0.value) }
    }
}

/// The account and topic calls of a BriefSync server, for an app's login screen and settings.
public struct BriefServiceClient: Sendable {
    private let baseURL: URL
    private let requester: any HTTPRequester
    private let timeout: TimeInterval
    private let allowInsecureHTTP: Bool

    /// - Parameter allowInsecureHTTP: Allow `http://` to a host that is not loopback (never in production).
    public init(
        baseURL: URL,
        session: URLSession = URLSessionRequester.defaultSession,
        timeout: TimeInterval = 30,
        allowInsecureHTTP: Bool = false
    ) {
        self.init(
            baseURL: baseURL,
            requester: URLSessionRequester(session: session),
            timeout: timeout,
            allowInsecureHTTP: allowInsecureHTTP
        )
    }

    /// The same, over another HTTP stack.
    public init(baseURL: URL, requester: any HTTPRequester, timeout: TimeInterval = 30, allowInsecureHTTP: Bool = false)
    {
        self.baseURL = baseURL
        self.requester = requester
        self.timeout = timeout
        self.allowInsecureHTTP = allowInsecureHTTP
    }

    /// Creates an account and logs this device in.
    public func register(username: String, password: String, deviceID: DeviceID, deviceName: String? = nil)
        async throws -> SessionV1
    {
        try await startSession(
            "v1/accounts",
            CredentialsV1(username: username, password: password, deviceId: deviceID, deviceName: deviceName)
        )
    }

    /// Logs this device in.
    public func login(username: String, password: String, deviceID: DeviceID, deviceName: String? = nil)
        async throws -> SessionV1
    {
        try await startSession(
            "v1/sessions",
            CredentialsV1(username: username, password: password, deviceId: deviceID, deviceName: deviceName)
        )
    }

    /// Ends the session; its token stops working.
    public func logout(token: String) async throws {
        _ = try await connection(token).sendRaw("DELETE", "v1/sessions/current")
    }

    /// The account's live sessions, most recently used first (never their tokens).
    public func sessions(token: String) async throws -> [SessionInfoV1] {
        try await connection(token).send("GET", "v1/sessions", as: SessionListV1.self).sessions
    }

    /// A new feed key, for a feed reader that cannot send headers (`?key=` on the topic feeds).
    public func createFeedKey(token: String) async throws -> FeedKeyV1 {
        try await connection(token).send("POST", "v1/feed-keys", as: FeedKeyV1.self)
    }

    /// Revokes one of the account's sessions by its id.
    public func revokeSession(_ id: String, token: String) async throws {
        _ = try await connection(token).sendRaw("DELETE", "v1/sessions/\(id)")
    }

    /// Changes the password; every other session of the account is revoked.
    public func changePassword(from current: String, to new: String, token: String) async throws {
        _ = try await connection(token).sendRaw(
            "PUT",
            "v1/accounts/current/password",
            body: try WireCoding.encoder().encode(PasswordChangeV1(currentPassword: current, newPassword: new))
        )
    }

    /// Deletes the account with everything the server holds of it; every session stops working.
    public func deleteAccount(password: String, token: String) async throws {
        _ = try await connection(token).sendRaw(
            "DELETE",
            "v1/accounts/current",
            body: try WireCoding.encoder().encode(AccountDeletionV1(password: password))
        )
    }

    /// Every topic, and whether the user follows it.
    public func topics(token: String) async throws -> [TopicStatusV1] {
        try await connection(token).send("GET", "v1/topics", as: TopicListV1.self).topics
    }

    /// Follows or unfollows a topic.
    public func setFollowing(_ topic: TopicID, _ follow: Bool, token: String) async throws -> TopicStatusV1 {
        try await connection(token).send(follow ? "PUT" : "DELETE", "v1/topics/\(topic)/follow", as: TopicStatusV1.self)
    }

    private func startSession(_ path: String, _ credentials: CredentialsV1) async throws -> SessionV1 {
        try await connection(nil).send(
            "POST",
            path,
            body: try WireCoding.encoder().encode(credentials),
            as: SessionV1.self
        )
    }

    private func connection(_ token: String?) -> HTTPConnection {
        HTTPConnection(
            baseURL: baseURL,
            token: token,
            requester: requester,
            timeout: timeout,
            allowInsecureHTTP: allowInsecureHTTP
        )
    }
}

/// The content pass a transport appends to its content fetches, from the last page that had one.
final class ContentPassBox: @unchecked Sendable {
    // why a lock: a sync's content fetches run at once, on several tasks, while a page is read
    private let lock = NSLock()
    private var kept: [URLQueryItem] = []

    var items: [URLQueryItem] {
        get { lock.withLock { kept } }
        set { lock.withLock { kept = newValue } }
    }

    /// A pass's query as items: `name=value` pairs of letters, digits, `-` and `_`, or `nil` for
    /// anything else (a server must not be able to steer the request with it).
    static func items(_ query: String) -> [URLQueryItem]? {
        func plain(_ text: Substring) -> Bool {
            !text.isEmpty && text.utf8.count <= 256 && Base64URL.isAlphabet(text)
        }
        var items: [URLQueryItem] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, plain(parts[0]), plain(parts[1]) else {
                return nil
            }
            items.append(URLQueryItem(name: String(parts[0]), value: String(parts[1])))
        }
        return items.isEmpty || items.count > 4 ? nil : items
    }
}
