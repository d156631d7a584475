import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypesHTTP1
import Testing

@testable import BriefServer

/// `BriefHTTP1Channel`: Hummingbird's HTTP/1 channel, with the poll handler where it can answer
/// polls in HTTP/1 parts and a receive buffer sized for requests.
@Suite struct BriefHTTP1ChannelTests {
    @Test func thePollHandlerSitsBeforeTheCodecAndReadsStartSmall() async throws {
        let fixture = try await PollFixture()
        let polls = UpToDatePolls(environment: fixture.environment, logger: Logger(label: "test"), serverName: nil)
        let setup = BriefHTTP1Channel(
            base: HTTP1Channel(responder: { _, _, _ in }),
            polls: polls,
            headTimeout: .seconds(30),
            maxBody: 1 << 20
        )
        let channel = NIOAsyncTestingChannel()
        _ = try await channel.eventLoop.flatSubmit { setup.setup(channel: channel, logger: Logger(label: "test")) }
            .get()

        // the pipeline as it is printed, head first
        let pipeline = channel.pipeline.debugDescription
        let handler = try #require(pipeline.range(of: "UpToDatePollHandler"))
        let guardHandler = try #require(pipeline.range(of: "ConnectionGuardHandler"))
        let codec = try #require(pipeline.range(of: "HTTP1ToHTTPServerCodec"))
        let decoder = try #require(pipeline.range(of: "ByteToMessageHandler<HTTPDecoder"))
        #expect(decoder.lowerBound < guardHandler.lowerBound && guardHandler.lowerBound < handler.lowerBound)
        #expect(handler.lowerBound < codec.lowerBound, "\(pipeline)")

        let allocator = try await channel.getOption(ChannelOptions.recvAllocator).get()
        let adaptive = try #require(allocator as? AdaptiveRecvByteBufferAllocator)
        #expect(adaptive.initial == 1024 && adaptive.maximum >= 65536)
        try await channel.close()
    }
}
