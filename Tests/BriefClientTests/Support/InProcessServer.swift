import BriefClient
import BriefModel
import BriefServer
import BriefSimulation
import BriefStore
import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

/// A real server on an in-memory store, reached through Hummingbird's router test client:
/// no sockets, but every request goes through the same routes, middleware and store.
struct InProcessServer {
    static let publisherKey = "client-tests-publisher-key-0123"
    let store: any DeltaStore
    let clock = ManualWallClock(1_782_460_800_000)  // 2026-06-26T08:00Z
    var configuration = ServerConfiguration()

    init(configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        configuration.database = .sqliteInMemory
        configuration.publisherKey = Self.publisherKey
        configuration.bcryptCost = 4
        configuration.logLevel = .warning
        configure(&configuration)
        store = try openStore(.sqliteInMemory)
    }

    /// The account `user` on the in-process server, as devices sign it in.
    static func account(_ user: String) -> AccountID {
        AccountID(server: "http://in-process", username: user)
    }

    func run<Value: Sendable>(_ body: @escaping @Sendable (ServerHandle) async throws -> Value) async throws -> Value {
        let app = try await buildApplication(
            configuration: configuration,
            store: store,
            clock: clock,
            logger: Logger(label: "server")
        )
        return try await app.test(.router) { client in try await body(ServerHandle(client: client, server: self)) }
    }
}

/// The running server: publishing, accounts, and transports for devices.
struct ServerHandle: Sendable {
    let client: any TestClientProtocol
    let server: InProcessServer

    func request(
        _ method: HTTPRequest.Method,
        _ uri: String,
        token: String? = nil,
        body: Data? = nil
    ) async throws -> (HTTPResponse.Status, HTTPFields, Data) {
        var headers: HTTPFields = [:]
        if let token {
            headers[.authorization] = "Bearer \(token)"
        }
        return try await client.execute(
            uri: uri,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(bytes: $0) }
        ) {
            ($0.status, $0.headers, Data($0.body.readableBytesView))
        }
    }

    @discardableResult
    func publish(_ brief: Brief) async throws -> HTTPResponse.Status {
        try await request(
            .put,
            "/v1/briefs/\(brief.id)",
            token: InProcessServer.publisherKey,
            body: try WireCoding.encoder().encode(brief)
        ).0
    }

    /// Publishes `count` small briefs, `b-0` to `b-<count - 1>`, in that order.
    func publishSmall(_ count: Int) async throws {
        for index in 0..<count {
            try await publish(try Briefs.small("b-\(index)"))
        }
    }

    func retract(_ id: String) async throws {
        _ = try await request(.delete, "/v1/briefs/\(id)", token: InProcessServer.publisherKey)
    }

    /// Registers (or logs in) `user` on `device` and returns the session token.
    func login(_ user: String, device: DeviceID) async throws -> String {
        let credentials = try WireCoding.encoder().encode(
            CredentialsV1(username: user, password: "correct horse battery", deviceId: device)
        )
        var (status, _, body) = try await request(.post, "/v1/accounts", body: credentials)
        if status == .conflict {
            (status, _, body) = try await request(.post, "/v1/sessions", body: credentials)
        }
        return try WireCoding.decoder().decode(SessionV1.self, from: body).token
    }

    /// A library in memory for `device` of `user`, connected to this server.
    func device(_ name: String, user: String = "anna", configure: (inout BriefLibrary.Configuration) -> Void = { _ in })
        async throws -> (BriefLibrary, RouterTransport)
    {
        let id = DeviceID(rawValue: name)!
        let transport = RouterTransport(handle: self, token: try await login(user, device: id))
        var configuration = BriefLibrary.Configuration()
        configuration.now = { server.clock.now() }
        configuration.keepDays = nil
        configure(&configuration)
        let library = try BriefLibrary.inMemory(deviceID: id, configuration: configuration)
        try await library.signIn(InProcessServer.account(user), transport: transport)
        return (library, transport)
    }

}

/// A ``SyncTransport`` into the in-process server.
struct RouterTransport: SyncTransport {
    let handle: ServerHandle
    let token: String

    func push(_ request: PushRequestV1) async throws -> PushResultV1 {
        try await call(.post, "/v1/read-states", body: try WireCoding.encoder().encode(request))
    }

    func changes(_ request: ChangesRequest) async throws -> ChangesPageV2 {
        try await call(.get, Self.changesURI(request))
    }

    func content(_ digest: String) async throws -> Data {
        try await callRaw(.get, "/v1/content/\(digest)")
    }

    /// The request's URI; its values need no escaping (numbers, a date, a base64url token).
    private static func changesURI(_ request: ChangesRequest) -> String {
        "/v1/changes?" + request.queryItems.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    private func call<T: Decodable>(_ method: HTTPRequest.Method, _ uri: String, body: Data? = nil) async throws -> T {
        try WireCoding.decoder(unknownFields: .ignore).decode(T.self, from: try await callRaw(method, uri, body: body))
    }

    private func callRaw(_ method: HTTPRequest.Method, _ uri: String, body: Data? = nil) async throws -> Data {
        let (status, headers, data) = try await handle.request(method, uri, token: token, body: body)
        if let error = InProcessSimulationServer.refusal(
            status: status.code,
            retryAfter: headers[.retryAfter],
            body: data
        ) {
            throw error
        }
        return data
    }
}

/// Wraps a transport and misbehaves on purpose, as networks do.
final class FlakyTransport: SyncTransport, @unchecked Sendable {
    enum Fault {
        /// The request never reaches the server.
        case dropRequest
        /// The server applies the request, and the answer is lost.
        case loseResponse
        /// The request is delivered twice; the device sees the second answer.
        case duplicate
        /// The server answers 503 with Retry-After.
        case unavailable
        /// The answer arrives late.
        case delay(Duration)
    }

    private let base: any SyncTransport
    private let lock = NSLock()
    private var faults: [Fault]
    private let contentFaults: [Int: Fault]
    private(set) var pushesSent = 0
    private var contentCalls = 0
    private var fetched = 0
    /// Content fetches that went through.
    var contentFetches: Int { lock.withLock { fetched } }

    /// - Parameters:
    ///   - faults: The faults of the pushes and pages, in the order of the calls.
    ///   - contentFaults: The fault of the n-th content fetch (the first is 1).
    init(_ base: any SyncTransport, faults: [Fault], contentFaults: [Int: Fault] = [:]) {
        self.base = base
        self.faults = faults
        self.contentFaults = contentFaults
    }

    func push(_ request: PushRequestV1) async throws -> PushResultV1 {
        lock.withLock { pushesSent += 1 }
        return try await misbehave { try await base.push(request) }
    }

    func changes(_ request: ChangesRequest) async throws -> ChangesPageV2 {
        try await misbehave { try await base.changes(request) }
    }

    /// Content fetches are counted when they go through.
    func content(_ digest: String) async throws -> Data {
        let fault = lock.withLock { () -> Fault? in
            contentCalls += 1
            return contentFaults[contentCalls]
        }
        let bytes = try await misbehave(fault) { try await base.content(digest) }
        lock.withLock { fetched += 1 }
        return bytes
    }

    private func misbehave<T>(_ call: () async throws -> T) async throws -> T {
        try await misbehave(lock.withLock { faults.isEmpty ? nil : faults.removeFirst() }, call)
    }

    private func misbehave<T>(_ fault: Fault?, _ call: () async throws -> T) async throws -> T {
        switch fault {
        case nil:
            return try await call()
        case .dropRequest:
            throw TransportError(.unreachable, message: "test: request dropped")
        case .loseResponse:
            _ = try await call()
            throw TransportError(.timedOut, message: "test: response lost")
        case .duplicate:
            _ = try await call()
            return try await call()
        case .unavailable:
            throw TransportError(.status(503), message: "test: unavailable", retryAfter: .seconds(7))
        case .delay(let duration):
            let answer = try await call()
            try await Task.sleep(for: duration)
            return answer
        }
    }
}

/// Briefs for the tests: the seed brief, and small ones.
enum Briefs {
    static func seed() throws -> Brief {
        try example("brief-ai-tech-2026-06-26.json")
    }

    static func example(_ name: String) throws -> Brief {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schema/examples/\(name)")
        return try WireCoding.decoder().decode(Brief.self, from: Data(contentsOf: url))
    }

    static func small(_ id: String, topic: String = "climate", date: String = "2026-06-26", title: String = "A title")
        throws -> Brief
    {
        var brief = try seed()
        brief.id = BriefID(rawValue: id)!
        brief.topic = Topic(id: TopicID(rawValue: topic)!, name: topic.uppercased())
        brief.date = CalendarDate(iso: date)!
        brief.title = title
        brief.sources = Array(brief.sources.prefix(1)).map { source in
            var source = source
            source.date = CalendarDate(iso: date)!
            return source
        }
        brief.sourceCounts = SourceCounts(podcasts: 1, episodes: 1)
        return brief
    }
}

extension DeviceStore {
    /// Applies a page of `briefs` at `version` with their content, as a sync would after
    /// fetching it, and stores `token`.
    func apply(briefs: [Brief], version: Int = 1, token: String, now: Int64) async throws -> PageOutcome {
        var refs: [BriefRefV2] = []
        var editions: [FetchedEdition] = []
        for brief in briefs {
            let bytes = try WireCoding.encoder().encode(brief)
            let ref = BriefRefV2(
                id: brief.id,
                version: version,
                topic: brief.topic.id,
                date: brief.date,
                digest: ContentDigest.hex(Array(SHA256.hash(data: bytes))),
                size: bytes.count
            )
            refs.append(ref)
            editions.append(try FetchedEdition(ref, bytes: bytes))
        }
        return try await apply(
            ChangesPageV2(briefs: refs, nextToken: token, hasMore: false),
            editions: editions,
            now: now
        )
    }
}

extension ServerHandle {
    /// A library over `database` (a copy of another's store: a restored backup), signed in as
    /// `user` with that store's device id, as the restored phone would be.
    func restore(_ database: DatabaseQueue, user: String = "anna") async throws -> (BriefLibrary, RouterTransport) {
        let store = try DeviceStore(database)
        let transport = RouterTransport(handle: self, token: try await login(user, device: store.deviceID))
        var configuration = BriefLibrary.Configuration()
        configuration.now = { server.clock.now() }
        configuration.keepDays = nil
        let library = BriefLibrary(store: store, configuration: configuration)
        try await library.signIn(InProcessServer.account(user), transport: transport)
        return (library, transport)
    }
}

extension BriefLibrary {
    /// The store as it is now, byte for byte (SQLite's backup), as a backup or `cp -r` takes it.
    func backup() throws -> DatabaseQueue {
        let copy = try DatabaseQueue()
        try store.databaseForTesting().backup(to: copy)
        return copy
    }
}

/// Answers a push with a cursor `inflation` above the server's, once, then fails every call:
/// as a copy's pushes would make the cursor look to this store.
final class InflatingTransport: SyncTransport, @unchecked Sendable {
    private let base: any SyncTransport
    private let inflation: UInt64
    private let lock = NSLock()
    private var answered = false

    init(_ base: any SyncTransport, inflation: UInt64) {
        self.base = base
        self.inflation = inflation
    }

    func push(_ request: PushRequestV1) async throws -> PushResultV1 {
        guard !lock.withLock({ answered }) else {
            throw TransportError(.unreachable, message: "test: offline after the first answer")
        }
        lock.withLock { answered = true }
        var result = try await base.push(request)
        result.lastAppliedId += inflation
        return result
    }

    func changes(_ request: ChangesRequest) async throws -> ChangesPageV2 {
        try await base.changes(request)
    }

    func content(_ digest: String) async throws -> Data {
        try await base.content(digest)
    }
}

/// A server with rules this client does not know: it refuses pushes naming a brief in `gone`
/// (as a purged brief is refused) and any `save`, each issue at the mutation's index (422).
struct RefusingTransport: SyncTransport {
    let base: any SyncTransport
    let gone: Set<BriefID>

    func push(_ request: PushRequestV1) async throws -> PushResultV1 {
        var issues: [ValidationIssue] = []
        for (index, mutation) in request.mutations.enumerated() {
            if gone.contains(mutation.briefID) {
                issues.append(
                    ValidationIssue(
                        path: "mutations[\(index)].briefId",
                        reason: "no brief \(mutation.briefID) exists",
                        code: ValidationIssue.unknownBrief
                    )
                )
            } else if mutation.action == .save {
                issues.append(
                    ValidationIssue(path: "mutations[\(index)].action", reason: "saving is closed on this server")
                )
            }
        }
        guard issues.isEmpty else {
            let response = ErrorResponseV1(DocumentValidationError(issues: issues))
            throw TransportError(.status(422), message: response.error.message, response: response)
        }
        return try await base.push(request)
    }

    func changes(_ request: ChangesRequest) async throws -> ChangesPageV2 {
        try await base.changes(request)
    }

    func content(_ digest: String) async throws -> Data {
        try await base.content(digest)
    }
}
