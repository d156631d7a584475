import BriefClient
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The HTTP stack under ``HTTPSyncTransport`` and ``BriefServiceClient``: sends one request and
/// returns the answer, whatever its status.
///
/// Certificates are always verified: no requester has a switch that turns verification off.
/// ``URLSessionRequester`` is the default everywhere. On Linux, URLSession (libcurl) trusts only
/// the system's CA store and reads neither `SSL_CERT_FILE` nor any other per-process setting, so
/// a server with a certificate from a private CA needs `BriefHTTPNIO`'s requester, which adds
/// the CA to the system's roots.
public protocol HTTPRequester: Sendable {
    /// Sends `request`; the answer for any status.
    /// - Throws: ``TransportError`` naming the host when no answer came (unreachable, timed out,
    ///   untrusted certificate, cancelled).
    func data(for request: URLRequest) async throws -> (Data, HTTPURLResponse)
}

/// Requests over a URLSession; the calling task's cancellation cancels the request.
///
/// Redirects are not followed: BriefSync's API never redirects, and following one could carry
/// the session token to another origin or over plain HTTP. A 3xx answer comes back as it is, and
/// the transports report it. ``defaultSession`` refuses them; a session of the app's own must
/// refuse them too (its delegate's `willPerformHTTPRedirection` answering `nil`).
public struct URLSessionRequester: HTTPRequester {
    public let session: URLSession

    public init(session: URLSession = URLSessionRequester.defaultSession) {
        self.session = session
    }

    /// A session like `URLSession.shared` whose delegate refuses every redirect.
    public static let defaultSession = URLSession(
        configuration: .default,
        delegate: RedirectRefusal(),
        delegateQueue: nil
    )

    public func data(for request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        let host = request.url?.host ?? "the server"
        let pending = PendingRequest()
        do {
            let (data, response) = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation {
                    (continuation: CheckedContinuation<(Data, URLResponse), any Error>) in
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
            guard let http = response as? HTTPURLResponse else {
                throw TransportError(.malformedResponse, message: "\(host) did not answer in HTTP.")
            }
            return (data, http)
        } catch is CancellationError {
            throw TransportError(.cancelled, message: "The request to \(host) was cancelled.")
        } catch let error as TransportError {
            throw error
        } catch {
            // URLError, or the NSError of NSURLErrorDomain that FoundationNetworking sometimes gives
            let nsError = error as NSError
            guard nsError.domain == NSURLErrorDomain else {
                throw TransportError(.unreachable, message: "\(host) cannot be reached (\(error)).")
            }
            throw Self.transportError(
                URLError.Code(rawValue: nsError.code) ?? .unknown,
                reason: nsError.localizedDescription,
                host: host
            )
        }
    }

    static func transportError(_ code: URLError.Code, reason: String, host: String) -> TransportError {
        switch code {
        case .timedOut:
            return TransportError(.timedOut, message: "\(host) did not answer in time.")
        case .cancelled:
            return TransportError(.cancelled, message: "The request to \(host) was cancelled.")
        case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateHasUnknownRoot,
            .serverCertificateNotYetValid, .secureConnectionFailed, .clientCertificateRejected:
            return untrusted(host: host, reason: reason)
        default:
            // why: on Linux, libcurl's TLS failures arrive as code -1 ("unknown") with its own text
            if reason.contains("SSL") || reason.contains("certificate") {
                return untrusted(host: host, reason: reason)
            }
            return TransportError(.unreachable, message: "\(host) cannot be reached (\(reason)).")
        }
    }

    static func untrusted(host: String, reason: String) -> TransportError {
        TransportError(
            .untrustedServer,
            message: "The certificate of \(host) is not trusted (\(reason)). If the server uses a private CA, "
                + "trust it (brief-device: --ca-file PATH or SSL_CERT_FILE)."
        )
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

/// Refuses every redirect, so that the 3xx answer itself reaches the transport.
final class RedirectRefusal: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
