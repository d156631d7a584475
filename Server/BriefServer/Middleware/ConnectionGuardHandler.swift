import BriefModel
import Foundation
import NIOCore
import NIOHTTP1

/// Guards each HTTP/1 connection against what a hostile client can hold open:
///
/// - **A request head that does not come.** From the connection's opening, and from the end of
///   each answer, the next request's head must arrive within `headTimeout`, or the connection
///   is closed. Bytes that trickle in do not extend it (a half-sent header is closed in time
///   however slowly it is sent). Once a head has arrived the timer stops, so a long-poll held
///   for a minute is not cut.
/// - **A body larger than any route takes** (`maxBody`, `--max-body`). A `Content-Length` above
///   it is answered 413 at once, without handing the request on; a chunked body is answered so
///   as soon as it passes the limit. Then the connection stops reading, half-closes and closes
///   within `lingering`, so that a client that writes its whole body before reading still gets
///   the answer, and the server reads no more of it. (Routes with smaller limits answer 413 too,
///   after reading up to their limit.)
///
/// It sits right after the HTTP/1 decoder, before the poll handler and the codec, so that it sees
/// every request head and every answer, the ones the poll handler answers too.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let headTimeout: TimeAmount
    private let maxBody: Int
    private let lingering: TimeAmount
    private var timer: Scheduled<Void>?
    /// Body bytes of the request being read.
    private var bodyBytes = 0
    /// Set once the connection is being closed: nothing more is read or handed on.
    private var refused = false

    init(headTimeout: TimeAmount, maxBody: Int, lingering: TimeAmount = .seconds(2)) {
        self.headTimeout = headTimeout
        self.maxBody = maxBody
        self.lingering = lingering
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            startWaitingForHead(context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelActive(context: ChannelHandlerContext) {
        startWaitingForHead(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else {
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            timer?.cancel()
            timer = nil
            bodyBytes = 0
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maxBody {
                refuse(context, version: head.version)
                return
            }
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
            if bodyBytes > maxBody {
                refuse(context, version: .http1_1)
                return
            }
        case .end:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        if case .end = unwrapOutboundIn(data), !refused {
            startWaitingForHead(context)
        }
    }

    // MARK: Helpers

    private func startWaitingForHead(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: headTimeout) {
            channel.close(promise: nil)
        }
    }

    /// Answers 413 and ends the connection: half-closed at once, closed after `lingering`.
    private func refuse(_ context: ChannelHandlerContext, version: HTTPVersion) {
        refused = true
        timer?.cancel()
        // the routes' own answer for a body too large, written here on the event loop
        let body = (try? WireCoding.encoder().encode(APIError.payloadTooLarge(limit: maxBody).body)) ?? Data()
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Cache-Control", value: "no-store")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .payloadTooLarge, headers: headers))),
            promise: nil
        )
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        let channel = context.channel
        // why half-close first: closing with unread input makes the kernel reset the connection,
        // and a client still writing its body would lose the answer
        channel.close(mode: .output, promise: nil)
        timer = context.eventLoop.scheduleTask(in: lingering) {
            channel.close(promise: nil)
        }
    }
}
