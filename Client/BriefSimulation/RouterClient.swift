import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded

/// Requests handed straight to an application's router, with no sockets: what
/// ``InProcessSimulationServer`` serves its devices through.
///
/// why not HummingbirdTesting's `.router` framework, which does the same for tests: it makes an
/// embedded NIO channel (and its event loop) for every request and never closes it, so a long
/// simulation kept about 4 KB per request: heaptrack found 80 MB of them after 20,866 requests
/// (20,000 operations), most of what a run grew by. Here every request's context shares one
/// channel, like requests on one kept-alive connection, closed when the server stops.
final class RouterClient<App: ApplicationProtocol>: RouterRequesting {
    private let responder: App.Responder
    private let channel: NIOAsyncTestingChannel
    private let logger: Logger

    init(_ app: App) async throws {
        responder = try await app.responder
        channel = NIOAsyncTestingChannel()
        logger = app.logger
    }

    /// The application's answer to one request: its status, headers and whole body.
    func execute(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?)
        async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: Data)
    {
        var headers = headers
        if let body {
            headers[.contentLength] = String(body.readableBytes)
        }
        let request = Request(
            head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: uri, headerFields: headers),
            body: RequestBody(buffer: body ?? ByteBuffer())
        )
        // each request's logger carries its id, as Hummingbird's server gives it (`context.id` reads it)
        var logger = logger
        logger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
        let context = App.Responder.Context(source: ApplicationRequestContextSource(channel: channel, logger: logger))
        let response: Response
        do {
            response = try await responder.respond(to: request, context: context)
        } catch {
            // as Hummingbird's server answers an error its router did not turn into a response
            response = Response(status: .internalServerError)
        }
        let collector = BodyCollector()
        try await response.body.write(collector)
        return (response.status, response.headers, Data(collector.bytes.readableBytesView))
    }

    /// Closes the channel the requests shared.
    func close() async {
        try? await channel.close()
    }
}

/// A ``RouterClient`` of any application.
protocol RouterRequesting: Sendable {
    func execute(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?)
        async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: Data)
    func close() async
}

/// The body of a response, as the router writes it.
private final class BodyCollector: ResponseBodyWriter, @unchecked Sendable {
    // why unchecked: a response body is written by one task, and read after it finished
    var bytes = ByteBuffer()

    func write(_ buffer: ByteBuffer) async throws {
        bytes.writeImmutableBuffer(buffer)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
