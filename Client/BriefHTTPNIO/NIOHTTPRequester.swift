import AsyncHTTPClient
import BriefClient
import BriefHTTP
import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOSSL

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Requests over AsyncHTTPClient (SwiftNIO and BoringSSL), for Linux programs that must trust a
/// private CA: URLSession there trusts only the system's store.
///
/// The CA is *added* to the system's roots; verification of the chain and of the host name stays
/// on, and there is no option to turn it off.
public final class NIOHTTPRequester: HTTPRequester {
    private let client: HTTPClient

    /// - Parameter additionalCAFile: A PEM file of CA certificates to trust besides the system's.
    /// - Throws: When the file cannot be read as PEM certificates.
    public init(additionalCAFile: String?) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let additionalCAFile {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(additionalCAFile)
                guard !certificates.isEmpty else {
                    throw TransportError(.untrustedServer, message: "\(additionalCAFile) holds no PEM certificate.")
                }
                tls.additionalTrustRoots = [.certificates(certificates)]
            } catch let error as TransportError {
                throw error
            } catch {
                throw TransportError(
                    .untrustedServer,
                    message: "The CA file \(additionalCAFile) cannot be read as PEM certificates (\(error))."
                )
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.httpVersion = .automatic
        // why: a redirect could carry the session token to another origin or over plain HTTP;
        // the 3xx answer comes back as it is and the transport reports it (as URLSessionRequester)
        configuration.redirectConfiguration = .disallow
        // why: an untrusted certificate does not fix itself; retried, it is reported only when the
        // connect timeout runs out (10 s), and the sync engine has its own backoff anyway
        configuration.connectionPool.retryConnectionEstablishment = false
        // Ask for gzip and undo it, as URLSession does: content is served as compressed at
        // publish. Bounded, so that a small answer cannot unpack into an unbounded one.
        configuration.decompression = .enabled(limit: .size(HTTPLimits.maxResponseBytes))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes the connections; call once when done.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    public func data(for request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        guard let url = request.url else {
            throw TransportError(.malformedResponse, message: "A request without a URL.")
        }
        let host = url.host ?? url.absoluteString
        var outgoing = HTTPClientRequest(url: url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.httpMethod ?? "GET")
        for (name, value) in request.allHTTPHeaderFields ?? [:] {
            outgoing.headers.add(name: name, value: value)
        }
        if let body = request.httpBody {
            outgoing.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(
                outgoing,
                timeout: .milliseconds(Int64(request.timeoutInterval * 1000))
            )
            // why a cap: a server (or anything posing as one) must not make the device buffer without end
            let body = try await response.body.collect(upTo: HTTPLimits.maxResponseBytes)
            var fields: [String: String] = [:]
            for header in response.headers {
                fields[header.name] = fields[header.name].map { "\($0), \(header.value)" } ?? header.value
            }
            guard
                let http = HTTPURLResponse(
                    url: url,
                    statusCode: Int(response.status.code),
                    httpVersion: "HTTP/\(response.version.major).\(response.version.minor)",
                    headerFields: fields
                )
            else {
                throw TransportError(.malformedResponse, message: "\(host) did not answer in HTTP.")
            }
            return (Data(body.readableBytesView), http)
        } catch let error as TransportError {
            throw error
        } catch {
            throw Self.transportError(error, host: host)
        }
    }

    static func transportError(_ error: any Error, host: String) -> TransportError {
        if Task.isCancelled || error is CancellationError {
            return TransportError(.cancelled, message: "The request to \(host) was cancelled.")
        }
        if let error = error as? HTTPClientError,
            error == .deadlineExceeded || error == .readTimeout
                || error == .connectTimeout
        {
            return TransportError(.timedOut, message: "\(host) did not answer in time.")
        }
        let text = String(describing: error)
        if error is NIOSSLError || error is NIOSSLExtraError || text.contains("CERTIFICATE")
            || text.contains("certificate") || text.contains("handshake")
        {
            return TransportError(
                .untrustedServer,
                message: "The certificate of \(host) is not trusted (\(text)). If the server uses a private CA, "
                    + "trust it (brief-device: --ca-file PATH or SSL_CERT_FILE)."
            )
        }
        return TransportError(.unreachable, message: "\(host) cannot be reached (\(text)).")
    }
}
