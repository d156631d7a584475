import BriefClient
import BriefModel
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Requests to a BriefSync server, with the protocol header, the session token, and every failure
/// turned into a ``TransportError`` that names the host.
struct HTTPConnection: Sendable {
    let baseURL: URL
    let token: String?
    let requester: any HTTPRequester
    let timeout: TimeInterval

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
        guard (200..<300).contains(http.statusCode) else {
            let problem = try? WireCoding.decoder(unknownFields: .ignore).decode(ErrorResponseV1.self, from: data)
            let retryAfter = http.value(forHTTPHeaderField: "Retry-After").flatMap(Int.init).map {
                Duration.seconds($0)
            }
            let message = problem?.error.message ?? "\(host) answered HTTP \(http.statusCode)."
            throw TransportError(.status(http.statusCode), message: message, response: problem, retryAfter: retryAfter)
        }
        return data
    }

    var host: String { baseURL.host ?? baseURL.absoluteString }
}
