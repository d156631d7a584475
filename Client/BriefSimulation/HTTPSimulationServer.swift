import BriefClient
import BriefHTTP
import BriefModel
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real server over HTTP (`brief-device simulate --server URL`), SQLite or PostgreSQL, one
/// instance or several behind nginx. Its clock is its own; this one reads the same wall time.
public struct HTTPSimulationServer: SimulationServer {
    let baseURL: URL
    let requester: any HTTPRequester
    let allowInsecureHTTP: Bool
    let publisherKey: String?
    public let skew = ClockSkewPolicy()
    public var ownsClock: Bool { false }

    public init(baseURL: URL, requester: any HTTPRequester, allowInsecureHTTP: Bool, publisherKey: String?) {
        self.baseURL = baseURL
        self.requester = requester
        self.allowInsecureHTTP = allowInsecureHTTP
        self.publisherKey = publisherKey
    }

    private var client: BriefServiceClient {
        BriefServiceClient(baseURL: baseURL, requester: requester, allowInsecureHTTP: allowInsecureHTTP)
    }

    /// A session, waiting as long as the server asks when it limits sign-ins (a deployment
    /// behind the shipped nginx takes about ten a minute from one address, and every simulated
    /// phone signs in from this one), at most five times.
    public func session(user: String, password: String, device: DeviceID, register: Bool) async throws -> SessionV1 {
        var waits = 0
        while true {
            do {
                return try await signIn(user: user, password: password, device: device, register: register)
            } catch let error as TransportError where error.kind == .status(429) && waits < 5 {
                waits += 1
                try await Task.sleep(for: error.retryAfter ?? .seconds(1))
            }
        }
    }

    private func signIn(user: String, password: String, device: DeviceID, register: Bool) async throws -> SessionV1 {
        if register {
            do {
                return try await client.register(username: user, password: password, deviceID: device)
            } catch let error as TransportError where error.kind == .status(409) {
                // a replay against the same server: the user is there from the first run
            }
        }
        return try await client.login(username: user, password: password, deviceID: device)
    }

    public func transport(token: String) -> any SyncTransport {
        HTTPSyncTransport(
            baseURL: baseURL,
            sessionToken: token,
            requester: requester,
            allowInsecureHTTP: allowInsecureHTTP
        )
    }

    public func topics(token: String) async throws -> [TopicStatusV1] {
        try await client.topics(token: token)
    }

    public func setFollowing(_ topic: TopicID, _ follow: Bool, token: String) async throws {
        _ = try await client.setFollowing(topic, follow, token: token)
    }

    public func publish(_ brief: Brief) async throws -> Bool {
        try await publisher("PUT", brief.id, body: try WireCoding.encoder().encode(brief))
    }

    public func retract(_ id: BriefID) async throws -> Bool {
        try await publisher("DELETE", id, body: nil)
    }

    private func publisher(_ method: String, _ id: BriefID, body: Data?) async throws -> Bool {
        guard let publisherKey else {
            return false
        }
        var request = URLRequest(url: baseURL.appendingPathComponent("v1/briefs/\(id.rawValue)"))
        request.httpMethod = method
        request.setValue("Bearer \(publisherKey)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await requester.data(for: request)
        if method == "DELETE" && response.statusCode == 404 {
            return false  // retracted and purged before the publisher's view of it caught up
        }
        guard response.statusCode == 200 else {
            throw SimulationError("the publisher key was refused (HTTP \(response.statusCode))")
        }
        return (try? WireCoding.decoder(unknownFields: .ignore).decode(PublishResultV1.self, from: data))?.changed
            ?? true
    }

    public func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    public func advance(by milliseconds: Int64) {}

    public func purgeTombstones(olderThan age: Int64) async throws -> Int? { nil }

    public func restart() async throws -> Bool { false }
}
