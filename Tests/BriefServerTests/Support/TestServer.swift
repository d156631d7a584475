import BriefModel
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Testing

@testable import BriefServer

/// A server on an in-memory SQLite store with a hand-moved clock, and request helpers.
struct TestServer {
    static let publisherKey = "test-publisher-key-0123456789"
    static let password = "correct horse battery"

    let store: any DeltaStore
    let clock = ManualWallClock()
    let registry = PrometheusCollectorRegistry()
    var configuration: ServerConfiguration

    init(store: (any DeltaStore)? = nil, configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        var configuration = ServerConfiguration()
        configuration.database = .sqliteInMemory
        configuration.port = 0
        configuration.publisherKey = Self.publisherKey
        configuration.bcryptCost = 4  // why: the minimum; tests check behaviour, not hashing strength
        configuration.logLevel = .warning
        configure(&configuration)
        self.configuration = configuration
        self.store = try store ?? openStore(configuration.database)
    }

    /// Runs `body` against the real application through the router test client.
    func test<Value: Sendable>(
        _ setup: TestingSetup = .router,
        logger: Logger = Logger(label: "test"),
        _ body: @escaping @Sendable (TestClient) async throws -> Value
    ) async throws -> Value {
        let app = try await buildApplication(
            configuration: configuration,
            store: store,
            clock: clock,
            registry: registry,
            logger: logger
        )
        return try await app.test(setup) { client in try await body(TestClient(client: client)) }
    }

    /// The metrics as `/metrics` shows them.
    func metricsText() -> String {
        registry.exposition
    }

    /// Long-polls held now, as the `briefsync_longpolls_held` gauge says.
    func heldCount() -> Int {
        let line = metricsText().split(separator: "\n").first { $0.hasPrefix("briefsync_longpolls_held ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
    }

    static func example(_ name: String = "brief-ai-tech-2026-06-26.json") throws -> JSONValue {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schema/examples/\(name)")
        return try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url))
    }

    /// A small valid brief in `topic`, with a title that makes each one different.
    static func brief(_ id: String, topic: String = "climate", title: String = "A title") throws -> JSONValue {
        var object = try example("brief-climate-2026-06-26.json")
        object = object.setting("id", .string(id)).setting("title", .string(title))
        return object.setting("topic", .object(["id": .string(topic), "name": .string(topic.uppercased())]))
    }
}

/// The test client with BriefSync's calls.
struct TestClient {
    let client: any TestClientProtocol

    struct Answer {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: Data

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try WireCoding.decoder(unknownFields: .ignore).decode(T.self, from: body)
        }

        var error: ErrorResponseV1.Body? { try? decode(ErrorResponseV1.self).error }
        var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: body) }
    }

    func send(
        _ method: HTTPRequest.Method,
        _ uri: String,
        token: String? = nil,
        headers: HTTPFields = [:],
        body: Data? = nil
    ) async throws -> Answer {
        var fields = headers
        if let token {
            fields[.authorization] = "Bearer \(token)"
        }
        if body != nil {
            fields[.contentType] = "application/json"
        }
        return try await client.execute(
            uri: uri,
            method: method,
            headers: fields,
            body: body.map { ByteBuffer(bytes: $0) }
        ) { response in
            Answer(status: response.status, headers: response.headers, body: Data(response.body.readableBytesView))
        }
    }

    func send(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: JSONValue) async throws
        -> Answer
    {
        try await send(method, uri, token: token, body: try JSONEncoder().encode(json))
    }

    /// Registers `user` and returns the session token of `device`.
    @discardableResult
    func register(_ user: String, device: String = "phone") async throws -> String {
        let answer = try await send(
            .post,
            "/v1/accounts",
            json: .object([
                "username": .string(user), "password": .string(TestServer.password), "deviceId": .string(device),
            ])
        )
        #expect(answer.status == .created, "register \(user): \(String(decoding: answer.body, as: UTF8.self))")
        return try answer.decode(SessionV1.self).token
    }

    func login(_ user: String, device: String, password: String = TestServer.password) async throws -> Answer {
        try await send(
            .post,
            "/v1/sessions",
            json: .object(["username": .string(user), "password": .string(password), "deviceId": .string(device)])
        )
    }

    @discardableResult
    func publish(_ brief: JSONValue) async throws -> Answer {
        guard case .string(let id)? = brief["id"] else {
            Issue.record("brief without id")
            return Answer(status: .badRequest, headers: [:], body: Data())
        }
        return try await send(.put, "/v1/briefs/\(id)", token: TestServer.publisherKey, json: brief)
    }

    func changes(_ token: String, since: String? = nil, limit: Int? = nil, wait: Int? = nil) async throws -> Answer {
        var query: [String] = []
        if let since { query.append("since=\(since)") }
        if let limit { query.append("limit=\(limit)") }
        if let wait { query.append("wait=\(wait)") }
        return try await send(
            .get,
            "/v1/changes" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")),
            token: token
        )
    }

    /// The document a manifest entry names, from the content plane.
    func content(of ref: BriefRefV2, token: String) async throws -> JSONValue {
        let answer = try await send(.get, "/v1/content/\(ref.digest ?? "none")", token: token)
        #expect(answer.status == .ok)
        return try #require(answer.json)
    }

    /// Pages through the whole feed from `since`, returning every page.
    func allPages(_ token: String, since: String? = nil, limit: Int? = nil) async throws -> [ChangesPageV2] {
        var pages: [ChangesPageV2] = []
        var since = since
        repeat {
            let answer = try await changes(token, since: since, limit: limit)
            #expect(answer.status == .ok)
            let page = try answer.decode(ChangesPageV2.self)
            pages.append(page)
            since = page.nextToken
        } while pages.last?.hasMore == true && pages.count < 1000
        return pages
    }

    func push(_ token: String, device: String = "phone", _ mutations: [MutationV1]) async throws -> Answer {
        let request = PushRequestV1(deviceID: DeviceID(rawValue: device)!, mutations: mutations)
        return try await send(.post, "/v1/read-states", token: token, body: try WireCoding.encoder().encode(request))
    }
}

extension JSONValue {
    func setting(_ key: String, _ value: JSONValue?) -> JSONValue {
        guard case .object(var members) = self else {
            return self
        }
        members[key] = value
        return .object(members)
    }
}

/// A mutation from `device` at wall time `wall`.
func mutation(_ id: UInt64, _ brief: String, _ action: ReadAction, wall: Int64, device: String = "phone") -> MutationV1
{
    MutationV1(
        id: id,
        briefID: BriefID(rawValue: brief)!,
        action: action,
        stamp: HybridTimestamp(wall: wall, device: DeviceID(rawValue: device)!)
    )
}

extension ChangesPageV2 {
    /// The briefs published or corrected (not retracted) that the page names.
    var published: [BriefRefV2] { briefs.filter { !$0.retracted } }
    /// The retractions it names.
    var retractions: [BriefRefV2] { briefs.filter(\.retracted) }
}

extension ChangeBatch {
    var published: [BriefRefV2] { briefs.filter { !$0.retracted } }
    var retractions: [BriefRefV2] { briefs.filter(\.retracted) }
}

extension PrometheusCollectorRegistry {
    /// The metrics in Prometheus' text format, as `/metrics` shows them.
    var exposition: String {
        var buffer: [UInt8] = []
        emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
