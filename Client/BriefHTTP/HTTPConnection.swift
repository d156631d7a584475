import BriefClient
import BriefModel
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Requests to a BriefSync server over URLSession, with the protocol header, the session token,
/// and every failure turned into a ``TransportError`` that names the host.
///
/// Certificates are always verified (URLSession's default trust evaluation; on Linux through
/// libcurl and the system's OpenSSL, which honours `SSL_CERT_FILE` for a private CA). There is no
/// switch that turns verification off.
struct HTTPConnection: Sendable {
    let baseURL: URL
    let token: String?
    let session: URLSession
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
            throw TransportError(.malformedResponse, message: "\(host) sent an answer this app cannot read.")
        }
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
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await Self.load(request, in: session)
        } catch is CancellationError {
            throw TransportError(.cancelled, message: "The request to \(host) was cancelled.")
        } catch let error as URLError {
            throw transportError(error)
        }
        guard let http = response as? HTTPURLResponse else {
            throw TransportError(.malformedResponse, message: "\(host) did not answer in HTTP.")
        }
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

    /// One request whose URLSession task is cancelled when the calling task is.
    ///
    /// FoundationNetworking's async `data(for:)` does not stop a request when the awaiting task
    /// is cancelled, so a held long-poll would keep a stopping app waiting for the whole hold.
    private static func load(_ request: URLRequest, in session: URLSession) async throws -> (Data, URLResponse) {
        let pending = PendingRequest()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let task = session.dataTask(with: request) { data, response, error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else if let response {
                        continuation.resume(returning: (data ?? Data(), response))
                    } else {
                        continuation.resume(throwing: URLError(.badServerResponse))
                    }
                }
                if pending.start(task) {
                    task.resume()
                } else {
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            pending.cancel()
        }
    }

    private func transportError(_ error: URLError) -> TransportError {
        switch error.code {
        case .timedOut:
            return TransportError(.timedOut, message: "\(host) did not answer in time.")
        case .cancelled:
            return TransportError(.cancelled, message: "The request to \(host) was cancelled.")
        case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateHasUnknownRoot,
            .serverCertificateNotYetValid, .secureConnectionFailed, .clientCertificateRejected:
            return TransportError(
                .untrustedServer,
                message: "The certificate of \(host) is not trusted (\(error.localizedDescription)). "
                    + "Name a private CA with SSL_CERT_FILE or the app's option."
            )
        default:
            return TransportError(.unreachable, message: "\(host) cannot be reached (\(error.localizedDescription)).")
        }
    }
}

/// A URLSession task that may be cancelled before or after it starts.
private final class PendingRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var task: URLSessionDataTask?
    private var cancelled = false

    /// Keeps the task for a later cancel; false when the caller was cancelled already.
    func start(_ task: URLSessionDataTask) -> Bool {
        lock.withLock {
            self.task = task
            return !cancelled
        }
    }

    func cancel() {
        let task = lock.withLock {
            cancelled = true
            return self.task
        }
        task?.cancel()
    }
}
