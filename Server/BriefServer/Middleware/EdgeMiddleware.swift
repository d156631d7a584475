import BriefModel
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The outermost middleware: names the request, finds the client's address, checks the protocol
/// version, turns every failure into the protocol's error shape, and counts and logs the answer.
///
/// - Request id: an incoming `X-Request-Id` of 1–128 safe characters is kept, otherwise
///   Hummingbird's id is used; either way it is in every log line (`hb.request.id`) and returned.
/// - Client address: the peer's, unless the peer is a trusted proxy; then the right-most address
///   of `X-Forwarded-For` that is not itself a trusted proxy.
/// - Errors: an ``APIError`` answers as it is; Hummingbird's 404 becomes `not_found` (or
///   `method_not_allowed` when the path exists with other methods); anything unexpected becomes
///   `unavailable` (503), logged with its details, which never reach the client.
struct EdgeMiddleware: RouterMiddleware {
    typealias Context = BriefRequestContext

    static let requestIDHeader = HTTPField.Name("X-Request-Id")!
    static let forwardedForHeader = HTTPField.Name("X-Forwarded-For")!
    static let forwardedProtoHeader = HTTPField.Name("X-Forwarded-Proto")!
    static let protocolHeader = HTTPField.Name(WireProtocol.header)!

    let trustedProxies: [AddressRange]
    let metrics: ServerMetrics
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        let requestID: String
        if let incoming = request.headers[Self.requestIDHeader].flatMap(Self.safeRequestID) {
            requestID = incoming
            context.logger[metadataKey: "hb.request.id"] = .string(incoming)
        } else {
            requestID = context.id  // already in the logger's metadata
        }
        context.clientAddress = clientAddress(request, context)
        let started = ContinuousClock.now

        var response: Response
        do {
            if case .failure(let error) = WireProtocol.negotiate(request.headers[Self.protocolHeader]) {
                var answer = APIError(.badRequest, error.error.code, error.error.message)
                answer.body = error
                throw answer
            }
            response = try await next(request, context)
        } catch {
            let answer = apiError(for: error, request: request, context: context)
            metrics.error(code: answer.body.error.code.rawValue)
            response = try answer.response(from: request, context: context)
        }
        Self.finish(&response.headers, requestID: requestID)
        let route = context.endpointPath ?? "unmatched"
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        metrics.request(route: route, method: request.method.rawValue, status: response.status.code, seconds: seconds)
        Self.logAnswer(
            context.logger,
            method: request.method,
            route: route,
            status: response.status.code,
            seconds: seconds,
            clientAddress: context.clientAddress
        )
        return response
    }

    /// The headers every answer gets: its request id, the protocol version, and `private,
    /// no-store` unless the answer says otherwise.
    static func finish(_ headers: inout HTTPFields, requestID: String) {
        headers[requestIDHeader] = requestID
        headers[protocolHeader] = protocolField.value
        if headers[.cacheControl] == nil {
            headers[.cacheControl] = cacheControlField.value
        }
    }

    /// The protocol version every answer names.
    static let protocolField = HTTPField(name: protocolHeader, value: String(WireProtocol.version))
    /// The `Cache-Control` of answers that set none. Why: answers are per user; no shared cache may keep them.
    static let cacheControlField = HTTPField(name: .cacheControl, value: "private, no-store")

    /// The line every answer is logged with (info).
    static func logAnswer(
        _ logger: Logger,
        method: HTTPRequest.Method,
        route: String,
        status: Int,
        seconds: Double,
        clientAddress: String?
    ) {
        logger.info(
            "Answered request",
            metadata: [
                "http.method": "\(method)", "http.route": "\(route)", "http.status": "\(status)",
                "http.duration_ms": "\(Int(seconds * 1000))", "client.address": "\(clientAddress ?? "unknown")",
            ]
        )
    }

    private func apiError(for error: any Error, request: Request, context: Context) -> APIError {
        switch error {
        case let answer as APIError:
            return answer
        case let http as HTTPError where http.status == .notFound:
            let allowed = routes.methods(for: request.uri.path)
            if !allowed.isEmpty {
                var answer = APIError(
                    .methodNotAllowed,
                    .methodNotAllowed,
                    "\(request.uri.path) answers \(allowed.joined(separator: ", ")), not \(request.method)."
                )
                answer.headers[.allow] = allowed.joined(separator: ", ")
                return answer
            }
            return APIError.notFound(
                "There is no \(request.uri.path) here. The API is described in Schema/openapi.yaml."
            )
        case let http as HTTPError where http.status == .contentTooLarge:
            return APIError(.contentTooLarge, .payloadTooLarge, "The body is larger than this server accepts.")
        case let http as HTTPError where (400..<500).contains(http.status.code):
            return APIError(http.status, .malformedRequest, http.body ?? "The request is malformed.")
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, .payloadTooLarge, "The body is larger than this server accepts.")
        default:
            context.logger.error("Request failed", metadata: ["error": "\(String(reflecting: error))"])
            var answer = APIError(.serviceUnavailable, .unavailable, "The server could not answer; try again shortly.")
            answer.body.error.retryAfterSeconds = 1
            answer.headers[.retryAfter] = "1"
            return answer
        }
    }

    private func clientAddress(_ request: Request, _ context: Context) -> String? {
        Self.clientAddress(
            peer: context.remoteAddress?.ipAddress,
            forwardedFor: request.headers[values: Self.forwardedForHeader],
            trustedProxies: trustedProxies
        )
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy; then the right-most
    /// address of `X-Forwarded-For` that is not itself a trusted proxy.
    static func clientAddress(peer: String?, forwardedFor: [String], trustedProxies: [AddressRange]) -> String? {
        guard let peer, trustedProxies.contains(where: { $0.contains(peer) }) else {
            return peer
        }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        // why right to left: each trusted proxy appends the address it saw; the first untrusted one is the client
        return hops.last { hop in !trustedProxies.contains { $0.contains(hop) } } ?? hops.first ?? peer
    }

    /// An incoming request id, if it is 1–128 characters of letters, digits, `-`, `_` and `.`.
    static func safeRequestID(_ text: String) -> String? {
        guard (1...128).contains(text.utf8.count),
            text.utf8.allSatisfy({
                $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
            })
        else {
            return nil
        }
        return text
    }
}

/// The routes the server answers, with their methods, to tell 405 from 404.
struct RouteTable: Sendable {
    let routes: [(pattern: [String], methods: [String])]

    func methods(for path: String) -> [String] {
        let components = path.split(separator: "/").map(String.init)
        return routes.filter { route in
            route.pattern.count == components.count
                && zip(route.pattern, components).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.flatMap(\.methods)
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
