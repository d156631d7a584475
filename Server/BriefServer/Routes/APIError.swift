import BriefModel
import Foundation
import HTTPTypes
import Hummingbird

/// An error answer in the protocol's shape: a status, a stable code and a message for people.
/// The only way handlers fail on purpose; anything else becomes `unavailable` (503) without
/// internals in the body.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var body: ErrorResponseV1
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: ErrorCode, _ message: String, details: [ValidationIssue]? = nil)
    {
        self.status = status
        self.body = ErrorResponseV1(code: code, message: message, details: details)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.cacheControl] = "no-store"
        let data = (try? WireCoding.encoder().encode(body)) ?? Data("{}".utf8)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, .unauthorized, message)
    }

    static func validation(_ error: DocumentValidationError) -> APIError {
        var answer = APIError(.unprocessableContent, .validationFailed, "")
        answer.body = ErrorResponseV1(error)
        return answer
    }

    static func notFound(_ message: String) -> APIError {
        APIError(.notFound, .notFound, message)
    }

    /// 400 `malformed_request` for query parameters, each issue listed with its parameter.
    static func badQuery(_ issues: [ValidationIssue]) -> APIError {
        var error = APIError(.badRequest, .malformedRequest, "The query has \(issues.count) bad parameter(s).")
        error.body.error.details = issues
        return error
    }

    static func rateLimited(retryAfter seconds: Int, _ message: String) -> APIError {
        var answer = APIError(.tooManyRequests, .rateLimited, message)
        answer.body.error.retryAfterSeconds = seconds
        answer.headers[.retryAfter] = String(seconds)
        return answer
    }
}
