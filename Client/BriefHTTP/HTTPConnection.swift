import BriefClient
import BriefModel
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Requests to a BriefSync server, with the protocol header, the session token, and every failure
/// turned into a ``TransportError`` that names the host.
///
/// It refuses plain `http://` to a host that is not loopback unless `allowInsecureHTTP` (the
/// session token would cross the network in clear), refuses redirects (see ``URLSessionRequester``),
/// answers larger than ``HTTPLimits/maxResponseBytes``, and takes `Retry-After` up to
/// ``HTTPLimits/maxRetryAfterSeconds``.
struct HTTPConnection: Sendable {
    let baseURL: URL
    let token: String?
    let requester: any HTTPRequester
    let timeout: TimeInterval
    var allowInsecureHTTP = false

    func send<T: Decodable>(
        _ method: String,
        _ path: String,
        query: [URLQueryItem] = [],
        body: Data? = nil,
        extraTimeout: TimeInterval = 0,
        as type: T.Type
    ) async throws -> T {
        let data = try await sendRaw(method, path, query: query, body: body, extraTimeout: extraTimeout)
        do {
            return try WireCoding.decoder(unknownFields: .ignore).decode(T.self, from: data)
        } catch {
            throw unreadable()
        }
    }

    /// The error for an answer that is not what the request asks for.
    func unreadable() -> TransportError {
        TransportError(.malformedResponse, message: "\(host) sent an answer this app cannot read.")
    }

    func sendRaw(
        _ method: String,
        _ path: String,
        query: [URLQueryItem] = [],
        body: Data? = nil,
        extraTimeout: TimeInterval = 0
    ) async throws -> Data {
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)
        if !query.isEmpty {
            components?.queryItems = query
        }
        guard let url = components?.url else {
            throw TransportError(.malformedResponse, message: "\(baseURL) is not a usable server address.")
        }
        if let refusal = HTTPLimits.insecureRefusal(baseURL, allowed: allowInsecureHTTP) {
            throw refusal
        }
        var request = URLRequest(url: url, timeoutInterval: timeout + extraTimeout)
        request.httpMethod = method
        request.setValue(String(WireProtocol.version), forHTTPHeaderField: WireProtocol.header)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let token {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, http) = try await requester.data(for: request)
        guard data.count <= HTTPLimits.maxResponseBytes else {
            throw TransportError(.malformedResponse, message: "\(host) sent an answer larger than this app reads.")
        }
        if (300..<400).contains(http.statusCode) {
            let target = http.value(forHTTPHeaderField: "Location") ?? "elsewhere"
            throw TransportError(
                .status(http.statusCode),
                message: "\(host) redirects to \(target). BriefSync follows no redirect, so that the session goes "
                    + "only to the server named; use the address the server means."
            )
        }
        guard (200..<300).contains(http.statusCode) else {
            let problem = try? WireCoding.decoder(unknownFields: .ignore).decode(ErrorResponseV1.self, from: data)
            let retryAfter = http.value(forHTTPHeaderField: "Retry-After").flatMap(Int.init).map {
                Duration.seconds(min(max($0, 0), HTTPLimits.maxRetryAfterSeconds))
            }
            let message = problem?.error.message ?? "\(host) answered HTTP \(http.statusCode)."
            throw TransportError(.status(http.statusCode), message: message, response: problem, retryAfter: retryAfter)
        }
        return data
    }

    var host: String { baseURL.host ?? baseURL.absoluteString }
}

/// What the client accepts of a server.
public enum HTTPLimits {
    /// The largest answer read, in bytes (a page of changes is at most a few MiB).
    public static let maxResponseBytes = 64 << 20
    /// The longest `Retry-After` obeyed, in seconds; a longer one is taken as this.
    public static let maxRetryAfterSeconds = 3_600

    /// Why a request to `server` is refused for plain HTTP, or `nil` (https, a loopback host, or allowed).
    static func insecureRefusal(_ server: URL, allowed: Bool) -> TransportError? {
        guard server.scheme?.lowercased() == "http", !allowed, !LoopbackHost.contains(server.host ?? "") else {
            return nil
        }
        return TransportError(
            .untrustedServer,
            message: "\(server.absoluteString) is plain HTTP to another machine: the session would cross the network "
                + "unencrypted. Use https://, or allow it explicitly (brief-device: --allow-insecure-http)."
        )
    }

}
