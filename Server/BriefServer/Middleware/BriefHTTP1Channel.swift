import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 channel with the ``UpToDatePollHandler`` of each connection placed
/// before the codec that turns HTTP/1 parts into swift-http-types, rather than after it (where
/// `HTTP1Channel.Configuration.additionalChannelHandlers` would put it).
///
/// The polls it answers then skip both conversions, which were 10% of such a poll's time on the
/// server (perf, BENCHMARKS.md); the requests it hands on are converted as before. Everything
/// else is `HTTP1Channel`'s own setup and handling, but for a smaller first receive buffer.
struct BriefHTTP1Channel: HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    /// `nil` with `--event-loop-polls off`: every poll goes to the routes.
    let polls: UpToDatePolls?
    let headTimeout: TimeAmount
    let maxBody: Int

    var responder: Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let polls = polls
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // why: a connection keeps its receive buffer while idle, and NIO starts it at 2 KiB;
            // 1 KiB holds a poll's request (nginx reads headers into 1 KiB too) and saves 1 KiB
            // for each held long-poll (brief-bench longpoll); it grows for larger requests
            try channel.syncOptions?.setOption(
                ChannelOptions.recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 1024, maximum: 65536)
            )
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(
                ConnectionGuardHandler(headTimeout: headTimeout, maxBody: maxBody),
                position: .before(codec)
            )
            if let polls {
                try pipeline.addHandler(polls.makeHandler(), position: .before(codec))
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 as `.http1()` serves it, with up-to-date polls answered by `polls` first (when given).
    ///
    /// - Parameters:
    ///   - headTimeout: How long a connection may take to send a request's head.
    ///   - maxBody: The largest body any route takes (see ``ConnectionGuardHandler``).
    static func http1(
        answeringUpToDatePollsWith polls: UpToDatePolls?,
        headTimeout: Duration,
        maxBody: Int
    ) -> HTTPServerBuilder {
        let timeout = TimeAmount(headTimeout)
        return HTTPServerBuilder { responder in
            BriefHTTP1Channel(
                base: HTTP1Channel(responder: responder),
                polls: polls,
                headTimeout: timeout,
                maxBody: maxBody
            )
        }
    }
}
