import BriefModel

/// A sync that did not complete, as an app shows it. Nothing local is lost in any case: the
/// outbox keeps every change until the server acknowledges it.
public struct SyncError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No network or the server is unreachable or overloaded: try again later.
        case offline
        /// The session expired or was revoked: the user must log in again.
        case loginRequired
        /// The server speaks a protocol this library does not: update the app.
        case updateRequired
        /// The server refused something for good; `message` says what.
        case rejected
        /// The server's certificate is not trusted (wrong host, expired, or signed by a CA this
        /// device does not trust); `message` names the host. Changes are kept.
        case untrustedServer
    }

    public var kind: Kind
    public var message: String
    /// When to try again, for `offline`.
    public var retryAfter: Duration?

    public var description: String { message }
}

/// What the engine does about a failed request, decided before it acts.
enum SyncAction: Equatable {
    case retry(after: Duration?)
    case tokenExpired
    case unauthorized
    case updateRequired
    case fatal

    static func resolve(_ error: TransportError) -> SyncAction {
        switch error.kind {
        case .unreachable, .timedOut, .malformedResponse:
            return .retry(after: error.retryAfter)
        case .cancelled:
            return .fatal
        case .untrustedServer:
            return .fatal
        case .status(let status):
            switch error.response?.error.code {
            case .tokenExpired?, .invalidToken?: return .tokenExpired
            case .unauthorized?: return .unauthorized
            case .unsupportedProtocol?: return .updateRequired
            default: break
            }
            if status == 401 { return .unauthorized }
            if status == 429 || status >= 500 { return .retry(after: error.retryAfter) }
            return .fatal
        }
    }
}
