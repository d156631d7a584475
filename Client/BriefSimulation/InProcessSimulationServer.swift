import BriefClient
import BriefModel
import BriefServer
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The server in this process (`brief-device simulate --in-process`): a real `brief-server` on an
/// in-memory SQLite store, reached through its router (``RouterClient``, no sockets),
/// so every request goes through the same routes, middleware and store, with a clock the
/// simulation moves. A restart builds the application again on the same store: its caches and
/// sessions' cache start empty, what the database holds stays.
public final class InProcessSimulationServer: SimulationServer, @unchecked Sendable {
    static let publisherKey = "simulation-publisher-key-0123456789"
    static let start: Int64 = 1_782_460_800_000  // 2026-06-26T08:00Z, the example briefs' day

    let store: any DeltaStore
    let clock: ManualWallClock
    let configuration: ServerConfiguration
    public var skew: ClockSkewPolicy { configuration.clockSkew }
    public var ownsClock: Bool { true }

    private let lock = NSLock()
    private var client: (any RouterRequesting)?
    private var services: ServiceGroup?
    private var running: Task<Void, any Error>?

    private init(briefs: [Brief]) async throws {
        var configuration = ServerConfiguration()
        configuration.database = .sqliteInMemory
        configuration.publisherKey = Self.publisherKey
        configuration.bcryptCost = 4
        configuration.logLevel = .critical  // why: the faults make failed requests expected
        // why: the simulation purges itself (expiry), at points a replay reproduces
        configuration.purgeInterval = .seconds(365 * 24 * 3600)
        self.configuration = configuration
        store = try openStore(.sqliteInMemory)
        clock = ManualWallClock(Self.start)
        for brief in briefs {
            _ = try await store.publish(brief, now: Self.start)
        }
    }

    /// Runs `body` with a server that holds `briefs`, until it returns.
    public static func run<Value: Sendable>(
        briefs: [Brief],
        _ body: (InProcessSimulationServer) async throws -> Value
    ) async throws -> Value {
        let server = try await InProcessSimulationServer(briefs: briefs)
        try await server.host()
        do {
            let value = try await body(server)
            await server.stop()
            return value
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Builds the application, starts its services and serves it through its router until
    /// ``stop()``.
    private func host() async throws {
        let app = try await buildApplication(
            configuration: configuration,
            store: store,
            clock: clock,
            logger: Logger(label: "simulation.server")
        )
        let client = try await RouterClient(app)
        let (started, starting) = AsyncStream<Void>.makeStream()
        let services = ServiceGroup(
            configuration: .init(services: app.services + [StartedService(starting)], logger: app.logger)
        )
        let running = Task {
            defer { starting.finish() }  // why: a group that fails to start must not leave the wait below hanging
            try await services.run()
        }
        // why wait: the services (the change relay among them) must be up before the first request
        for await _ in started {}
        for process in app.processesRunBeforeServerStart {
            try await process()
        }
        lock.withLock {
            self.client = client
            self.services = services
            self.running = running
        }
    }

    private func stop() async {
        let (client, services, running) = lock.withLock {
            defer { (self.client, self.services, self.running) = (nil, nil, nil) }
            return (self.client, self.services, self.running)
        }
        await services?.triggerGracefulShutdown()
        _ = try? await running?.value
        await client?.close()
    }

    public func restart() async throws -> Bool {
        await stop()
        try await host()
        return true
    }

    public func purgeTombstones(olderThan age: Int64) async throws -> Int? {
        try await store.purgeTombstones(retractedBefore: clock.now() - age)
    }

    public func session(user: String, password: String, device: DeviceID, register: Bool) async throws -> SessionV1 {
        let credentials = try WireCoding.encoder().encode(
            CredentialsV1(username: user, password: password, deviceId: device)
        )
        return try await call(.post, register ? "/v1/accounts" : "/v1/sessions", body: credentials)
    }

    public func transport(token: String) -> any SyncTransport { RouterTransport(server: self, token: token) }

    public func topics(token: String) async throws -> [TopicStatusV1] {
        let list: TopicListV1 = try await call(.get, "/v1/topics", token: token)
        return list.topics
    }

    public func setFollowing(_ topic: TopicID, _ follow: Bool, token: String) async throws {
        _ = try await raw(follow ? .put : .delete, "/v1/topics/\(topic.rawValue)/follow", token: token)
    }

    public func publish(_ brief: Brief) async throws -> Bool {
        let result: PublishResultV1 = try await call(
            .put,
            "/v1/briefs/\(brief.id.rawValue)",
            token: Self.publisherKey,
            body: try WireCoding.encoder().encode(brief)
        )
        return result.changed
    }

    public func retract(_ id: BriefID) async throws -> Bool {
        do {
            let result: PublishResultV1 = try await call(.delete, "/v1/briefs/\(id.rawValue)", token: Self.publisherKey)
            return result.changed
        } catch let error as TransportError where error.kind == .status(404) {
            return false  // retracted and purged before the publisher's view of it caught up
        }
    }

    public func now() -> Int64 { clock.now() }

    public func advance(by milliseconds: Int64) { clock.advance(by: milliseconds) }

    // MARK: Requests

    func call<T: Decodable>(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, body: Data? = nil)
        async throws -> T
    {
        try WireCoding.decoder(unknownFields: .ignore).decode(
            T.self,
            from: try await raw(method, uri, token: token, body: body)
        )
    }

    /// The answer's body, or the ``TransportError`` a device's HTTP transport would throw.
    func raw(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, body: Data? = nil) async throws
        -> Data
    {
        guard let client = lock.withLock({ client }) else {
            throw TransportError(.unreachable, message: "simulated: the server is down")
        }
        var headers: HTTPFields = [:]
        if let token {
            headers[.authorization] = "Bearer \(token)"
        }
        let (status, fields, data) = try await client.execute(
            uri: uri,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(bytes: $0) }
        )
        if let error = Self.refusal(status: status.code, retryAfter: fields[.retryAfter], body: data) {
            throw error
        }
        return data
    }

    /// The ``TransportError`` that a device's HTTP transport makes of an answer with an error
    /// status (its body in the protocol's error shape, when it is); `nil` for a 2xx.
    public static func refusal(status: Int, retryAfter: String?, body: Data) -> TransportError? {
        guard !(200..<300).contains(status) else {
            return nil
        }
        let response = try? WireCoding.decoder().decode(ErrorResponseV1.self, from: body)
        return TransportError(
            .status(status),
            message: response?.error.message ?? "HTTP \(status)",
            response: response,
            retryAfter: retryAfter.flatMap(Int.init).map { .seconds($0) }
        )
    }
}

/// A ``SyncTransport`` into an ``InProcessSimulationServer``.
struct RouterTransport: SyncTransport {
    let server: InProcessSimulationServer
    let token: String

    func push(_ request: PushRequestV1) async throws -> PushResultV1 {
        try await server.call(.post, "/v1/read-states", token: token, body: try WireCoding.encoder().encode(request))
    }

    func changes(_ request: ChangesRequest) async throws -> ChangesPageV2 {
        // the values need no escaping: numbers, a date, a base64url token
        let query = request.queryItems.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        return try await server.call(.get, "/v1/changes?" + query, token: token)
    }

    func content(_ digest: String) async throws -> Data {
        try await server.raw(.get, "/v1/content/\(digest)", token: token)
    }
}

/// Tells ``InProcessSimulationServer/host()`` that the service group has started the services.
private struct StartedService: Service {
    let starting: AsyncStream<Void>.Continuation

    init(_ starting: AsyncStream<Void>.Continuation) {
        self.starting = starting
    }

    func run() async throws {
        starting.finish()
        try? await gracefulShutdown()
    }
}
