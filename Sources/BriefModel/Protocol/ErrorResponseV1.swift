/// A stable, machine-readable error code. The set may grow, so it is a struct: switch over the
/// codes you handle and treat any other as a failure for people to read.
public struct ErrorCode: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// Creates a code from its wire name.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    /// The change token is older than the server's tombstone retention (or from another database).
    /// The device must sync again from the beginning *without* a token; a request without a token
    /// never gets this code, so a device that follows the rule cannot loop.
    public static let tokenExpired = ErrorCode(rawValue: "token_expired")
    /// The change token was not issued by this server to this user: forged, altered or foreign.
    /// Retrying with it will not help; start without a token.
    public static let invalidToken = ErrorCode(rawValue: "invalid_token")
    /// The body was read but is not a valid document; `details` lists every issue by path.
    public static let validationFailed = ErrorCode(rawValue: "validation_failed")
    /// The body is not JSON, or not the JSON the endpoint expects.
    public static let malformedRequest = ErrorCode(rawValue: "malformed_request")
    /// No valid session (or publisher key): log in again.
    public static let unauthorized = ErrorCode(rawValue: "unauthorized")
    /// Authenticated, but not allowed to do this (a user session publishing, say).
    public static let forbidden = ErrorCode(rawValue: "forbidden")
    /// No such resource, or not one of this user's.
    public static let notFound = ErrorCode(rawValue: "not_found")
    /// The path exists but not with this method.
    public static let methodNotAllowed = ErrorCode(rawValue: "method_not_allowed")
    /// A username that is taken, or a write that lost a race and can be retried.
    public static let conflict = ErrorCode(rawValue: "conflict")
    /// A push reused mutation ids that the server applied with other content, or that it can no
    /// longer tell apart from ones it applied: another copy of this device's store (a restored
    /// backup) pushed under the same incarnation. Nothing was applied; take a new incarnation and
    /// push the same mutations again (``PushRequestV1``).
    public static let incarnationConflict = ErrorCode(rawValue: "incarnation_conflict")
    /// The body is larger than the server accepts.
    public static let payloadTooLarge = ErrorCode(rawValue: "payload_too_large")
    /// Too many attempts; wait `retryAfterSeconds`.
    public static let rateLimited = ErrorCode(rawValue: "rate_limited")
    /// The request names a protocol version the server does not speak.
    public static let unsupportedProtocol = ErrorCode(rawValue: "unsupported_protocol")
    /// The server failed; the request may be retried after a pause.
    public static let unavailable = ErrorCode(rawValue: "unavailable")
}

/// The one error shape of every endpoint:
/// `{"error": {"code": "token_expired", "message": "…", "details": [{"path": "…", "reason": "…"}]}}`.
public struct ErrorResponseV1: Error, Sendable, Hashable, Codable {
    /// The error itself.
    public struct Body: Sendable, Hashable, Codable {
        /// Stable, for programs.
        public var code: ErrorCode
        /// For people: what went wrong and what to do.
        public var message: String
        /// Every issue, by field path (validation) or index (`mutations[3]`), when there are several.
        public var details: [ValidationIssue]?
        /// When to try again, for `rate_limited` and `unavailable`.
        public var retryAfterSeconds: Int?
    }

    /// The error.
    public var error: Body

    /// Creates an error response.
    public init(code: ErrorCode, message: String, details: [ValidationIssue]? = nil, retryAfterSeconds: Int? = nil) {
        error = Body(code: code, message: message, details: details, retryAfterSeconds: retryAfterSeconds)
    }

    /// The response for a document that failed validation, listing every issue.
    public init(_ validation: DocumentValidationError) {
        let count = validation.issues.count
        self.init(
            code: .validationFailed,
            message: "The document has \(count) \(count == 1 ? "issue" : "issues"); each is listed with its path.",
            details: validation.issues
        )
    }
}
