import Hummingbird
import Logging
import NIOCore

/// The per-request context: Hummingbird's core, the peer's address, and once authenticated, the
/// device session.
public struct BriefRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The socket peer (the proxy, when there is one).
    public let remoteAddress: SocketAddress?
    /// The client's address: the peer's, or from `X-Forwarded-For` when the peer is a trusted proxy.
    public var clientAddress: String?
    /// The session, set by the session middleware on `/v1` routes that need one.
    public var session: SessionRecord?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The session of an authenticated route. The session middleware guarantees it.
    func requireSession() throws -> SessionRecord {
        guard let session else {
            throw APIError.unauthorized("This request needs a session: log in and send Authorization: Bearer <token>.")
        }
        return session
    }
}
