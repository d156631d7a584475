import BriefModel
import BriefStore
import Foundation

/// How the sync engine reaches the server. `HTTPSyncTransport` (BriefHTTP) is the production one;
/// tests pass one that calls the server in process and injects drops, duplicates, delays and 5xx.
/// It speaks wire types only: what the server sent, decoded, and the content plane's bytes.
///
/// ## Topics
/// - ``push(_:)``
/// - ``changes(_:)``
/// - ``content(_:)``
public protocol SyncTransport: Sendable {
    /// Sends a batch of mutations. Retrying the same batch is safe: the server applies each
    /// mutation id once.
    /// - Throws: ``TransportError``.
    func push(_ request: PushRequestV1) async throws -> PushResultV1

    /// Asks for the manifest of changes after `token` (`nil`: from the beginning), holding an
    /// empty answer up to `wait` seconds.
    /// - Throws: ``TransportError``.
    func changes(_ request: ChangesRequest) async throws -> ChangesPageV2

    /// The bytes of one brief edition by its digest (`GET /v1/content/{digest}`), uncompressed.
    /// Any cache may have answered: the store checks them against the digest
    /// (``FetchedEdition``).
    /// - Throws: ``TransportError``.
    func content(_ digest: String) async throws -> Data
}

/// What `GET /v1/changes` is asked: a page after a token (`nil`: from nothing), held up to `wait`
/// seconds when empty. `window` is the first date the device keeps (its storage budget): a
/// device starting from nothing is sent the briefs dated from it on, and its saved ones, never
/// briefs it would evict.
public struct ChangesRequest: Sendable, Hashable {
    public var since: String?
    public var limit: Int
    public var wait: Int
    public var window: CalendarDate?

    public init(since: String?, limit: Int, wait: Int = 0, window: CalendarDate? = nil) {
        self.since = since
        self.limit = limit
        self.wait = wait
        self.window = window
    }

    /// The query's parameters, in the order sent.
    public var queryItems: [(name: String, value: String)] {
        var items = [(name: "limit", value: String(limit))]
        if let since {
            items.append((name: "since", value: since))
        }
        if wait > 0 {
            items.append((name: "wait", value: String(wait)))
        }
        if let window {
            items.append((name: "window", value: window.iso))
        }
        return items
    }
}

/// Why a request did not produce an answer the engine can use.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No connection could be made (no network, server down, DNS).
        case unreachable
        /// The request was sent but no answer came in time; it may or may not have been applied.
        case timedOut
        /// The server answered with an error status.
        case status(Int)
        /// The answer could not be read.
        case malformedResponse
        /// The server's certificate was refused.
        case untrustedServer
        /// The request was cancelled by the caller.
        case cancelled
    }

    public var kind: Kind
    /// The server's error, when it sent one.
    public var response: ErrorResponseV1?
    /// How long the server asked to wait (`Retry-After`).
    public var retryAfter: Duration?
    /// For people: what happened, naming the host where it matters.
    public var message: String

    public init(_ kind: Kind, message: String, response: ErrorResponseV1? = nil, retryAfter: Duration? = nil) {
        self.kind = kind
        self.message = message
        self.response = response
        self.retryAfter = retryAfter
    }

    public var description: String { message }
}
